import { formatTraceparent, parseTraceparent, type TraceContext } from "./trace_context.ts";
import { formatTracestate, parseTracestate } from "./trace_state.ts";
import { currentTrace } from "./with_span.ts";

/**
 * The W3C `traceparent` header name.
 *
 * @example
 * ```ts
 * import { TRACEPARENT_HEADER } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TRACEPARENT_HEADER, "traceparent");
 * ```
 */
export const TRACEPARENT_HEADER = "traceparent";

/**
 * The W3C `tracestate` header name.
 *
 * @example
 * ```ts
 * import { TRACESTATE_HEADER } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TRACESTATE_HEADER, "tracestate");
 * ```
 */
export const TRACESTATE_HEADER = "tracestate";

/**
 * Something that carries headers: a fetch `Headers` (or any object with `get`/`set`), or a plain
 * object of header values (Node's `IncomingHttpHeaders`, NATS or event headers as a record).
 *
 * @example
 * ```ts
 * import { type HeaderCarrier, injectTraceHeaders, parseTraceparent } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const carrier: HeaderCarrier = {};
 * const context = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")!;
 * injectTraceHeaders(carrier, { context });
 * assert.equal(carrier["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * ```
 */
export type HeaderCarrier =
  | {
    get(name: string): string | null | undefined;
    set(name: string, value: string): unknown;
    delete?(name: string): unknown;
  }
  | Record<string, string | readonly string[] | undefined>;

/**
 * Options of {@linkcode injectTraceHeaders}.
 *
 * @example
 * ```ts
 * import { createTraceContext, injectTraceHeaders, type InjectOptions } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const options: InjectOptions = { context: createTraceContext() };
 * const headers = injectTraceHeaders(new Headers(), options);
 * assert.ok(headers.has("traceparent"));
 * ```
 */
export interface InjectOptions {
  /** The context to write. @default {the current trace ({@linkcode currentTrace})} */
  readonly context?: TraceContext | undefined;
}

function isHeadersLike(
  carrier: HeaderCarrier,
): carrier is {
  get(name: string): string | null | undefined;
  set(name: string, value: string): unknown;
} {
  return typeof (carrier as { get?: unknown }).get === "function" &&
    typeof (carrier as { set?: unknown }).set === "function";
}

function checkCarrier(carrier: unknown, action: string): asserts carrier is HeaderCarrier {
  if (typeof carrier !== "object" || carrier === null || Array.isArray(carrier)) {
    throw new TypeError(`${action}: headers must be a Headers object or a plain object`);
  }
}

/** The values of `name` in a plain record, its key in any case. */
function recordValues(
  record: Record<string, string | readonly string[] | undefined>,
  name: string,
): readonly string[] {
  const exact = record[name];
  let found: string | readonly string[] | undefined = exact;
  if (found === undefined) {
    for (const key of Object.keys(record)) {
      if (key.length === name.length && key.toLowerCase() === name) {
        found = record[key];
        break;
      }
    }
  }
  if (found === undefined) return [];
  return typeof found === "string" ? [found] : Array.isArray(found) ? found : [];
}

/**
 * Writes the current trace (or `options.context`) into `headers` as `traceparent` and, when it
 * has members, `tracestate` (a stale `tracestate` is removed). Use it on outgoing requests,
 * messages and jobs; events published with `@plinth/events` get it without asking.
 *
 * @param headers The carrier: a `Headers`, or a plain object (lower-case keys are written).
 * @param options The context to write instead of the current one.
 * @returns `headers`, unchanged when there is no trace to write.
 * @throws {TypeError} When `headers` is not an object, or the context is not valid.
 *
 * @example
 * ```ts
 * import { injectTraceHeaders, withSpan } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * await withSpan("call billing", (span) => {
 *   const headers = injectTraceHeaders(new Headers());
 *   assert.equal(headers.get("traceparent"), span.traceparent);
 * });
 * assert.deepEqual(injectTraceHeaders({}), {});
 * ```
 */
export function injectTraceHeaders<H extends HeaderCarrier>(
  headers: H,
  options: InjectOptions = {},
): H {
  const action = "Cannot inject trace headers";
  checkCarrier(headers, action);
  const context = options.context ?? currentTrace();
  if (context === undefined) return headers;
  const traceparent = formatTraceparent({
    traceId: context.traceId,
    spanId: context.spanId,
    traceFlags: context.traceFlags & 1,
  });
  const tracestate = context.traceState === undefined ? "" : formatTracestate(context.traceState);
  if (isHeadersLike(headers)) {
    headers.set(TRACEPARENT_HEADER, traceparent);
    if (tracestate !== "") headers.set(TRACESTATE_HEADER, tracestate);
    else if (typeof headers.delete === "function") headers.delete(TRACESTATE_HEADER);
    return headers;
  }
  const record = headers as Record<string, string | readonly string[] | undefined>;
  for (const key of Object.keys(record)) {
    const lower = key.toLowerCase();
    if (lower === TRACEPARENT_HEADER || lower === TRACESTATE_HEADER) delete record[key];
  }
  record[TRACEPARENT_HEADER] = traceparent;
  if (tracestate !== "") record[TRACESTATE_HEADER] = tracestate;
  return headers;
}

/**
 * Reads the trace context a caller sent: a valid `traceparent` (exactly one) and, only then,
 * its `tracestate` (several headers joined). Invalid input gives `undefined`, never an error,
 * so a bad header starts a new trace instead of failing the request.
 *
 * @param headers The carrier: a `Headers`, or a plain object (keys in any case).
 * @returns The remote context (`isRemote: true`), or `undefined`.
 * @throws {TypeError} When `headers` is not an object.
 *
 * @example
 * ```ts
 * import { extractTraceContext } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const context = extractTraceContext({
 *   Traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
 *   tracestate: "rojo=00f067aa0ba902b7",
 * });
 * assert.equal(context?.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
 * assert.deepEqual(context?.traceState, [["rojo", "00f067aa0ba902b7"]]);
 * assert.equal(extractTraceContext(new Headers({ traceparent: "nonsense" })), undefined);
 * ```
 */
export function extractTraceContext(headers: HeaderCarrier): TraceContext | undefined {
  checkCarrier(headers, "Cannot extract trace context");
  let traceparent: string | null | undefined;
  let tracestate: string | null | undefined;
  if (isHeadersLike(headers)) {
    traceparent = headers.get(TRACEPARENT_HEADER);
    tracestate = traceparent == null ? undefined : headers.get(TRACESTATE_HEADER);
  } else {
    const record = headers as Record<string, string | readonly string[] | undefined>;
    const parents = recordValues(record, TRACEPARENT_HEADER);
    if (parents.length !== 1) return undefined;
    traceparent = parents[0];
    tracestate = recordValues(record, TRACESTATE_HEADER).join(",");
  }
  const context = parseTraceparent(traceparent);
  if (context === undefined) return undefined;
  const traceState = parseTracestate(tracestate);
  return traceState.length === 0 ? context : { ...context, traceState };
}
