import { test } from "node:test";
import assert from "node:assert/strict";
import { errorChain } from "@plinth/errors";
import { withRequestId } from "@plinth/logging";
import { parseTraceparent, withSpan } from "@plinth/tracing";
import { z } from "zod";
import { createHttpClient, HttpClientError } from "./mod.ts";
import { eventually, memoryLogger, SOCKET_GRACE, startServer } from "./_test_server.ts";

const fast = { attempts: 3, base: 1, max: 5 };

function isCode(code: string, check?: (e: HttpClientError) => void) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof HttpClientError, `expected HttpClientError, got ${error}`);
    assert.equal(error.code, code);
    check?.(error);
    return true;
  };
}

test("createHttpClient() retries a GET on 503 and logs each retry at debug", async () => {
  await using server = await serverClosing((_req, res, _b, hit) => {
    if (hit < 3) {
      res.statusCode = 503;
      res.end("busy");
    } else res.end("done");
  });
  const logger = memoryLogger();
  const client = createHttpClient({ baseUrl: server.url, retry: fast, logger });
  const res = await client.get("a");
  assert.equal(await res.text(), "done");
  assert.equal(server.hits.get("/a"), 3);
  assert.equal(logger.lines.length, 2);
  assert.equal(logger.lines[0]!.level, "debug");
  assert.deepEqual(Object.keys(logger.lines[0]!.fields!).sort(), [
    "attempt",
    "delay",
    "method",
    "path",
    "reason",
    "upstream",
  ]);
  assert.equal(logger.lines[0]!.fields!.attempt, 2);
  assert.equal(logger.lines[1]!.fields!.reason, "status 503");
});

test("createHttpClient() retries exactly 408, 429, 502, 503, 504 and no other status", async () => {
  await using server = await serverClosing((req, res) => {
    res.statusCode = Number(req.url!.slice(1));
    res.end(JSON.stringify({ detail: "nope" }));
  });
  const client = createHttpClient({ baseUrl: server.url, retry: fast });
  const retried = [408, 429, 502, 503, 504];
  for (const status of [400, 401, 403, 404, 409, 410, 422, 500, 501, 505, ...retried]) {
    await assert.rejects(client.get(String(status)), HttpClientError);
    const expected = retried.includes(status) ? 3 : 1;
    assert.equal(server.hits.get(`/${status}`), expected, `status ${status}`);
  }
});

test("createHttpClient() retries POST and PATCH only with an Idempotency-Key, PUT and DELETE always", async () => {
  await using server = await serverClosing((_req, res) => {
    res.statusCode = 502;
    res.end();
  });
  const client = createHttpClient({ baseUrl: server.url, retry: fast });
  await assert.rejects(client.post("post", { json: { a: 1 } }), isCode("upstream_error"));
  await assert.rejects(client.patch("patch", { json: {} }), isCode("upstream_error"));
  await assert.rejects(
    client.post("keyed", { json: {}, headers: { "Idempotency-Key": "k1" } }),
    isCode("upstream_error", (e) => assert.equal(e.attempts, 3)),
  );
  await assert.rejects(client.put("put", { body: "x" }), HttpClientError);
  await assert.rejects(client.delete("delete"), HttpClientError);
  assert.deepEqual(Object.fromEntries(server.hits), {
    "/post": 1,
    "/patch": 1,
    "/keyed": 3,
    "/put": 3,
    "/delete": 3,
  });
  const keyed = server.seen.filter((s) => s.path === "/keyed");
  assert.ok(keyed.every((s) => s.body === "{}" && s.headers["idempotency-key"] === "k1"));
});

test("createHttpClient() never retries a streamed body", async () => {
  await using server = await serverClosing((_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const client = createHttpClient({ baseUrl: server.url, retry: fast });
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode("streamed"));
      c.close();
    },
  });
  await assert.rejects(
    client.put("s", { body, headers: { "idempotency-key": "k" } }),
    isCode("upstream_error"),
  );
  assert.equal(server.hits.get("/s"), 1);
  assert.equal(server.seen[0]!.body, "streamed");
});

test("createHttpClient() does not retry a 429 whose body says insufficient_quota", async () => {
  await using server = await serverClosing((_req, res) => {
    res.statusCode = 429;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({
      error: {
        message: "You exceeded your quota",
        type: "insufficient_quota",
        code: "insufficient_quota",
      },
    }));
  });
  const client = createHttpClient({ baseUrl: server.url, retry: fast });
  await assert.rejects(
    client.get("q"),
    isCode("upstream_quota_exceeded", (e) => {
      assert.equal(e.status, 503);
      assert.equal(e.upstreamCode, "insufficient_quota");
      assert.equal(e.upstreamStatus, 429);
    }),
  );
  assert.equal(server.hits.get("/q"), 1);
  // With throwHttpErrors: false the caller gets the 429 itself, body intact.
  const res = await client.get("q", { throwHttpErrors: false });
  assert.equal(res.status, 429);
  assert.equal((await res.json()).error.code, "insufficient_quota");
  assert.equal(server.hits.get("/q"), 2);
});

test(
  "createHttpClient() waits what Retry-After asks (seconds and HTTP date)",
  { timeout: 10_000 },
  async () => {
    await using server = await serverClosing((req, res, _b, hit) => {
      if (hit === 1) {
        res.statusCode = 503;
        res.setHeader(
          "retry-after",
          req.url === "/date" ? new Date(Date.now() + 1500).toUTCString() : "1",
        );
        res.end();
      } else res.end("ok");
    });
    const client = createHttpClient({
      baseUrl: server.url,
      retry: { attempts: 2, base: 1, max: 1 },
    });
    let start = performance.now();
    await client.get("seconds").then((r) => r.text());
    const seconds = performance.now() - start;
    assert.ok(seconds >= 950 && seconds < 1500, `waited ${seconds} ms`);
    start = performance.now();
    await client.get("date").then((r) => r.text());
    const date = performance.now() - start;
    // An HTTP date has whole seconds: the wait is between 0.5 and 1.5 s.
    assert.ok(date >= 400 && date < 1700, `waited ${date} ms`);
  },
);

test("createHttpClient() fails at once when Retry-After is beyond the total timeout", async () => {
  await using server = await serverClosing((_req, res) => {
    res.statusCode = 429;
    res.setHeader("retry-after", "120");
    res.end();
  });
  const client = createHttpClient({ baseUrl: server.url, totalTimeout: 2000, retry: fast });
  const start = performance.now();
  await assert.rejects(client.get("r"), isCode("upstream_rate_limited"));
  assert.ok(performance.now() - start < 500);
  assert.equal(server.hits.get("/r"), 1);
});

test("createHttpClient() clamps a Retry-After to the time left and keeps the jitter in bounds", async () => {
  const delays: number[] = [];
  const logger = memoryLogger();
  let calls = 0;
  const fetch = () => {
    calls++;
    return Promise.resolve(new Response(null, { status: 503 }));
  };
  let clock = 0;
  const client = createHttpClient({
    baseUrl: "http://x.test/",
    fetch,
    logger,
    now: () => clock,
    totalTimeout: 10_000,
    retry: { attempts: 6, base: 10, max: 100, random: () => 0.999 },
  });
  await assert.rejects(client.get("j"), isCode("upstream_error"));
  for (const line of logger.lines) delays.push(line.fields!.delay as number);
  // Full jitter: random() × min(max, base × 2^(n−1)), here just under the cap.
  assert.deepEqual(delays, [9, 19, 39, 79, 99]);
  assert.equal(calls, 6);
  // With a zero random, no wait at all.
  logger.lines.length = 0;
  const eager = createHttpClient({
    baseUrl: "http://x.test/",
    fetch,
    logger,
    retry: { attempts: 3, random: () => 0 },
  });
  await assert.rejects(eager.get("j"), HttpClientError);
  assert.deepEqual(logger.lines.map((l) => l.fields!.delay), [0, 0]);
  // Retry-After of 5 s with 3 s left: clamped, so the call gives up instead of sleeping past it.
  clock = 0;
  const clamped = createHttpClient({
    baseUrl: "http://x.test/",
    fetch: () =>
      Promise.resolve(new Response(null, { status: 503, headers: { "retry-after": "5" } })),
    now: () => (clock += 1000),
    totalTimeout: 4000,
    retry: fast,
  });
  await assert.rejects(
    clamped.get("c"),
    isCode("upstream_error", (e) => assert.equal(e.attempts, 1)),
  );
});

test("createHttpClient() times out each attempt and the whole call, leaving no socket open", {
  timeout: 10_000,
}, async () => {
  await using server = await serverClosing(() => {}); // never answers
  const client = createHttpClient({
    baseUrl: server.url,
    timeout: 150,
    totalTimeout: 500,
    retry: { attempts: 10, base: 1, max: 5 },
  });
  const start = performance.now();
  await assert.rejects(
    client.get("stall"),
    isCode("upstream_timeout", (e) => {
      assert.equal(e.status, 504);
      assert.match(e.message, /totalTimeout/);
    }),
  );
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 450 && elapsed < 800, `took ${elapsed} ms`);
  assert.ok(server.hits.get("/stall")! >= 3);
  await eventually(() => server.openSockets() === 0, SOCKET_GRACE);
});

test("createHttpClient() re-throws the caller's abort as it is and closes the socket", {
  timeout: 15_000,
}, async () => {
  await using server = await serverClosing(() => {});
  const client = createHttpClient({ baseUrl: server.url, retry: fast });
  const controller = new AbortController();
  const reason = new Error("caller gave up");
  setTimeout(() => controller.abort(reason), 100);
  await assert.rejects(client.get("a", { signal: controller.signal }), (e) => e === reason);
  await eventually(() => server.openSockets() === 0, SOCKET_GRACE);
  // An already aborted signal sends nothing.
  await assert.rejects(client.get("b", { signal: AbortSignal.abort(reason) }), (e) => e === reason);
  assert.equal(server.hits.get("/b"), undefined);
});

test("createHttpClient() cancels the bodies of the responses it retries: no socket left", {
  timeout: 15_000,
}, async () => {
  await using server = await serverClosing((_req, res, _b, hit) => {
    if (hit < 3) {
      res.statusCode = 503;
      res.end("x".repeat(1_000_000)); // far over the 64 KiB the client reads of an error
    } else {
      res.setHeader("connection", "close");
      res.end("ok");
    }
  });
  const client = createHttpClient({ baseUrl: server.url, retry: fast });
  assert.equal(await (await client.get("big")).text(), "ok");
  assert.equal(server.hits.get("/big"), 3);
  // A body left unread holds its socket until the server's keep-alive timeout (5 s; closed after
  // about 6 s here). Cancelled, it closes at once (Node 20's undici: within about 3 s).
  await eventually(() => server.openSockets() === 0, 4500);
});

test("createHttpClient() turns a refused connection into upstream_unreachable, retried", async () => {
  const server = await startServerClosed();
  const client = createHttpClient({ baseUrl: server, retry: fast });
  await assert.rejects(
    client.get("x"),
    isCode("upstream_unreachable", (e) => {
      assert.equal(e.status, 502);
      assert.equal(e.attempts, 3);
      const chain = errorChain(e);
      assert.ok(chain.length >= 2);
      assert.ok(chain[1] instanceof Error);
    }),
  );
});

test("createHttpClient() keeps the upstream's problem as the cause of upstream_error", async () => {
  await using server = await serverClosing((_req, res) => {
    res.statusCode = 500;
    res.setHeader("content-type", "application/problem+json");
    res.end(JSON.stringify({ title: "Database down", status: 500, code: "db_down" }));
  });
  const client = createHttpClient({ baseUrl: server.url, retry: fast });
  await assert.rejects(
    client.get("p"),
    isCode("upstream_error", (e) => {
      assert.equal(e.upstreamStatus, 500);
      assert.equal(e.upstreamCode, "db_down");
      assert.equal(e.upstream, new URL(server.url).host);
      const cause = errorChain(e)[1] as Error & { status: number; problem: unknown };
      assert.equal(cause.message, "Database down");
      assert.equal(cause.status, 500);
      assert.deepEqual(cause.problem, { title: "Database down", status: 500, code: "db_down" });
      assert.equal(e.toProblem().status, 502);
    }),
  );
  // throwHttpErrors: false hands back the response instead.
  const res = await client.get("p", { throwHttpErrors: false, retry: false });
  assert.equal(res.status, 500);
  assert.equal((await res.json()).code, "db_down");
});

test("json(schema) validates with zod and names the upstream and the field, not the value", async () => {
  await using server = await serverClosing((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ id: "acme", members: [{ email: "SECRET-VALUE" }] }));
  });
  const client = createHttpClient({ baseUrl: server.url });
  const Org = z.object({ id: z.string(), members: z.array(z.object({ email: z.number() })) });
  await assert.rejects(
    client.json(Org).get("orgs/acme"),
    isCode("upstream_invalid_response", (e) => {
      assert.match(e.message, /GET 127\.0\.0\.1:\d+\/orgs\/acme/);
      assert.match(e.message, /field \/members\/0\/email is invalid_type \(expected number\)/);
      assert.doesNotMatch(JSON.stringify({ ...e.toProblem(), m: e.message }), /SECRET/);
    }),
  );
  const ok = z.object({ id: z.string() });
  assert.deepEqual(await client.json(ok).get("orgs/acme"), { id: "acme" });
  assert.equal(server.seen.at(-1)!.headers.accept, "application/json");
});

test("json() caps the body at maxResponseSize and refuses a body that is not JSON", {
  timeout: 15_000,
}, async () => {
  await using server = await serverClosing((req, res) => {
    if (req.url === "/big") {
      res.write("[" + "1,".repeat(5000));
      res.end("1]");
    } else res.end("<html>");
  });
  const client = createHttpClient({ baseUrl: server.url, maxResponseSize: 1000 });
  const any = { safeParse: (data: unknown) => ({ success: true as const, data }) };
  await assert.rejects(client.json(any).get("big"), isCode("upstream_response_too_large"));
  await assert.rejects(client.json(any).get("html"), isCode("upstream_invalid_response"));
  await eventually(() => server.openSockets() === 0, SOCKET_GRACE);
});

test("createHttpClient() sends X-Request-Id and traceparent from the context", async () => {
  await using server = await serverClosing((_req, res) => res.end());
  const client = createHttpClient({ baseUrl: server.url, headers: { "user-agent": "t/1" } });
  const traceId = await withRequestId("req-42", () =>
    withSpan("outer", async (span) => {
      await (await client.get("t")).arrayBuffer();
      return span.traceId;
    }));
  const headers = server.seen[0]!.headers;
  assert.equal(headers["x-request-id"], "req-42");
  assert.equal(headers["user-agent"], "t/1");
  assert.match(String(headers.traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  // A request's own id wins.
  await withRequestId("req-1", async () => {
    await (await client.get("t", { headers: { "x-request-id": "mine" } })).arrayBuffer();
  });
  assert.equal(server.seen[1]!.headers["x-request-id"], "mine");
});

test("without an SDK each attempt gets its own span id under the caller's trace, tracestate kept", async () => {
  await using server = await serverClosing((_req, res, _b, hit) => {
    res.statusCode = hit % 3 === 0 ? 200 : 503;
    res.end();
  });
  const client = createHttpClient({ baseUrl: server.url, retry: fast });
  const parent = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")!;
  const callerSpan = await withSpan("handler", async (span) => {
    await (await client.get("a")).arrayBuffer();
    return span.spanId;
  }, { parent: { ...parent, traceState: [["rojo", "00f067aa0ba902b7"]] } });
  const sent = server.seen.map((s) => String(s.headers.traceparent).split("-"));
  assert.equal(sent.length, 3);
  assert.ok(
    sent.every(([v, trace, , flags]) => v === "00" && trace === parent.traceId && flags === "01"),
  );
  const spans = new Set(sent.map((parts) => parts[2]));
  assert.equal(spans.size, 3); // one span id per attempt
  assert.ok(!spans.has(callerSpan) && [...spans].every((id) => /^[0-9a-f]{16}$/.test(id!)));
  assert.ok(server.seen.every((s) => s.headers.tracestate === "rojo=00f067aa0ba902b7"));
  // An unsampled caller's flags are kept; a stale tracestate of the request is removed.
  const unsampled = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")!;
  await withSpan("job", async () => {
    await (await client.get("b", { headers: { tracestate: "old=1", traceparent: "x" } }))
      .arrayBuffer();
  }, { parent: unsampled });
  const last = server.seen.at(-1)!.headers;
  assert.match(String(last.traceparent), /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
  assert.equal(last.tracestate, undefined);
  // Outside any trace: the root of a new sampled trace, as withSpan() would start.
  await (await client.get("c")).arrayBuffer();
  const root = server.seen.at(-1)!.headers;
  assert.match(String(root.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.notEqual(String(root.traceparent).split("-")[1], parent.traceId);
  assert.equal(root.tracestate, undefined);
});

test("createHttpClient() checks its options once, naming the option", () => {
  assert.throws(() => createHttpClient({ timeout: 0 }), {
    name: "RangeError",
    message: /"timeout"/,
  });
  assert.throws(() => createHttpClient({ totalTimeout: -1 }), /"totalTimeout"/);
  assert.throws(() => createHttpClient({ baseUrl: "not a url" }), {
    name: "TypeError",
    message: /"baseUrl"/,
  });
  assert.throws(() => createHttpClient({ retry: { attempts: 0 } }), /"retry.attempts"/);
  assert.throws(() => createHttpClient({ retry: "yes" as never }), /"retry"/);
  assert.throws(() => createHttpClient({ logger: {} as never }), /"logger"/);
  assert.throws(() => createHttpClient({ fetch: 1 as never }), /"fetch"/);
  assert.throws(() => createHttpClient({ maxResponseSize: 1.5 }), /"maxResponseSize"/);
  assert.throws(() => createHttpClient().json({} as never), /safeParse/);
});

/** A server closed at the end of the test (`await using`). */
async function serverClosing(handler: Parameters<typeof startServer>[0]) {
  const server = await startServer(handler);
  return Object.assign(server, { [Symbol.asyncDispose]: () => server.close() });
}

/** The URL of a port nobody listens on. */
async function startServerClosed(): Promise<string> {
  const server = await startServer(() => {});
  await server.close();
  return server.url;
}
