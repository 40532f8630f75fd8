import { test } from "node:test";
import assert from "node:assert/strict";
import { runWithContext } from "@plinth/logging";
import { parseTraceparent, withSpan } from "@plinth/tracing";
import {
  contextFromHeaders,
  describeError,
  envelopeHeaders,
  metaFromHeaders,
} from "./_envelope.ts";

test("envelopeHeaders() writes CloudEvents attributes and the context's ids", () => {
  const headers = runWithContext(
    { request_id: "r1", trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa0ba902b7" },
    () => envelopeHeaders("user.created", "e1", "svc", "2026-01-01T00:00:00.000Z", { Tenant: "a" }),
  );
  assert.deepEqual(headers, {
    "ce-specversion": "1.0",
    "ce-id": "e1",
    "ce-source": "svc",
    "ce-type": "user.created",
    "ce-time": "2026-01-01T00:00:00.000Z",
    "content-type": "application/json",
    "x-request-id": "r1",
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    tenant: "a",
  });
  const plain = envelopeHeaders("a", "e", "s", "t", undefined);
  assert.equal("x-request-id" in plain, false);
  // Every event carries a trace: a new one outside any.
  const fresh = parseTraceparent(plain["traceparent"]);
  assert.ok(fresh !== undefined, "a valid traceparent");
  assert.notEqual(
    parseTraceparent(envelopeHeaders("a", "e", "s", "t", undefined)["traceparent"])?.traceId,
    fresh.traceId,
  );
});

test("envelopeHeaders() writes the current span's traceparent and tracestate", async () => {
  const parent = {
    ...parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")!,
    traceState: [["rojo", "00f067aa0ba902b7"]] as const,
  };
  const { span, headers } = await withSpan(
    "publish",
    (span) => ({ span, headers: envelopeHeaders("a", "e", "s", "t", undefined) }),
    { parent },
  );
  assert.equal(headers["traceparent"], `00-0af7651916cd43dd8448eb211c80319c-${span.spanId}-01`);
  assert.equal(headers["tracestate"], "rojo=00f067aa0ba902b7");
});

test("contextFromHeaders() and metaFromHeaders() read what a foreign publisher sent", () => {
  assert.deepEqual(contextFromHeaders({ traceparent: "garbage" }), {});
  assert.deepEqual(
    contextFromHeaders({
      "x-request-id": "r1",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    }),
    { request_id: "r1" },
  );
  const signal = new AbortController().signal;
  const meta = metaFromHeaders(
    { "nats-msg-id": "m1", "ce-time": "nonsense" },
    "a.b",
    2,
    "S",
    9,
    signal,
  );
  assert.equal(meta.id, "m1");
  assert.equal(meta.source, "");
  assert.equal(meta.time, 0);
  assert.equal(meta.signal, signal);
  assert.equal(metaFromHeaders({}, "a.b", 1, "S", 9, signal).id, "S:9");
});

test("describeError() makes one safe line of any thrown value", () => {
  assert.equal(describeError(new TypeError("a\r\nb")), "TypeError: a b");
  assert.equal(describeError("text"), "thrown value: text");
  assert.equal(describeError(new Error("x".repeat(2000))).length, 1024);
});
