// W3C Trace Context level 1, section 3.2: the traceparent header.
import { hexByte, newSpanId, newTraceId } from "./_ids.ts";
import type { TraceState } from "./trace_state.ts";

/**
 * The identity of a span as W3C Trace Context carries it: what `traceparent` (and
 * `tracestate`) hold, and what plinth puts in the logging context.
 *
 * @example
 * ```ts
 * import { formatTraceparent, type TraceContext } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const context: TraceContext = {
 *   traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
 *   spanId: "00f067aa0ba902b7",
 *   traceFlags: 1,
 * };
 * assert.equal(formatTraceparent(context), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * ```
 */
export interface TraceContext {
  /** The trace id: 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** The span id (the `parent-id` of a `traceparent`): 16 lowercase hex digits, not all zero. */
  readonly spanId: string;
  /** The trace flags; bit 0 (`1`) is `sampled`, the other bits are always clear. */
  readonly traceFlags: number;
  /** The vendors' `tracestate` members, when there are any. */
  readonly traceState?: TraceState | undefined;
  /** Whether the context came from another process (a header), not from a span of this one. */
  readonly isRemote?: boolean | undefined;
}

/**
 * The `sampled` trace flag.
 *
 * @example
 * ```ts
 * import { parseTraceparent, SAMPLED_FLAG } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const context = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
 * assert.equal(context?.traceFlags, SAMPLED_FLAG);
 * ```
 */
export const SAMPLED_FLAG = 1;

const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";
const HEX2 = /^[0-9a-f]{2}$/;
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const OWS = /^[ \t]+|[ \t]+$/g;
const V00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Whether `traceId` is a valid W3C trace id (32 lowercase hex digits, not all zero).
 *
 * @param traceId The value to check.
 * @returns Whether it is valid.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { isValidTraceId } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidTraceId("4bf92f3577b34da6a3ce929d0e0e4736"), true);
 * assert.equal(isValidTraceId("4BF92F3577B34DA6A3CE929D0E0E4736"), false);
 * assert.equal(isValidTraceId("0".repeat(32)), false);
 * ```
 */
export function isValidTraceId(traceId: unknown): traceId is string {
  return typeof traceId === "string" && TRACE_ID.test(traceId) && traceId !== ZERO_TRACE;
}

/**
 * Whether `spanId` is a valid W3C span id (16 lowercase hex digits, not all zero).
 *
 * @param spanId The value to check.
 * @returns Whether it is valid.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { isValidSpanId } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidSpanId("00f067aa0ba902b7"), true);
 * assert.equal(isValidSpanId("0000000000000000"), false);
 * ```
 */
export function isValidSpanId(spanId: unknown): spanId is string {
  return typeof spanId === "string" && SPAN_ID.test(spanId) && spanId !== ZERO_SPAN;
}

/**
 * Parses a `traceparent` header value by every rule of W3C Trace Context level 1: version `00`
 * is exactly `00-<trace-id>-<parent-id>-<flags>`; `ff` is invalid; a higher version is read by
 * its first four fields (what follows must start with `-`); lowercase hex only; all-zero ids are
 * invalid; the flags are masked (only `sampled` is kept), never compared. Spaces and tabs around
 * the value are ignored.
 *
 * @param text The header value, or `undefined`/`null` when there is none.
 * @returns The context (with `isRemote: true`), or `undefined` when the value is not valid.
 * @throws {never} Never throws: anything that is not a string gives `undefined`.
 *
 * @example
 * ```ts
 * import { parseTraceparent } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), {
 *   traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
 *   spanId: "00f067aa0ba902b7",
 *   traceFlags: 1,
 *   isRemote: true,
 * });
 * assert.equal(parseTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"), undefined);
 * assert.equal(parseTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), undefined);
 * assert.equal(
 *   parseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future")?.spanId,
 *   "00f067aa0ba902b7",
 * );
 * ```
 */
export function parseTraceparent(text: string | null | undefined): TraceContext | undefined {
  if (typeof text !== "string") return undefined;
  // The common case, version 00 exactly, in one match.
  const fast = text.length === 55 ? V00.exec(text) : null;
  if (fast !== null) {
    const traceId = fast[1]!;
    const spanId = fast[2]!;
    if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
    return { traceId, spanId, traceFlags: parseInt(fast[3]!, 16) & SAMPLED_FLAG, isRemote: true };
  }
  const value = text.length === 55 ? text : text.replace(OWS, "");
  if (value.length < 55) return undefined;
  const version = value.slice(0, 2);
  if (!HEX2.test(version) || version === "ff") return undefined;
  if (version === "00" ? value.length !== 55 : value.length > 55 && value[55] !== "-") {
    return undefined;
  }
  if (value[2] !== "-" || value[35] !== "-" || value[52] !== "-") return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!isValidTraceId(traceId) || !isValidSpanId(spanId) || !HEX2.test(flags)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & SAMPLED_FLAG, isRemote: true };
}

/**
 * Writes a `traceparent` header value, always in version `00`.
 *
 * @param context The trace id, span id and flags (`tracestate` is written by
 *   {@linkcode formatTracestate}).
 * @returns `00-<trace-id>-<span-id>-<flags>`.
 * @throws {TypeError} When the trace id or span id is not valid, or `traceFlags` is not an
 *   integer from 0 to 255.
 *
 * @example
 * ```ts
 * import { formatTraceparent } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const text = formatTraceparent({
 *   traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
 *   spanId: "00f067aa0ba902b7",
 *   traceFlags: 0,
 * });
 * assert.equal(text, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
 * ```
 */
export function formatTraceparent(context: TraceContext): string {
  if (typeof context !== "object" || context === null) {
    throw new TypeError("Cannot format traceparent: context must be an object");
  }
  const { traceId, spanId, traceFlags } = context;
  if (!isValidTraceId(traceId)) {
    throw new TypeError(
      "Cannot format traceparent: traceId must be 32 lowercase hex digits, not all zero",
    );
  }
  if (!isValidSpanId(spanId)) {
    throw new TypeError(
      "Cannot format traceparent: spanId must be 16 lowercase hex digits, not all zero",
    );
  }
  if (!Number.isInteger(traceFlags) || traceFlags < 0 || traceFlags > 255) {
    throw new TypeError("Cannot format traceparent: traceFlags must be an integer from 0 to 255");
  }
  return `00-${traceId}-${spanId}-${hexByte(traceFlags)}`;
}

/**
 * A new trace: a random trace id and span id (from `crypto.getRandomValues`), sampled unless
 * told otherwise. This is what a request with no (or an untrusted) `traceparent` starts.
 *
 * @param sampled Whether the trace is sampled. @default {true}
 * @returns A local (not remote) context with no `tracestate`.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { createTraceContext, formatTraceparent, parseTraceparent } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const context = createTraceContext();
 * assert.match(context.traceId, /^[0-9a-f]{32}$/);
 * assert.equal(context.traceFlags, 1);
 * assert.equal(parseTraceparent(formatTraceparent(context))?.spanId, context.spanId);
 * ```
 */
export function createTraceContext(sampled = true): TraceContext {
  return { traceId: newTraceId(), spanId: newSpanId(), traceFlags: sampled ? SAMPLED_FLAG : 0 };
}
