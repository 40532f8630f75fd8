import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { errorChain } from "@plinth/errors";
import { HttpClientError } from "./mod.ts";
import { createOpenAIClient, openAIRetryAfter, type Usage } from "./openai.ts";
import { REPLY, sseBody, startOpenAIServer, USAGE } from "./_openai_test_server.ts";
import { eventually, memoryLogger, SOCKET_GRACE } from "./_test_server.ts";

const messages = [{ role: "user" as const, content: "Hi" }];

async function setup() {
  const server = await startOpenAIServer();
  const baseUrl = `${server.url}v1`;
  const plinth = createOpenAIClient({
    baseUrl,
    apiKey: "sk-plinth",
    organization: "org-1",
    retry: { attempts: 3, base: 1, max: 5 },
    idleTimeout: 300,
  });
  const sdk = new OpenAI({ baseURL: baseUrl, apiKey: "sk-plinth", maxRetries: 0 });
  return { server, plinth, sdk, [Symbol.asyncDispose]: () => server.close() };
}

test("chat.completions.create() reads a completion as the official SDK does", async () => {
  await using t = await setup();
  const ours = await t.plinth.chat.completions.create({ model: "echo", messages });
  const theirs = await t.sdk.chat.completions.create({ model: "echo", messages });
  assert.equal(ours.choices[0]!.message.content, REPLY);
  assert.equal(ours.choices[0]!.message.content, theirs.choices[0]!.message.content);
  assert.deepEqual(ours.usage, USAGE);
  assert.deepEqual(ours.usage, theirs.usage);
  const headers = t.server.seen[0]!.headers;
  assert.equal(headers.authorization, "Bearer sk-plinth");
  assert.equal(headers["openai-organization"], "org-1");
  assert.equal(headers["content-type"], "application/json");
});

for (const split of [1, 3, 7, 64, 100_000]) {
  test(`chat.completions.create({ stream: true }) matches the SDK with writes of ${split} bytes`, {
    timeout: 20_000,
  }, async () => {
    await using t = await setup();
    const model = `split:${split}`;
    const stream = await t.plinth.chat.completions.create({ model, messages, stream: true });
    let ours = "";
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      ours += chunk.choices[0]?.delta.content ?? "";
    }
    const sdkStream = await t.sdk.chat.completions.create({
      model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let theirs = "";
    let sdkChunks = 0;
    let sdkUsage: unknown;
    for await (const chunk of sdkStream) {
      sdkChunks++;
      theirs += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) sdkUsage = chunk.usage;
    }
    assert.equal(ours, REPLY);
    assert.equal(ours, theirs);
    assert.equal(chunks, sdkChunks);
    assert.deepEqual(stream.usage, USAGE);
    assert.deepEqual(stream.usage, sdkUsage);
    // include_usage was asked for without the caller saying so.
    assert.deepEqual(JSON.parse(t.server.seen[0]!.body).stream_options, { include_usage: true });
  });
}

test("an OpenAI error body becomes an HttpClientError with the upstream's code, as the SDK reads it", async () => {
  await using t = await setup();
  const sdkError = await t.sdk.chat.completions.create({ model: "bad", messages }).catch((e) => e);
  assert.ok(sdkError instanceof OpenAI.APIError);
  await assert.rejects(t.plinth.chat.completions.create({ model: "bad", messages }), (e) => {
    assert.ok(e instanceof HttpClientError);
    assert.equal(e.code, "upstream_rejected");
    assert.equal(e.upstreamStatus, sdkError.status);
    assert.equal(e.upstreamCode, sdkError.code);
    const cause = errorChain(e)[1] as Error & {
      problem: { error: { param: string; type: string } };
    };
    assert.equal(cause.message, sdkError.error.message);
    assert.equal(cause.problem.error.param, sdkError.param);
    assert.equal(cause.problem.error.type, sdkError.type);
    assert.doesNotMatch(e.message, /sk-plinth/);
    return true;
  });
  assert.equal(t.server.hits.get("/v1/chat/completions"), 2);
});

test("insufficient_quota is never retried (the SDK would retry it)", async () => {
  await using t = await setup();
  await assert.rejects(
    t.plinth.chat.completions.create({ model: "quota", messages }, {
      headers: { "idempotency-key": "k" },
    }),
    (e) => e instanceof HttpClientError && e.code === "upstream_quota_exceeded" && e.status === 503,
  );
  assert.equal(t.server.hits.get("/v1/chat/completions"), 1);
  const sdk = new OpenAI({ baseURL: `${t.server.url}v1`, apiKey: "k", maxRetries: 1 });
  const sdkError = await sdk.chat.completions.create({ model: "quota", messages }).catch((e) => e);
  assert.equal(sdkError.code, "insufficient_quota");
  assert.equal(t.server.hits.get("/v1/chat/completions"), 3); // the SDK tried twice
});

test("rate_limit_exceeded waits for x-ratelimit-reset-requests, logged at debug", async () => {
  await using server = await startOpenAIServer().then((s) =>
    Object.assign(s, { [Symbol.asyncDispose]: () => s.close() })
  );
  const logger = memoryLogger();
  const client = createOpenAIClient({
    baseUrl: `${server.url}v1/`,
    apiKey: "k",
    logger,
    retry: { attempts: 2, base: 1, max: 1 },
  });
  const start = performance.now();
  const completion = await client.chat.completions.create(
    { model: "limited", messages },
    { headers: { "idempotency-key": "abc" } },
  );
  assert.ok(performance.now() - start >= 290);
  assert.equal(completion.choices[0]!.message.content, REPLY);
  assert.equal(logger.lines[0]!.fields!.delay, 300);
  assert.equal(logger.lines[0]!.fields!.reason, "status 429");
  // Without an idempotency key a completion is a plain POST: one attempt.
  await assert.rejects(
    client.chat.completions.create({ model: "limited", messages }),
    (e) =>
      e instanceof HttpClientError && e.code === "upstream_rate_limited" &&
      e.upstreamCode === "rate_limit_exceeded",
  );
});

test("openAIRetryAfter() prefers retry-after-ms, then the longest exhausted reset", () => {
  const r = (h: Record<string, string>) => new Response(null, { status: 429, headers: h });
  assert.equal(openAIRetryAfter(r({ "retry-after-ms": "250", "retry-after": "9" }), 0), 250);
  assert.equal(
    openAIRetryAfter(
      r({
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1m2.5s",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "20ms",
      }),
      0,
    ),
    62_500,
  );
  assert.equal(
    openAIRetryAfter(
      r({ "x-ratelimit-remaining-tokens": "5", "x-ratelimit-reset-tokens": "1s" }),
      0,
    ),
    undefined,
  );
  assert.equal(
    openAIRetryAfter(
      r({ "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "soon" }),
      0,
    ),
    undefined,
  );
});

test("an error sent mid-stream is thrown as the SDK throws it", async () => {
  await using t = await setup();
  const seen: string[] = [];
  const stream = await t.plinth.chat.completions.create({
    model: "midstream",
    messages,
    stream: true,
  });
  await assert.rejects(
    async () => {
      for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? "");
    },
    (e) =>
      e instanceof HttpClientError && e.code === "upstream_error" &&
      e.upstreamCode === "overloaded",
  );
  assert.deepEqual(seen, ["Hel"]);
  const sdkStream = await t.sdk.chat.completions.create({
    model: "midstream",
    messages,
    stream: true,
  });
  const sdkError = await (async () => {
    for await (const _ of sdkStream) { /* read */ }
  })().catch((e) => e);
  assert.ok(sdkError instanceof OpenAI.APIError);
  assert.equal(sdkError.message, "The server had an error");
});

test("a stalled stream ends with upstream_timeout after idleTimeout and closes the socket", {
  timeout: 10_000,
}, async () => {
  await using t = await setup();
  const stream = await t.plinth.chat.completions.create({ model: "stall", messages, stream: true });
  const start = performance.now();
  await assert.rejects(async () => {
    for await (const _ of stream) { /* read */ }
  }, (e) => e instanceof HttpClientError && e.code === "upstream_timeout" && e.status === 504);
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 250 && elapsed < 1500, `took ${elapsed} ms`);
  await eventually(() => t.server.openSockets() === 0, SOCKET_GRACE);
});

test("leaving the loop early aborts the upstream request", { timeout: 20_000 }, async () => {
  await using t = await setup();
  const stream = await t.plinth.chat.completions.create({ model: "stall", messages, stream: true });
  for await (const _ of stream) break;
  await eventually(() => t.server.openSockets() === 0, SOCKET_GRACE);
  // close() on a stream never read does the same.
  const unread = await t.plinth.chat.completions.create({ model: "stall", messages, stream: true });
  await unread.close();
  await eventually(() => t.server.openSockets() === 0, SOCKET_GRACE);
});

test(
  "the caller's abort ends a stream with the abort's own reason",
  { timeout: 20_000 },
  async () => {
    await using t = await setup();
    const controller = new AbortController();
    const stream = await t.plinth.chat.completions.create(
      { model: "stall", messages, stream: true },
      { signal: controller.signal },
    );
    const reason = new Error("client went away");
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(async () => {
      for await (const _ of stream) { /* read */ }
    }, (e) => e === reason);
    await eventually(() => t.server.openSockets() === 0, SOCKET_GRACE);
  },
);

test("embeddings.create() and models.list() read what the SDK reads", async () => {
  await using t = await setup();
  const ours = await t.plinth.embeddings.create({ model: "e", input: "hi" });
  const theirs = await t.sdk.embeddings.create({
    model: "e",
    input: "hi",
    encoding_format: "float",
  });
  assert.deepEqual(ours.data[0]!.embedding, theirs.data[0]!.embedding);
  assert.deepEqual(ours.usage, { prompt_tokens: 4, completion_tokens: 0, total_tokens: 4 });
  assert.equal(ours.usage.total_tokens, theirs.usage.total_tokens);
  const models = await t.plinth.models.list();
  const sdkModels: string[] = [];
  for await (const m of t.sdk.models.list()) sdkModels.push(m.id);
  assert.deepEqual(models.map((m) => m.id), sdkModels);
});

test("proxy() swaps the key, filters headers, streams both ways and reports usage", {
  timeout: 10_000,
}, async () => {
  await using t = await setup();
  const usages: Usage[] = [];
  const incoming = new Request("http://router.local/v1/chat/completions", {
    method: "POST",
    headers: {
      authorization: "Bearer client-key",
      cookie: "session=1",
      connection: "keep-alive, x-hop",
      "x-hop": "1",
      "content-type": "application/json",
      "x-custom": "kept",
    },
    body: JSON.stringify({
      model: "split:5",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  const res = await t.plinth.proxy(incoming, { onUsage: (u) => usages.push(u) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  assert.equal(await res.text(), sseBody(true));
  assert.deepEqual(usages, [USAGE]);
  const headers = t.server.seen[0]!.headers;
  assert.equal(headers.authorization, "Bearer sk-plinth");
  assert.equal(headers.cookie, undefined);
  assert.equal(headers["x-hop"], undefined);
  assert.equal(headers["x-custom"], "kept");
  // Upstream errors pass through as they are; non-streaming usage is read too.
  const bad = await t.plinth.proxy(
    new Request("http://router.local/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: "bad", messages }),
    }),
  );
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, "invalid_value");
  const whole = await t.plinth.proxy(
    new Request("http://router.local/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: "echo", messages }),
    }),
    { onUsage: (u) => usages.push(u) },
  );
  assert.equal((await whole.json()).choices[0].message.content, REPLY);
  assert.deepEqual(usages, [USAGE, USAGE]);
});

test("createOpenAIClient() checks its options, never echoing the key", async () => {
  assert.throws(() => createOpenAIClient({} as never), { name: "TypeError", message: /"apiKey"/ });
  assert.throws(
    () => createOpenAIClient({ apiKey: "k", organization: 1 as never }),
    /"organization"/,
  );
  assert.throws(() => createOpenAIClient({ apiKey: "sk-x", idleTimeout: 0 }), (e: Error) => {
    assert.match(e.message, /"idleTimeout"/);
    return !e.message.includes("sk-x");
  });
  const client = createOpenAIClient({ apiKey: "k" });
  assert.equal(client.baseUrl, "https://api.openai.com/v1/");
  await assert.rejects(client.chat.completions.create({} as never), TypeError);
  await assert.rejects(client.proxy({} as never), TypeError);
});
