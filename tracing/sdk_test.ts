// With the OpenTelemetry SDK registered (in-memory exporter): real spans, their names,
// attributes, parents and status.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { AsyncLocalStorage } from "node:async_hooks";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
import { createLogger, getContext } from "@plinth/logging";
import { requestId } from "@plinth/logging/hono";
import { AppError } from "@plinth/errors";
import { tracing, type TracingVariables } from "./middleware.ts";
import { extractTraceContext, injectTraceHeaders } from "./propagation.ts";
import { currentTrace, withSpan } from "./with_span.ts";
import { registerTestSdk, type TestSdk } from "./_test_sdk.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN = "00f067aa0ba902b7";
const PARENT = `00-${TRACE}-${PARENT_SPAN}-01`;

let sdk: TestSdk;
before(() => {
  sdk = registerTestSdk();
});
after(async () => {
  await sdk.close();
});

function parentId(
  span: { parentSpanContext?: { spanId: string } | undefined },
): string | undefined {
  return span.parentSpanContext?.spanId;
}

function service() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "svc",
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  const app = new Hono<{ Variables: TracingVariables }>();
  app.use(tracing());
  app.get("/orgs/:id", async (c) => {
    c.var.trace.setAttribute("app.org", c.req.param("id"));
    await withSpan("SELECT orgs", async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.info("query");
    }, { attributes: { "db.system.name": "postgresql" }, kind: "client" });
    logger.info("done");
    return c.json({ spanId: c.var.trace.spanId, outgoing: injectTraceHeaders({}) });
  });
  app.get("/fail", (c) => c.text("down", 503));
  app.get("/throw", () => {
    throw new AppError("Cannot load org: database down", { status: 500 });
  });
  app.get("/missing", (c) => c.text("no", 404));
  app.get("/refused", () => {
    throw new AppError("No such org", { status: 404 });
  });
  app.post("/orgs", (c) => c.text("created", 201));
  app.onError((error, c) => {
    const status = error instanceof AppError ? error.status : 500;
    return c.text("error", status === 404 ? 404 : 500);
  });
  return { app, lines };
}

test("tracing() makes one SERVER span named METHOD /route with the stable HTTP attributes", async () => {
  sdk.exporter.reset();
  const { app, lines } = service();
  const res = await app.request("http://api.example.com:8443/orgs/7?token=s3cret&page=2", {
    headers: {
      traceparent: PARENT,
      tracestate: "rojo=1",
      authorization: "Bearer s3cret",
      cookie: "session=s3cret",
      "x-api-key": "s3cret",
      "user-agent": "test-agent/1.0",
    },
  });
  const body = await res.json();
  const server = sdk.span("GET /orgs/:id");
  assert.equal(server.kind, SpanKind.SERVER);
  assert.equal(server.spanContext().traceId, TRACE);
  assert.equal(server.spanContext().spanId, body.spanId);
  assert.equal(parentId(server), PARENT_SPAN);
  assert.equal(server.parentSpanContext?.isRemote, true);
  assert.equal(server.spanContext().traceState?.get("rojo"), "1");
  assert.deepEqual(server.attributes, {
    "http.request.method": "GET",
    "url.path": "/orgs/7",
    "url.scheme": "http",
    "http.route": "/orgs/:id",
    "server.address": "api.example.com",
    "server.port": 8443,
    "user_agent.original": "test-agent/1.0",
    "app.org": "7",
    "http.response.status_code": 200,
  });
  assert.equal(server.status.code, SpanStatusCode.UNSET);
  assert.equal(server.instrumentationScope.name, "@plinth/tracing");
  // Nothing secret anywhere in the exported spans.
  const everything = JSON.stringify(sdk.spans().map((s) => [s.name, s.attributes, s.events]));
  assert.doesNotMatch(everything, /s3cret|token=|page=2/);
  // The child span: parent, kind, attributes; the log lines carry its ids.
  const query = sdk.span("SELECT orgs");
  assert.equal(query.kind, SpanKind.CLIENT);
  assert.equal(parentId(query), body.spanId);
  assert.equal(query.spanContext().traceId, TRACE);
  assert.equal(query.attributes["db.system.name"], "postgresql");
  assert.equal(lines[0]!["span_id"], query.spanContext().spanId);
  assert.equal(lines[1]!["span_id"], body.spanId);
  assert.equal(body.outgoing.traceparent, `00-${TRACE}-${body.spanId}-01`);
});

test("tracing() sets an error status on a 5xx and on a throw, not on a 4xx", async () => {
  sdk.exporter.reset();
  const { app } = service();
  assert.equal((await app.request("/fail")).status, 503);
  assert.equal((await app.request("/throw")).status, 500);
  assert.equal((await app.request("/missing")).status, 404);
  assert.equal((await app.request("/refused")).status, 404);
  assert.equal((await app.request("/orgs", { method: "POST" })).status, 201);
  assert.equal((await app.request("/nowhere")).status, 404);
  const fail = sdk.span("GET /fail");
  assert.equal(fail.status.code, SpanStatusCode.ERROR);
  assert.equal(fail.attributes["error.type"], "503");
  assert.equal(fail.attributes["http.response.status_code"], 503);
  const thrown = sdk.span("GET /throw");
  assert.equal(thrown.status.code, SpanStatusCode.ERROR);
  assert.equal(thrown.attributes["error.type"], "AppError");
  const exception = thrown.events.find((e) => e.name === "exception");
  // The SDK names the exception by its `code` when it has one.
  assert.equal(exception?.attributes?.["exception.type"], "internal_error");
  assert.equal(exception?.attributes?.["exception.message"], "Cannot load org: database down");
  assert.equal(sdk.span("GET /missing").status.code, SpanStatusCode.UNSET);
  // A thrown 4xx is the client's error: no error status, no exception event.
  const refused = sdk.span("GET /refused");
  assert.equal(refused.status.code, SpanStatusCode.UNSET);
  assert.equal(refused.events.length, 0);
  assert.equal(refused.attributes["http.response.status_code"], 404);
  assert.equal(sdk.span("POST /orgs").attributes["http.response.status_code"], 201);
  // No route matched: the span is named by the method alone.
  const unmatched = sdk.span("GET");
  assert.equal(unmatched.attributes["http.route"], undefined);
  assert.equal(unmatched.attributes["url.path"], "/nowhere");
});

test("tracing() without a traceparent makes a root span; trustIncoming false links the caller", async () => {
  sdk.exporter.reset();
  const { app } = service();
  await app.request("/missing");
  const root = sdk.span("GET /missing");
  assert.equal(root.parentSpanContext, undefined);
  sdk.exporter.reset();
  const edge = new Hono();
  edge.use(tracing({ trustIncoming: false }));
  edge.get("/", (c) => c.text("ok"));
  await edge.request("/", { headers: { traceparent: `00-${TRACE}-${PARENT_SPAN}-00` } });
  const span = sdk.span("GET /");
  assert.equal(span.parentSpanContext, undefined);
  assert.notEqual(span.spanContext().traceId, TRACE);
  assert.equal(span.links.length, 1);
  assert.equal(span.links[0]!.context.traceId, TRACE);
});

test("withSpan() with an SDK: a real child of the active OpenTelemetry span, error on throw", async () => {
  sdk.exporter.reset();
  const tracer = trace.getTracer("other-instrumentation");
  await tracer.startActiveSpan("foreign parent", async (foreign) => {
    assert.equal(currentTrace()?.spanId, foreign.spanContext().spanId);
    await withSpan("mine", (span) => {
      assert.equal(span.recording, true);
      // Instrumentation below sees plinth's span as the active one.
      assert.equal(trace.getActiveSpan()?.spanContext().spanId, span.spanId);
      // A foreign span inside plinth's becomes the current trace.
      tracer.startActiveSpan("foreign child", (child) => {
        assert.equal(currentTrace()?.spanId, child.spanContext().spanId);
        child.end();
      });
    });
    foreign.end();
  });
  await assert.rejects(withSpan("failing", () => Promise.reject(new TypeError("bad"))), TypeError);
  const mine = sdk.span("mine");
  assert.equal(parentId(mine), sdk.span("foreign parent").spanContext().spanId);
  assert.equal(parentId(sdk.span("foreign child")), mine.spanContext().spanId);
  const failing = sdk.span("failing");
  assert.equal(failing.status.code, SpanStatusCode.ERROR);
  assert.equal(failing.status.message, "TypeError");
  assert.equal(failing.events[0]?.name, "exception");
});

test("withSpan() with an explicit remote parent: the SDK continues its trace and tracestate", async () => {
  sdk.exporter.reset();
  const parent = extractTraceContext({ traceparent: PARENT, tracestate: "congo=t61rcWkgMzE" })!;
  const span = await withSpan("process orders", (span) => span, { parent, kind: "consumer" });
  const exported = sdk.span("process orders");
  assert.equal(exported.kind, SpanKind.CONSUMER);
  assert.equal(exported.spanContext().traceId, TRACE);
  assert.equal(parentId(exported), PARENT_SPAN);
  assert.equal(span.spanId, exported.spanContext().spanId);
  assert.deepEqual(span.traceState, [["congo", "t61rcWkgMzE"]]);
});

test("an SDK sampler's decision shows in the ids and the flags", async () => {
  await sdk.close();
  sdk = registerTestSdk({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }),
  });
  const root = await withSpan("never sampled", (span) => span);
  assert.equal(root.traceFlags, 0);
  assert.equal(root.recording, false);
  assert.match(root.spanId, /^[0-9a-f]{16}$/);
  const sampledParent = extractTraceContext({ traceparent: PARENT })!;
  const child = await withSpan("follows parent", (span) => span, { parent: sampledParent });
  assert.equal(child.traceFlags, 1);
  assert.equal(sdk.spans().map((s) => s.name).join(), "follows parent");
});

test("with an SDK, one async context per request: ids on every line, the child's inside withSpan", async () => {
  await sdk.close();
  sdk = registerTestSdk(); // always on
  sdk.exporter.reset();
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "svc",
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  const app = new Hono<{ Variables: TracingVariables }>();
  app.use(requestId());
  app.use(tracing());
  app.get("/orgs/:id", async (c) => {
    logger.info("first");
    const query = await withSpan("SELECT orgs", async (span) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.info("query");
      assert.equal(getContext()?.span_id, span.spanId);
      return span.spanId;
    });
    logger.info("last");
    return c.json({ server: c.var.trace.spanId, query });
  });
  // The middleware enters one async context (the SDK's context manager's), no second one for
  // the logging context: the ids reach log lines through tracing's context source.
  const proto = AsyncLocalStorage.prototype as unknown as { run: (...args: never[]) => unknown };
  const run = proto.run;
  const stores: unknown[] = [];
  const bare = new Hono().use(tracing()).get("/", (c) => {
    logger.info("bare");
    return c.text("ok");
  });
  proto.run = function (this: unknown, ...args: never[]) {
    stores.push(args[0]);
    return run.apply(this, args);
  };
  try {
    assert.equal((await bare.request("/", { headers: { traceparent: PARENT } })).status, 200);
  } finally {
    proto.run = run;
  }
  const otelRuns = stores.filter((store) =>
    typeof (store as { getValue?: unknown } | undefined)?.getValue === "function"
  );
  assert.ok(otelRuns.length >= 1);
  assert.equal(stores.length - otelRuns.length, 0, "no logging context entered");
  const bareLine = lines.pop()!;
  assert.equal(bareLine["trace_id"], TRACE);
  assert.match(String(bareLine["span_id"]), /^[0-9a-f]{16}$/);
  // Concurrent requests keep their own ids.
  const bodies = await Promise.all(
    ["a", "b", "c"].map(async (id) => {
      const res = await app.request(`/orgs/${id}`, { headers: { traceparent: PARENT } });
      return await res.json() as { server: string; query: string };
    }),
  );
  assert.equal(lines.length, 9);
  for (const body of bodies) {
    const mine = lines.filter((l) => l["span_id"] === body.server || l["span_id"] === body.query);
    assert.deepEqual(mine.map((l) => l["message"]), ["first", "query", "last"]);
    assert.equal(mine[1]!["span_id"], body.query, "the child's id inside withSpan");
    assert.equal(mine[2]!["span_id"], body.server, "the parent's again after it");
    assert.equal(new Set(mine.map((l) => l["request_id"])).size, 1);
    for (const line of mine) {
      assert.equal(line["trace_id"], TRACE);
      assert.equal(line["trace_flags"], "01");
      assert.equal(typeof line["request_id"], "string");
    }
  }
  assert.equal(new Set(lines.map((l) => l["request_id"])).size, 3);
  assert.equal(sdk.spans().filter((s) => s.name === "SELECT orgs").length, 3);
  // Outside any span the lines carry no ids.
  logger.info("outside");
  assert.equal(lines.at(-1)!["span_id"], undefined);
});

test("with an SDK but no context manager, the ids still reach every line (logging context)", async () => {
  await sdk.close();
  sdk = registerTestSdk();
  context.disable();
  try {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      service: "svc",
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    const outer = await withSpan("outer", async (outer) => {
      await withSpan("inner", async (inner) => {
        await Promise.resolve();
        logger.info("inner");
        assert.equal(inner.recording, true);
      });
      logger.info("outer");
      return outer;
    });
    assert.deepEqual(lines.map((l) => [l["message"], l["trace_id"]]), [
      ["inner", outer.traceId],
      ["outer", outer.traceId],
    ]);
    assert.notEqual(lines[0]!["span_id"], outer.spanId);
    assert.equal(lines[1]!["span_id"], outer.spanId);
    // The caller's tracestate still reaches outgoing headers.
    const parent = extractTraceContext({ traceparent: PARENT, tracestate: "rojo=1" })!;
    const outgoing = await withSpan("call", async () => {
      await Promise.resolve();
      return injectTraceHeaders<Record<string, string>>({});
    }, { parent });
    assert.match(String(outgoing["traceparent"]), new RegExp(`^00-${TRACE}-`));
    assert.equal(outgoing["tracestate"], "rojo=1");
  } finally {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  }
});
