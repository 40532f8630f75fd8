// W3C Trace Context level 1, section 3.3: the tracestate header.

/**
 * A parsed `tracestate`: its list members as `[key, value]` pairs, leftmost (most recent vendor)
 * first, at most {@linkcode MAX_TRACESTATE_MEMBERS}, keys unique.
 *
 * @example
 * ```ts
 * import { parseTracestate, type TraceState } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const state: TraceState = parseTracestate("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
 * assert.deepEqual(state, [["congo", "t61rcWkgMzE"], ["rojo", "00f067aa0ba902b7"]]);
 * ```
 */
export type TraceState = readonly (readonly [key: string, value: string])[];

/**
 * The most list members a `tracestate` carries (W3C Trace Context level 1).
 *
 * @example
 * ```ts
 * import { MAX_TRACESTATE_MEMBERS, parseTracestate } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const many = Array.from({ length: 40 }, (_, i) => `k${i}=v`).join(",");
 * assert.equal(parseTracestate(many).length, MAX_TRACESTATE_MEMBERS);
 * ```
 */
export const MAX_TRACESTATE_MEMBERS = 32;

// key = simple-key / multi-tenant-key (tenant-id "@" system-id).
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
// value = 0*255(chr) nblk-chr, chr = %x20 / nblk-chr, nblk-chr = %x21-2B / %x2D-3C / %x3E-7E.
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** Whether `key` is a valid `tracestate` key. */
function validKey(key: string): boolean {
  return KEY.test(key);
}

/** Whether `value` is a valid `tracestate` value. */
function validValue(value: string): boolean {
  return VALUE.test(value);
}

/**
 * Parses a `tracestate` header value by W3C Trace Context level 1: list members separated by
 * commas with optional spaces or tabs around them, empty members skipped, a malformed member
 * (bad key, bad value, no `=`) dropped, a repeated key kept only where it first appears, and at
 * most {@linkcode MAX_TRACESTATE_MEMBERS} members kept. Only call it when the `traceparent`
 * beside it was valid: the spec ignores `tracestate` otherwise
 * ({@linkcode extractTraceContext} does that for you).
 *
 * @param text The header value (several `tracestate` headers joined with `,`), or `undefined`.
 * @returns The members, possibly none.
 * @throws {never} Never throws: anything that is not a string gives `[]`.
 *
 * @example
 * ```ts
 * import { parseTracestate } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseTracestate("a=1 ,, BAD=2,b=x y, a=3, c="), [["a", "1"], ["b", "x y"]]);
 * assert.deepEqual(parseTracestate("tenant@vendor=ok"), [["tenant@vendor", "ok"]]);
 * assert.deepEqual(parseTracestate(undefined), []);
 * ```
 */
export function parseTracestate(text: string | null | undefined): TraceState {
  if (typeof text !== "string" || text === "") return [];
  const members: (readonly [string, string])[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(",")) {
    const member = raw.replace(/^[ \t]+|[ \t]+$/g, "");
    if (member === "") continue;
    const equals = member.indexOf("=");
    if (equals <= 0) continue;
    const key = member.slice(0, equals);
    const value = member.slice(equals + 1);
    if (!validKey(key) || !validValue(value) || seen.has(key)) continue;
    seen.add(key);
    members.push([key, value]);
    if (members.length === MAX_TRACESTATE_MEMBERS) break;
  }
  return members;
}

/**
 * Writes a `tracestate` header value (`key=value` members joined by `,`).
 *
 * @param state The members, leftmost first.
 * @returns The header value; `""` for no members (send no header then).
 * @throws {TypeError} When `state` is not an array of `[key, value]` pairs, a key or a value
 *   breaks the W3C grammar, or a key repeats.
 * @throws {RangeError} When there are more than {@linkcode MAX_TRACESTATE_MEMBERS} members.
 *
 * @example
 * ```ts
 * import { formatTracestate } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatTracestate([["plinth", "1"], ["rojo", "00f067aa0ba902b7"]]),
 *   "plinth=1,rojo=00f067aa0ba902b7");
 * assert.throws(() => formatTracestate([["Upper", "x"]]), TypeError);
 * ```
 */
export function formatTracestate(state: TraceState): string {
  if (!Array.isArray(state)) {
    throw new TypeError("Cannot format tracestate: state must be an array of [key, value] pairs");
  }
  if (state.length > MAX_TRACESTATE_MEMBERS) {
    throw new RangeError(
      `Cannot format tracestate: at most ${MAX_TRACESTATE_MEMBERS} members, got ${state.length}`,
    );
  }
  const seen = new Set<string>();
  let out = "";
  for (const member of state) {
    const key: unknown = Array.isArray(member) ? member[0] : undefined;
    const value: unknown = Array.isArray(member) ? member[1] : undefined;
    if (typeof key !== "string" || !validKey(key)) {
      throw new TypeError("Cannot format tracestate: a key breaks the W3C key grammar");
    }
    if (typeof value !== "string" || !validValue(value)) {
      throw new TypeError(
        `Cannot format tracestate: the value of ${
          JSON.stringify(key)
        } breaks the W3C value grammar`,
      );
    }
    if (seen.has(key)) {
      throw new TypeError(`Cannot format tracestate: key ${JSON.stringify(key)} repeats`);
    }
    seen.add(key);
    out += out === "" ? `${key}=${value}` : `,${key}=${value}`;
  }
  return out;
}
