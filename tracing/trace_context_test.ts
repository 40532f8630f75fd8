import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createTraceContext,
  formatTraceparent,
  isValidSpanId,
  isValidTraceId,
  parseTraceparent,
} from "./trace_context.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

// W3C Trace Context level 1, section 3.2 and the test suite's traceparent cases.
const VALID: readonly (readonly [string, string, number])[] = [
  ["version 00, sampled", `00-${TRACE}-${SPAN}-01`, 1],
  ["version 00, not sampled", `00-${TRACE}-${SPAN}-00`, 0],
  ["unknown flags are masked, not compared", `00-${TRACE}-${SPAN}-ff`, 1],
  ["flags 02 (random, level 2) mean not sampled", `00-${TRACE}-${SPAN}-02`, 0],
  ["flags 03", `00-${TRACE}-${SPAN}-03`, 1],
  ["a higher version is read by its first fields", `01-${TRACE}-${SPAN}-01`, 1],
  ["a higher version with more fields after a dash", `cc-${TRACE}-${SPAN}-01-what-the-future`, 1],
  ["a higher version, exactly 55 characters", `fe-${TRACE}-${SPAN}-00`, 0],
  ["spaces and tabs around the value", ` \t00-${TRACE}-${SPAN}-01\t `, 1],
];

const INVALID: readonly (readonly [string, unknown])[] = [
  ["no value", undefined],
  ["null", null],
  ["a number", 42],
  ["empty", ""],
  ["version ff", `ff-${TRACE}-${SPAN}-01`],
  ["uppercase version", `0A-${TRACE}-${SPAN}-01`],
  ["one-digit version", `0-${TRACE}-${SPAN}-01`],
  ["non-hex version", `0x-${TRACE}-${SPAN}-01`],
  ["uppercase trace id", `00-${TRACE.toUpperCase()}-${SPAN}-01`],
  ["uppercase span id", `00-${TRACE}-${SPAN.toUpperCase()}-01`],
  ["uppercase flags", `00-${TRACE}-${SPAN}-0A`],
  ["all-zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
  ["all-zero span id", `00-${TRACE}-${"0".repeat(16)}-01`],
  ["short trace id", `00-${TRACE.slice(1)}-${SPAN}-01`],
  ["long trace id", `00-${TRACE}0-${SPAN}-01`],
  ["short span id", `00-${TRACE}-${SPAN.slice(1)}-01`],
  ["non-hex trace id", `00-${TRACE.slice(0, 31)}g-${SPAN}-01`],
  ["non-hex flags", `00-${TRACE}-${SPAN}-0g`],
  ["one-digit flags", `00-${TRACE}-${SPAN}-1`],
  ["version 00 with more fields", `00-${TRACE}-${SPAN}-01-extra`],
  ["version 00 with a trailing dash", `00-${TRACE}-${SPAN}-01-`],
  ["a higher version followed by no dash", `01-${TRACE}-${SPAN}-01x`],
  ["wrong separator", `00_${TRACE}_${SPAN}_01`],
  ["two values joined by a comma", `00-${TRACE}-${SPAN}-01,00-${TRACE}-${SPAN}-01`],
  ["missing flags", `00-${TRACE}-${SPAN}`],
  ["a space inside", `00-${TRACE}- ${SPAN.slice(1)}-01`],
];

for (const [name, text, flags] of VALID) {
  test(`parseTraceparent() accepts ${name}`, () => {
    assert.deepEqual(parseTraceparent(text), {
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: flags,
      isRemote: true,
    });
  });
}

for (const [name, text] of INVALID) {
  test(`parseTraceparent() refuses ${name}`, () => {
    assert.equal(parseTraceparent(text as string), undefined);
  });
}

test("formatTraceparent() writes version 00 and round-trips through parseTraceparent()", () => {
  const text = formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: 1 });
  assert.equal(text, `00-${TRACE}-${SPAN}-01`);
  assert.equal(formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: 0 }).slice(-3), "-00");
  // A context read from a higher version is forwarded as version 00.
  const future = parseTraceparent(`cc-${TRACE}-${SPAN}-01-more`)!;
  assert.equal(formatTraceparent(future), `00-${TRACE}-${SPAN}-01`);
});

test("formatTraceparent() refuses ids the spec calls invalid, naming the field", () => {
  assert.throws(
    () => formatTraceparent({ traceId: "0".repeat(32), spanId: SPAN, traceFlags: 1 }),
    { name: "TypeError", message: /traceId/ },
  );
  assert.throws(
    () => formatTraceparent({ traceId: TRACE, spanId: "XYZ", traceFlags: 1 }),
    { name: "TypeError", message: /spanId/ },
  );
  assert.throws(
    () => formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags: 256 }),
    { name: "TypeError", message: /traceFlags/ },
  );
  assert.throws(() => formatTraceparent(null as never), { name: "TypeError", message: /context/ });
});

test("createTraceContext() makes random, valid, distinct ids", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const context = createTraceContext();
    assert.ok(isValidTraceId(context.traceId));
    assert.ok(isValidSpanId(context.spanId));
    assert.equal(context.traceFlags, 1);
    seen.add(context.traceId);
    seen.add(context.spanId);
  }
  assert.equal(seen.size, 2000);
  assert.equal(createTraceContext(false).traceFlags, 0);
});

test("isValidTraceId() and isValidSpanId() refuse non-strings and wrong lengths", () => {
  assert.equal(isValidTraceId(undefined), false);
  assert.equal(isValidTraceId(TRACE.slice(2)), false);
  assert.equal(isValidSpanId(12345), false);
  assert.equal(isValidSpanId(`${SPAN}0`), false);
});
