import { test } from "node:test";
import assert from "node:assert/strict";
import { runWithContext } from "@plinth/logging";
import { extractTraceContext, injectTraceHeaders } from "./propagation.ts";
import { createTraceContext, parseTraceparent } from "./trace_context.ts";
import { withSpan } from "./with_span.ts";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const PARENT = `00-${TRACE}-b7ad6b7169203331-01`;

test("extractTraceContext() reads a Headers object and a plain record in any case", () => {
  const fromHeaders = extractTraceContext(
    new Headers({ traceparent: PARENT, tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE" }),
  );
  assert.deepEqual(fromHeaders, {
    traceId: TRACE,
    spanId: "b7ad6b7169203331",
    traceFlags: 1,
    isRemote: true,
    traceState: [["rojo", "00f067aa0ba902b7"], ["congo", "t61rcWkgMzE"]],
  });
  assert.deepEqual(
    extractTraceContext({ TraceParent: PARENT, TRACESTATE: "rojo=1" }),
    { ...parseTraceparent(PARENT), traceState: [["rojo", "1"]] },
  );
});

test("extractTraceContext() joins several tracestate headers and refuses several traceparents", () => {
  assert.deepEqual(
    extractTraceContext({ traceparent: PARENT, tracestate: ["a=1", "b=2"] })?.traceState,
    [["a", "1"], ["b", "2"]],
  );
  const headers = new Headers();
  headers.append("tracestate", "a=1");
  headers.append("tracestate", "b=2");
  headers.set("traceparent", PARENT);
  assert.deepEqual(extractTraceContext(headers)?.traceState, [["a", "1"], ["b", "2"]]);
  assert.equal(extractTraceContext({ traceparent: [PARENT, PARENT] }), undefined);
  // fetch's Headers joins repeated headers with ", ": two traceparents are invalid.
  const twice = new Headers();
  twice.append("traceparent", PARENT);
  twice.append("traceparent", PARENT);
  assert.equal(extractTraceContext(twice), undefined);
});

test("extractTraceContext() ignores tracestate when traceparent is invalid or missing", () => {
  assert.equal(extractTraceContext({ traceparent: "00-bad", tracestate: "a=1" }), undefined);
  assert.equal(extractTraceContext({ tracestate: "a=1" }), undefined);
  assert.equal(extractTraceContext(new Headers({ tracestate: "a=1" })), undefined);
  assert.equal(extractTraceContext({}), undefined);
  // A valid traceparent with a fully malformed tracestate: the context, without a state.
  assert.equal(
    extractTraceContext({ traceparent: PARENT, tracestate: "BAD" })?.traceState,
    undefined,
  );
});

test("extractTraceContext() and injectTraceHeaders() refuse a carrier that is not an object", () => {
  assert.throws(() => extractTraceContext(null as never), {
    name: "TypeError",
    message: /headers/,
  });
  assert.throws(() => injectTraceHeaders("x" as never), { name: "TypeError", message: /headers/ });
  assert.throws(() => injectTraceHeaders([] as never), TypeError);
});

test("injectTraceHeaders() writes the given context into Headers and records", () => {
  const context = { ...parseTraceparent(PARENT)!, traceState: [["rojo", "1"]] as const };
  const headers = injectTraceHeaders(new Headers({ tracestate: "stale=1" }), { context });
  assert.equal(headers.get("traceparent"), PARENT);
  assert.equal(headers.get("tracestate"), "rojo=1");
  const record = injectTraceHeaders(
    { TraceParent: "old", TraceState: "stale=1", other: "kept" },
    { context: { traceId: TRACE, spanId: "b7ad6b7169203331", traceFlags: 0 } },
  );
  assert.deepEqual(record, { other: "kept", traceparent: `00-${TRACE}-b7ad6b7169203331-00` });
  const cleared = injectTraceHeaders(new Headers({ tracestate: "stale=1" }), {
    context: createTraceContext(),
  });
  assert.equal(cleared.get("tracestate"), null);
});

test("injectTraceHeaders() writes the current span, or nothing outside a trace", async () => {
  assert.deepEqual(injectTraceHeaders({}), {});
  const { span, headers } = await withSpan("outgoing", (span) => ({
    span,
    headers: injectTraceHeaders({} as Record<string, string>),
  }));
  assert.equal(headers["traceparent"], span.traceparent);
  // Ids a service put in the logging context itself are propagated too.
  const logged = runWithContext(
    { trace_id: TRACE, span_id: "b7ad6b7169203331", trace_flags: "00" },
    () => injectTraceHeaders({} as Record<string, string>),
  );
  assert.equal(logged["traceparent"], `00-${TRACE}-b7ad6b7169203331-00`);
  const bad = runWithContext(
    { trace_id: "not-hex", span_id: "b7ad6b7169203331" },
    () => injectTraceHeaders({}),
  );
  assert.deepEqual(bad, {});
});
