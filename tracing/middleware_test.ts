import { test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { createLogger } from "@plinth/logging";
import { requestId } from "@plinth/logging/hono";
import { tracing, type TracingVariables } from "./middleware.ts";
import { injectTraceHeaders } from "./propagation.ts";
import { withSpan } from "./with_span.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = `00-${TRACE}-00f067aa0ba902b7-01`;

function app(options?: Parameters<typeof tracing>[0]) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "svc",
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  const hono = new Hono<{ Variables: TracingVariables }>();
  hono.use(requestId());
  hono.use(tracing(options));
  hono.get("/orgs/:id", async (c) => {
    logger.info("first");
    await new Promise((resolve) => setTimeout(resolve, 2));
    await withSpan("SELECT orgs", () => logger.info("query"));
    logger.info("last");
    return c.json({
      trace: { traceId: c.var.trace.traceId, spanId: c.var.trace.spanId },
      outgoing: injectTraceHeaders({}),
    });
  });
  return { hono, lines };
}

test("tracing() continues an incoming trace: every log line carries its trace id", async () => {
  const { hono, lines } = app();
  const res = await hono.request("/orgs/7?token=secret", {
    headers: { traceparent: PARENT, tracestate: "rojo=1" },
  });
  const body = await res.json();
  assert.equal(body.trace.traceId, TRACE);
  assert.notEqual(body.trace.spanId, "00f067aa0ba902b7");
  assert.equal(body.outgoing.traceparent, `00-${TRACE}-${body.trace.spanId}-01`);
  assert.equal(body.outgoing.tracestate, "rojo=1");
  assert.equal(lines.length, 3);
  for (const line of lines) {
    assert.equal(line["trace_id"], TRACE);
    assert.equal(line["trace_flags"], "01");
    assert.equal(typeof line["request_id"], "string");
  }
  assert.equal(lines[0]!["span_id"], body.trace.spanId);
  assert.notEqual(lines[1]!["span_id"], body.trace.spanId, "the query's own span");
  assert.equal(lines[2]!["span_id"], body.trace.spanId);
});

test("tracing() starts a new trace without (or with an invalid) traceparent", async () => {
  const { hono } = app();
  const a = await (await hono.request("/orgs/1")).json();
  const b = await (await hono.request("/orgs/1", {
    headers: { traceparent: `00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`, tracestate: "a=1" },
  })).json();
  assert.match(a.trace.traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(a.trace.traceId, b.trace.traceId);
  assert.notEqual(b.trace.traceId, TRACE);
  assert.equal(b.outgoing.tracestate, undefined, "tracestate ignored with a bad traceparent");
});

test("tracing() with trustIncoming false ignores the caller's trace and sampled flag", async () => {
  const { hono } = app({ trustIncoming: false });
  const body = await (await hono.request("/orgs/1", {
    headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-00`, tracestate: "rojo=1" },
  })).json();
  assert.notEqual(body.trace.traceId, TRACE);
  assert.match(body.outgoing.traceparent, /-01$/, "its own sampling decision");
  assert.equal(body.outgoing.tracestate, undefined);
});

test("tracing() keeps a caller's not-sampled flag when it trusts the caller", async () => {
  const { hono, lines } = app();
  const body = await (await hono.request("/orgs/1", {
    headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-00` },
  })).json();
  assert.match(body.outgoing.traceparent, /-00$/);
  assert.equal(lines[0]!["trace_flags"], "00");
});

test("tracing() checks its options when created", () => {
  assert.throws(() => tracing({ trustIncoming: "yes" as never }), {
    name: "TypeError",
    message: /trustIncoming/,
  });
  assert.throws(() => tracing(null as never), TypeError);
});

test("tracing() lets an error reach onError and keeps the context out of the next request", async () => {
  const hono = new Hono<{ Variables: TracingVariables }>();
  hono.use(tracing());
  hono.get("/boom", () => {
    throw new Error("boom");
  });
  hono.onError((error, c) => c.text(`handled ${error.message}`, 500));
  const res = await hono.request("/boom", { headers: { traceparent: PARENT } });
  assert.equal(res.status, 500);
  assert.equal(await res.text(), "handled boom");
});
