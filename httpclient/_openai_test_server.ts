// Test support: a small OpenAI-compatible server on loopback. The model name picks the behaviour:
// "echo" answers, "split:<n>" streams in writes of n bytes, "quota" is a spent quota, "limited"
// is rate limited once, "bad" a 400, "midstream" an error after one chunk, "stall" stops after one.
import type { ServerResponse } from "node:http";
import { startServer, type TestServer } from "./_test_server.ts";

export const REPLY = "Hello, w\u00f6rld \u{1F30D}!";
export const USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };

function chunk(delta: Record<string, unknown>, finish: string | null = null) {
  return {
    id: "chatcmpl-test",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model: "m",
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

export function sseBody(includeUsage: boolean): string {
  const events: unknown[] = [chunk({ role: "assistant", content: "" })];
  for (const piece of ["Hello, ", "w\u00f6rld", " \u{1F30D}", "!"]) {
    events.push(chunk({ content: piece }));
  }
  events.push(chunk({}, "stop"));
  if (includeUsage) events.push({ ...chunk({}), choices: [], usage: USAGE });
  return events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("") +
    ": keep-alive\n\ndata: [DONE]\n\n";
}

function error(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(JSON.stringify(body));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startOpenAIServer(): Promise<TestServer> {
  return startServer(async (req, res, text, hit) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/stall") return; // never answers
    if (path === "/v1/models") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({
        object: "list",
        data: [{ id: "echo", object: "model", created: 1, owned_by: "test" }],
      }));
      return;
    }
    if (path === "/v1/embeddings") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({
        object: "list",
        model: "e",
        data: [{ object: "embedding", index: 0, embedding: [0.25, -0.5] }],
        usage: { prompt_tokens: 4, total_tokens: 4 },
      }));
      return;
    }
    const params = JSON.parse(text) as {
      model: string;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    const model = params.model;
    if (model === "quota") {
      return error(res, 429, {
        error: {
          message: "You exceeded your current quota",
          type: "insufficient_quota",
          param: null,
          code: "insufficient_quota",
        },
      });
    }
    if (model === "bad") {
      return error(res, 400, {
        error: {
          message: "Invalid messages",
          type: "invalid_request_error",
          param: "messages",
          code: "invalid_value",
        },
      });
    }
    if (model === "limited" && hit % 2 === 1) {
      return error(res, 429, {
        error: {
          message: "Rate limit reached",
          type: "requests",
          param: null,
          code: "rate_limit_exceeded",
        },
      }, { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "300ms" });
    }
    if (!params.stream) {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({
        id: "chatcmpl-test",
        object: "chat.completion",
        created: 1_700_000_000,
        model: "m",
        choices: [{
          index: 0,
          message: { role: "assistant", content: REPLY, refusal: null },
          finish_reason: "stop",
          logprobs: null,
        }],
        usage: USAGE,
      }));
      return;
    }
    res.setHeader("content-type", "text/event-stream");
    res.setHeader("cache-control", "no-cache");
    res.flushHeaders();
    const body = new TextEncoder().encode(sseBody(params.stream_options?.include_usage === true));
    if (model === "midstream" || model === "stall") {
      res.write(`data: ${JSON.stringify(chunk({ role: "assistant", content: "Hel" }))}\n\n`);
      await sleep(20);
      if (model === "stall") return; // never another byte
      res.end(
        `data: ${
          JSON.stringify({
            error: {
              message: "The server had an error",
              type: "server_error",
              param: null,
              code: "overloaded",
            },
          })
        }\n\n`,
      );
      return;
    }
    const size = model.startsWith("split:") ? Number(model.slice(6)) : body.length;
    for (let i = 0; i < body.length; i += size) {
      res.write(body.subarray(i, i + size));
      if (size < body.length) await sleep(1);
    }
    res.end();
  });
}
