import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, runWithContext } from "@plinth/logging";
import { currentTrace, withSpan } from "./with_span.ts";
import { parseTraceparent } from "./trace_context.ts";

const PARENT = parseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")!;

function logLines(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "svc",
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { lines, logger };
}

test("withSpan() without an SDK starts a new trace and puts its ids in every log line", async () => {
  const { lines, logger } = logLines();
  const span = await withSpan("job", async (span) => {
    logger.info("before");
    await new Promise((resolve) => setTimeout(resolve, 5));
    logger.info("after a timer");
    return span;
  });
  assert.match(span.traceId, /^[0-9a-f]{32}$/);
  assert.match(span.spanId, /^[0-9a-f]{16}$/);
  assert.equal(span.recording, false);
  assert.equal(lines.length, 2);
  for (const line of lines) {
    assert.equal(line["trace_id"], span.traceId);
    assert.equal(line["span_id"], span.spanId);
    assert.equal(line["trace_flags"], "01");
  }
  assert.equal(currentTrace(), undefined, "nothing leaks out of the span");
});

test("withSpan() nests: a child keeps the trace id and gets its own span id", async () => {
  const seen = await withSpan("outer", async (outer) => {
    const inner = await withSpan("inner", (inner) => inner);
    return { outer, inner, after: currentTrace() };
  });
  assert.equal(seen.inner.traceId, seen.outer.traceId);
  assert.notEqual(seen.inner.spanId, seen.outer.spanId);
  assert.equal(seen.after?.spanId, seen.outer.spanId, "the outer span is current again");
});

test("withSpan() continues an explicit parent, its flags and tracestate; null starts a root", async () => {
  const parent = { ...PARENT, traceState: [["rojo", "1"]] as const };
  const child = await withSpan("consume", (span) => span, { parent, kind: "consumer" });
  assert.equal(child.traceId, PARENT.traceId);
  assert.notEqual(child.spanId, PARENT.spanId);
  assert.equal(child.traceFlags, 0);
  assert.deepEqual(child.traceState, [["rojo", "1"]]);
  assert.equal(child.traceparent, `00-${PARENT.traceId}-${child.spanId}-00`);
  const root = await withSpan("outer", () => withSpan("detached", (s) => s, { parent: null }));
  assert.notEqual(root.traceId, PARENT.traceId);
});

test("withSpan() rethrows what fn throws, synchronously or not, and restores the context", async () => {
  await assert.rejects(
    withSpan("sync", () => {
      throw new RangeError("boom");
    }),
    RangeError,
  );
  await assert.rejects(withSpan("async", () => Promise.reject(new Error("late"))), /late/);
  assert.equal(currentTrace(), undefined);
});

test("withSpan() checks its arguments and names the option", async () => {
  await assert.rejects(withSpan("", () => 1), { name: "TypeError", message: /name/ });
  await assert.rejects(withSpan("x", 1 as never), { name: "TypeError", message: /fn/ });
  await assert.rejects(withSpan("x", () => 1, null as never), {
    name: "TypeError",
    message: /options/,
  });
  await assert.rejects(withSpan("x", () => 1, { kind: "weird" as never }), {
    name: "TypeError",
    message: /option kind/,
  });
  await assert.rejects(withSpan("x", () => 1, { attributes: [] as never }), {
    name: "TypeError",
    message: /option attributes/,
  });
  await assert.rejects(withSpan("x", () => 1, { parent: { traceId: "x" } as never }), {
    name: "TypeError",
    message: /option parent/,
  });
});

test("withSpan() keeps the logging context's other fields", async () => {
  const { lines, logger } = logLines();
  const span = await runWithContext(
    { request_id: "req-1", tenant: "acme" },
    () =>
      withSpan("work", (span) => {
        logger.info("working");
        return span;
      }),
  );
  assert.equal(lines[0]?.["request_id"], "req-1");
  assert.equal(lines[0]?.["tenant"], "acme");
  assert.equal(lines[0]?.["span_id"], span.spanId);
});
