import { test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { unauthorized } from "@plinth/errors";
import { problemHandler } from "@plinth/errors/hono";
import { createLogger, type Logger } from "./logger.ts";
import { requestId, type RequestIdVariables, requestLogger } from "./middleware.ts";
import { getContext } from "./context.ts";
import { resetContextStorage } from "./_context_store.ts";
import { setLogger } from "./default_logger.ts";
import { captureLogger, waitFor } from "@plinth/testing";

function capture(): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "svc",
    level: "debug",
    destination: { write: (line) => lines.push(JSON.parse(line)) },
  });
  return { lines, logger };
}

function appWith(
  logger: Logger,
  options: Parameters<typeof requestLogger>[0] = {},
): Hono<{ Variables: RequestIdVariables }> {
  const app = new Hono<{ Variables: RequestIdVariables }>();
  app.use(requestId());
  app.use(requestLogger({ logger, now: counter(), ...options }));
  app.onError(problemHandler({ logger }));
  app.get("/orgs/:id", async (c) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    logger.info("loading org", { id: c.req.param("id") });
    return c.json({ id: c.req.param("id"), request_id: c.var.requestId });
  });
  app.get("/raw", () => new Response("raw body"));
  app.get("/empty", (c) => c.body(null, 204));
  app.get("/sized", (c) => c.text("12345", 200, { "content-length": "5" }));
  app.get("/boom", () => {
    throw new Error("db down");
  });
  app.get("/string", () => {
    throw "not an error";
  });
  app.get("/healthz", (c) => c.text("ok"));
  app.post("/login", (c) => c.text("no", 401));
  return app;
}

function counter(): () => number {
  let t = 0;
  return () => (t += 12.5);
}

test("requestId() keeps a valid incoming X-Request-Id and sets c.var.requestId, the header and the context", async () => {
  const { lines, logger } = capture();
  const res = await appWith(logger).request("/orgs/acme", {
    headers: { "x-request-id": "req-1.a:b_c-d" },
  });
  const body = await res.json();
  assert.equal(res.headers.get("x-request-id"), "req-1.a:b_c-d");
  assert.equal(body.request_id, "req-1.a:b_c-d");
  const handlerLine = lines.find((l) => l.message === "loading org");
  assert.equal(handlerLine?.request_id, "req-1.a:b_c-d");
  assert.equal(getContext(), undefined, "the context ends with the request");
});

test("requestId() replaces a missing, malformed or oversized id with a UUID", async () => {
  const { logger } = capture();
  const app = appWith(logger);
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  for (
    const headers of [{}, { "x-request-id": "has space" }, { "x-request-id": "x".repeat(129) }, {
      "x-request-id": "a\u00e9",
    }]
  ) {
    const res = await app.request("/healthz", { headers });
    assert.match(res.headers.get("x-request-id") ?? "", uuid, JSON.stringify(headers));
  }
  const ok128 = "x".repeat(128);
  const res = await app.request("/healthz", { headers: { "x-request-id": ok128 } });
  assert.equal(res.headers.get("x-request-id"), ok128);
});

test("requestId() uses its generator, header name and trust options", async () => {
  const app = new Hono<{ Variables: RequestIdVariables }>();
  let n = 0;
  app.use(
    requestId({
      headerName: "X-Correlation-Id",
      generate: () => `gen-${++n}`,
      trustIncoming: false,
    }),
  );
  app.get("/", (c) => c.text(c.var.requestId));
  const res = await app.request("/", { headers: { "x-correlation-id": "client" } });
  assert.equal(await res.text(), "gen-1");
  assert.equal(res.headers.get("x-correlation-id"), "gen-1");
  const bad = new Hono();
  bad.use(requestId({ generate: () => "not valid!" }));
  bad.get("/", (c) => c.text("ok"));
  assert.match((await bad.request("/")).headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  assert.throws(() => requestId({ headerName: "bad header" }), TypeError);
  assert.throws(() => requestId({ generate: "x" as never }), TypeError);
});

test("requestId() puts the id on a Response returned directly and on errors, for problemHandler", async () => {
  const { lines, logger } = capture();
  const app = appWith(logger);
  const raw = await app.request("/raw", { headers: { "x-request-id": "r-raw" } });
  assert.equal(raw.headers.get("x-request-id"), "r-raw");
  const boom = await app.request("/boom", { headers: { "x-request-id": "r-boom" } });
  assert.equal(boom.status, 500);
  assert.equal((await boom.json()).request_id, "r-boom");
  const failed = lines.find((l) => l.message === "Request failed");
  assert.equal(failed?.request_id, "r-boom");
  assert.equal((failed?.err as { message: string }).message, "db down");
});

test("requestLogger() writes one access line with route template, path, status, duration and size", async () => {
  const { lines, logger } = capture();
  const res = await appWith(logger, { responseSize: "count" }).request(
    "/orgs/acme?page=2&token=s3cret&API_KEY=k&flag",
    {
      headers: {
        "x-request-id": "r-1",
        "user-agent": "test-agent/1.0",
        authorization: "Bearer zzz",
        cookie: "sid=1",
      },
    },
  );
  const text = await res.text();
  const access = lines.filter((l) => l.message === "Request completed");
  assert.equal(access.length, 1);
  const line = access[0]!;
  assert.deepEqual(
    Object.keys(line).slice(3),
    [
      "message",
      "request_id",
      "method",
      "route",
      "path",
      "status",
      "duration_ms",
      "response_size",
      "user_agent",
      "query",
    ],
  );
  assert.equal(line.level, "info");
  assert.equal(line.request_id, "r-1");
  assert.equal(line.method, "GET");
  assert.equal(line.route, "/orgs/:id");
  assert.equal(line.path, "/orgs/acme");
  assert.equal(line.status, 200);
  assert.equal(line.duration_ms, 12.5);
  assert.equal(line.response_size, new TextEncoder().encode(text).byteLength);
  assert.equal(line.user_agent, "test-agent/1.0");
  assert.equal(line.query, "page=2&token=[REDACTED]&API_KEY=[REDACTED]&flag");
  const all = JSON.stringify(lines);
  for (const secret of ["s3cret", "zzz", "sid=1", "=k&"]) assert.ok(!all.includes(secret), secret);
});

test("requestLogger() picks the level by status: 5xx error, 4xx warn, else info", async () => {
  const { lines, logger } = capture();
  const app = appWith(logger);
  await (await app.request("/boom")).text();
  await (await app.request("/login", { method: "POST" })).text();
  await (await app.request("/nowhere")).text();
  await (await app.request("/empty")).text();
  const access = lines.filter((l) => l.message === "Request completed");
  assert.deepEqual(access.map((l) => [l.status, l.level]), [[500, "error"], [401, "warn"], [
    404,
    "warn",
  ], [204, "info"]]);
  assert.equal(access[0]?.route, "/boom");
  assert.equal(access[1]?.route, "/login");
  assert.equal(access[2]?.route, undefined, "no route matched");
  assert.equal(access[3]?.response_size, 0);
});

test("requestLogger() logs a non-Error throw as 500 and rethrows it", async () => {
  const { lines, logger } = capture();
  const app = appWith(logger);
  await assert.rejects(Promise.resolve(app.request("/string")), (e) => e === "not an error");
  const line = lines.find((l) => l.message === "Request completed");
  assert.equal(line?.status, 500);
  assert.equal(line?.level, "error");
});

test("requestLogger() takes response_size from Content-Length and counts streamed bodies", async () => {
  const { lines, logger } = capture();
  const app = appWith(logger, { responseSize: "count" });
  await (await app.request("/sized")).text();
  await (await app.request("/raw")).text();
  const access = lines.filter((l) => l.message === "Request completed");
  assert.equal(access[0]?.response_size, 5);
  assert.equal(access[1]?.response_size, 8);
});

function sizingApp(
  logger: Logger,
  responseSize?: "auto" | "count" | "declared",
): { app: Hono; built: Map<string, Response> } {
  const built = new Map<string, Response>();
  const keep = (path: string, res: Response): Response => (built.set(path, res), res);
  const stream = (type?: string): Response => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("data: a\n\n"));
        controller.enqueue(new TextEncoder().encode("data: bc\n\n"));
        controller.close();
      },
    });
    return new Response(body, type === undefined ? {} : { headers: { "content-type": type } });
  };
  const app = new Hono();
  app.use(requestLogger({ logger, responseSize }));
  app.get("/json", (c) => keep("/json", c.json({ ok: true })));
  app.get("/text", (c) => keep("/text", c.text("hello")));
  app.get("/sized", (c) => keep("/sized", c.text("12345", 200, { "content-length": "5" })));
  app.get("/sse", () => keep("/sse", stream("text/event-stream; charset=utf-8")));
  app.get("/ndjson", () => keep("/ndjson", stream("application/x-ndjson")));
  app.get("/bytes", () => keep("/bytes", stream("application/octet-stream")));
  app.get("/untyped", () => keep("/untyped", stream()));
  app.get("/none", (c) => keep("/none", c.body(null, 204)));
  return { app, built };
}

const SIZING_PATHS = ["/json", "/text", "/sized", "/sse", "/ndjson", "/bytes", "/untyped", "/none"];

async function sizes(
  responseSize?: "auto" | "count" | "declared",
): Promise<Record<string, [unknown, boolean]>> {
  const { lines, logger } = capture();
  const { app, built } = sizingApp(logger, responseSize);
  const seen: Record<string, [unknown, boolean]> = {};
  for (const path of SIZING_PATHS) {
    const res = await app.request(path);
    await res.arrayBuffer();
    const line = lines.filter((l) => l.message === "Request completed").at(-1);
    assert.equal(line?.path, path);
    // [response_size, whether the handler's own Response (and body) went out untouched]
    seen[path] = [line?.response_size, res === built.get(path)];
  }
  return seen;
}

test('requestLogger() by default counts only streamed bodies and leaves c.json()\'s alone ("auto")', async () => {
  assert.deepEqual(await sizes(), {
    "/json": [undefined, true],
    "/text": [undefined, true],
    "/sized": [5, true],
    "/sse": [19, false],
    "/ndjson": [19, false],
    "/bytes": [19, false],
    "/untyped": [undefined, true],
    "/none": [0, true],
  });
});

test('requestLogger() counts every body without a declared length with responseSize "count"', async () => {
  assert.deepEqual(await sizes("count"), {
    "/json": [11, false],
    "/text": [5, false],
    "/sized": [5, true],
    "/sse": [19, false],
    "/ndjson": [19, false],
    "/bytes": [19, false],
    "/untyped": [19, false],
    "/none": [0, true],
  });
});

test('requestLogger() never wraps a body with responseSize "declared"', async () => {
  assert.deepEqual(await sizes("declared"), {
    "/json": [undefined, true],
    "/text": [undefined, true],
    "/sized": [5, true],
    "/sse": [undefined, true],
    "/ndjson": [undefined, true],
    "/bytes": [undefined, true],
    "/untyped": [undefined, true],
    "/none": [0, true],
  });
});

test("requestLogger() refuses an unknown responseSize", () => {
  assert.throws(
    () => requestLogger({ responseSize: "bytes" as "auto" }),
    /Invalid requestLogger option responseSize: must be "auto", "count" or "declared"/,
  );
});

test("requestLogger() writes the line when a streamed body is cancelled, with the request's id", async () => {
  const { lines, logger } = capture();
  const app = new Hono();
  app.use(requestId());
  app.use(requestLogger({ logger }));
  app.get("/stream", () => {
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(10));
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  });
  const res = await app.request("/stream", { headers: { "x-request-id": "r-s" } });
  const reader = res.body!.getReader();
  await reader.read();
  await reader.cancel();
  const line = lines.find((l) => l.message === "Request completed");
  assert.equal(line?.request_id, "r-s");
  assert.ok(typeof line?.response_size === "number" && line.response_size >= 0);
});

test("requestLogger() reports a body stream that fails", async () => {
  const { lines, logger } = capture();
  const app = new Hono();
  app.use(requestLogger({ logger }));
  app.get("/fail", () =>
    new Response(
      new ReadableStream({
        pull() {
          throw new Error("stream broke");
        },
      }),
      { headers: { "content-type": "application/x-ndjson" } },
    ));
  const res = await app.request("/fail");
  await assert.rejects(res.text());
  assert.equal(lines.filter((l) => l.message === "Request completed").length, 1);
});

test("requestLogger() skips /healthz and /metrics by default, or what skip names", async () => {
  const { lines, logger } = capture();
  const app = appWith(logger);
  await app.request("/healthz");
  await app.request("/metrics");
  assert.equal(lines.filter((l) => l.message === "Request completed").length, 0);
  const custom = appWith(logger, { skip: (c) => c.req.path.startsWith("/orgs") });
  await (await custom.request("/orgs/x")).text();
  await (await custom.request("/healthz")).text();
  assert.deepEqual(lines.filter((l) => l.message === "Request completed").map((l) => l.path), [
    "/healthz",
  ]);
});

test("requestLogger() logs client_ip from the adapter, from proxies when trusted, or from clientIp()", async () => {
  const { lines, logger } = capture();
  const headers = { "x-forwarded-for": "203.0.113.9, 10.0.0.1" };
  await (await appWith(logger).request("/empty", { headers }, {
    remoteAddr: { hostname: "198.51.100.1" },
  })).text();
  await (await appWith(logger).request("/empty", {}, {
    incoming: { socket: { remoteAddress: "::1" } },
  })).text();
  await (await appWith(logger).request("/empty", {}, {
    requestIP: () => ({ address: "192.0.2.4" }),
  })).text();
  await (await appWith(logger, { trustProxy: true }).request("/empty", { headers })).text();
  await (await appWith(logger, { trustProxy: true }).request("/empty", {
    headers: { "x-real-ip": "192.0.2.7" },
  })).text();
  await (await appWith(logger, { clientIp: () => "192.0.2.8" }).request("/empty")).text();
  await (await appWith(logger).request("/empty", {}, {
    requestIP: () => {
      throw new Error("x");
    },
  })).text();
  await (await appWith(logger).request("/empty")).text();
  const ips = lines.filter((l) => l.message === "Request completed").map((l) => l.client_ip);
  assert.deepEqual(ips, [
    "198.51.100.1",
    "::1",
    "192.0.2.4",
    "203.0.113.9",
    "192.0.2.7",
    "192.0.2.8",
    undefined,
    undefined,
  ]);
});

test("requestLogger() uses the default logger when none is given", async () => {
  const { lines, logger } = capture();
  const previous = setLogger(logger);
  try {
    const app = new Hono();
    app.use(requestLogger());
    app.get("/", (c) => c.text("ok"));
    await (await app.request("/")).text();
  } finally {
    setLogger(previous);
  }
  assert.equal(lines[0]?.message, "Request completed");
});

test("requestLogger() writes access lines to any LoggerLike, such as a plain object", async () => {
  const logger = captureLogger();
  const app = new Hono();
  app.use(requestLogger({ logger }));
  app.get("/ok", (c) => c.text("ok"));
  app.get("/missing", (c) => c.text("no", 404));
  await (await app.request("/ok")).text();
  await (await app.request("/missing")).text();
  await waitFor(() => logger.lines.length === 2, 5_000, "two access lines");
  assert.deepEqual(logger.lines.map((line) => [line.level, line.message, line.fields["status"]]), [
    ["info", "Request completed", 200],
    ["warn", "Request completed", 404],
  ]);
});

test("requestLogger() validates its options", () => {
  assert.throws(() => requestLogger({ logger: {} as never }), TypeError);
  assert.throws(
    () => requestLogger({ logger: { info() {}, warn() {}, error() {} } as never }),
    /option logger: must have debug, info, warn and error methods/,
  );
  assert.throws(() => requestLogger({ skip: "x" as never }), TypeError);
  assert.throws(() => requestLogger({ redact: [1] as never }), TypeError);
  assert.throws(() => requestLogger({ now: 5 as never }), TypeError);
  assert.throws(() => requestLogger({ clientIp: "x" as never }), TypeError);
  assert.equal(typeof requestLogger({ redact: ["sig"], skip: [] }), "function");
});

test("requestId() sets the header on a Response whose headers are immutable", async () => {
  const app = new Hono();
  app.use(requestId());
  app.get("/", () => Response.redirect("http://example.com/next", 302));
  const res = await app.request("/", { headers: { "x-request-id": "r-imm" } });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("x-request-id"), "r-imm");
  assert.equal(res.headers.get("location"), "http://example.com/next");
});

test("requestLogger() redacts secret query parameters by normalised name, with & or ; pairs", async () => {
  const { lines, logger } = capture();
  const app = appWith(logger);
  const query = [
    "page=2",
    "api-key=s1",
    "password%5B%5D=s2",
    "password[]=s3",
    "sig=s4",
    "X-Amz-Signature=s5",
    "X-Amz-Date=20261202T000000Z",
    "jwt=s6",
    "key=s7",
    "session=s8",
    "accessToken=s9",
    "x_api_key=s10",
    "user%5Bpassword%5D=s11",
    "sort=name",
  ].join("&") + ";token=s12;flag";
  await (await app.request(`/orgs/acme?${query}`)).text();
  const line = lines.find((l) => l.message === "Request completed");
  assert.equal(
    line?.query,
    "page=2&api-key=[REDACTED]&password%5B%5D=[REDACTED]&password[]=[REDACTED]&sig=[REDACTED]" +
      "&X-Amz-Signature=[REDACTED]&X-Amz-Date=20261202T000000Z&jwt=[REDACTED]&key=[REDACTED]" +
      "&session=[REDACTED]&accessToken=[REDACTED]&x_api_key=[REDACTED]" +
      "&user%5Bpassword%5D=[REDACTED]&sort=name;token=[REDACTED];flag",
  );
  const all = JSON.stringify(lines);
  for (let i = 1; i <= 12; i++) assert.ok(!all.includes(`=s${i}`), `s${i}`);
  assert.throws(() => requestLogger({ redact: ["[]"] }), TypeError);
});

test("requestLogger() redacts indexed and nested array parameters: password[0], token[a][b]", async () => {
  const { lines, logger } = capture();
  const app = appWith(logger);
  await (await app.request("/orgs/acme?password[0]=s1&password%5B1%5D=s2&token[a][b]=s3&ids[0]=7"))
    .text();
  const line = lines.find((l) => l.message === "Request completed");
  assert.equal(
    line?.query,
    "password[0]=[REDACTED]&password%5B1%5D=[REDACTED]&token[a][b]=[REDACTED]&ids[0]=7",
  );
});

test("requestLogger() logs the matched handler's route when a middleware on /orgs/* rejects", async () => {
  const { lines, logger } = capture();
  const app = new Hono();
  app.use(requestId());
  app.use(requestLogger({ logger, now: counter() }));
  app.onError(problemHandler({ logger }));
  app.use("/orgs/*", async (c, next) => {
    if (c.req.header("authorization") === undefined) return c.json({ error: "no" }, 401);
    if (c.req.header("authorization") === "throw") throw unauthorized("Bad token");
    await next();
  });
  app.get("/orgs/:id", (c) => c.json({ id: c.req.param("id") }));
  app.get("/orgs/:id/members/:member", (c) => c.text("member"));
  await (await app.request("/orgs/acme")).text();
  await (await app.request("/orgs/acme", { headers: { authorization: "throw" } })).text();
  await (await app.request("/orgs/acme", { headers: { authorization: "ok" } })).text();
  await (await app.request("/orgs/acme/members/7")).text();
  await (await app.request("/orgs/acme/unknown/deep")).text();
  await (await app.request("/elsewhere")).text();
  const access = lines.filter((l) => l.message === "Request completed");
  assert.deepEqual(access.map((l) => [l.status, l.route]), [
    [401, "/orgs/:id"],
    [401, "/orgs/:id"],
    [200, "/orgs/:id"],
    [401, "/orgs/:id/members/:member"],
    [401, "/orgs/*"],
    [404, undefined],
  ]);
});

test("requestLogger() without AsyncLocalStorage still writes the request id on the access line", async () => {
  resetContextStorage({}); // the synchronous fallback of edge runtimes without Node built-ins
  try {
    const { lines, logger } = capture();
    const res = await appWith(logger).request("/orgs/acme", { headers: { "x-request-id": "r-9" } });
    assert.equal((await res.json()).request_id, "r-9");
    await waitFor(
      () => lines.some((l) => l.message === "Request completed"),
      2_000,
      "the access line",
    );
    const access = lines.find((l) => l.message === "Request completed");
    assert.equal(access?.request_id, "r-9");
    // The handler logged after an await: the fallback no longer holds the context there.
    assert.equal(lines.find((l) => l.message === "loading org")?.request_id, undefined);
  } finally {
    resetContextStorage();
  }
});
