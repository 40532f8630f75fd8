import { getContext } from "@plinth/logging";
import type { Attributes } from "@opentelemetry/api";
import { activeSpanContext, endSpan, fromSpanContext, isSpanKind, startSpan } from "./_otel.ts";
import { runInSpan, spanView, traceStateOf } from "./_run.ts";
import { isValidSpanId, isValidTraceId, SAMPLED_FLAG, type TraceContext } from "./trace_context.ts";

/**
 * The kind of a span, as OpenTelemetry names them: `server` for an incoming request (the
 * middleware's), `client` for an outgoing call or a query, `producer`/`consumer` for messages,
 * `internal` for the rest.
 *
 * @example
 * ```ts
 * import { type SpanKindName, withSpan } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const kind: SpanKindName = "client";
 * assert.equal(await withSpan("GET billing", () => "ok", { kind }), "ok");
 * ```
 */
export type SpanKindName = "internal" | "server" | "client" | "producer" | "consumer";

/**
 * A span attribute value, as OpenTelemetry accepts them (`undefined` values are skipped).
 *
 * @example
 * ```ts
 * import type { SpanAttributeValue } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const rows: SpanAttributeValue = 3;
 * assert.equal(rows, 3);
 * ```
 */
export type SpanAttributeValue =
  | string
  | number
  | boolean
  | readonly string[]
  | readonly number[]
  | readonly boolean[]
  | undefined;

/**
 * Attributes of a span, by OpenTelemetry attribute name (`db.system.name`,
 * `messaging.destination.name`, …).
 *
 * @example
 * ```ts
 * import type { SpanAttributes } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const attributes: SpanAttributes = { "db.system.name": "postgresql", "db.operation.name": "SELECT" };
 * assert.equal(Object.keys(attributes).length, 2);
 * ```
 */
export type SpanAttributes = Readonly<Record<string, SpanAttributeValue>>;

/**
 * The span a piece of work runs in (`withSpan()`'s callback argument, the middleware's
 * `c.var.trace`): its ids, its `traceparent`, and a way to add attributes. Without an SDK the
 * attributes go nowhere, the ids are real either way.
 *
 * @example
 * ```ts
 * import { type ActiveSpan, withSpan } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const span: ActiveSpan = await withSpan("work", (span) => span);
 * assert.equal(span.traceparent, `00-${span.traceId}-${span.spanId}-01`);
 * span.setAttribute("ignored.after.end", 1); // harmless
 * ```
 */
export interface ActiveSpan extends TraceContext {
  /** The span as a `traceparent` header value. */
  readonly traceparent: string;
  /** Whether the SDK records the span (always `false` without an SDK). */
  readonly recording: boolean;
  /**
   * Sets an attribute on the span (no effect without an SDK or after the span ended).
   * @param key The OpenTelemetry attribute name.
   * @param value The value; `undefined` is skipped.
   */
  setAttribute(key: string, value: SpanAttributeValue): void;
}

/**
 * The trace context of the running code: OpenTelemetry's active span when an SDK is registered
 * (plinth's spans are made active there, as are other instrumentations'), else the ids that
 * plinth's spans (`withSpan()`, the `tracing()` middleware, an event subscriber) or your own
 * code put in the logging context (`trace_id`, `span_id`, `trace_flags`).
 *
 * @returns The context, or `undefined` outside any trace.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { currentTrace, withSpan } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * assert.equal(currentTrace(), undefined);
 * await withSpan("outer", async (span) => {
 *   await Promise.resolve();
 *   assert.equal(currentTrace()?.spanId, span.spanId);
 * });
 * ```
 */
export function currentTrace(): TraceContext | undefined {
  const sc = activeSpanContext();
  if (sc !== undefined) return fromSpanContext(sc);
  const fields = getContext();
  if (fields === undefined) return undefined;
  const { trace_id: traceId, span_id: spanId, trace_flags: flags } = fields;
  if (!isValidTraceId(traceId) || !isValidSpanId(spanId)) return undefined;
  const traceFlags = flags === "00" || flags === 0 ? 0 : SAMPLED_FLAG;
  const traceState = traceStateOf(fields);
  return traceState === undefined
    ? { traceId, spanId, traceFlags }
    : { traceId, spanId, traceFlags, traceState };
}

/**
 * Options of {@linkcode withSpan}.
 *
 * @example
 * ```ts
 * import { parseTraceparent, withSpan, type WithSpanOptions } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const parent = parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * const options: WithSpanOptions = { kind: "consumer", parent, attributes: { "messaging.system": "nats" } };
 * const traceId = await withSpan("orders process", (span) => span.traceId, options);
 * assert.equal(traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
 * ```
 */
export interface WithSpanOptions {
  /** Attributes of the span. @default {undefined} */
  readonly attributes?: SpanAttributes | undefined;
  /** The span's kind. @default {"internal"} */
  readonly kind?: SpanKindName | undefined;
  /**
   * The parent: a context (from {@linkcode extractTraceContext}, say), or `null` for the root of a
   * new trace. @default {the current trace ({@linkcode currentTrace})}
   */
  readonly parent?: TraceContext | null | undefined;
}

function checkAttributes(attributes: unknown, action: string): Attributes | undefined {
  if (attributes === undefined) return undefined;
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) {
    throw new TypeError(`${action}: option attributes must be an object`);
  }
  return attributes as Attributes;
}

/**
 * Runs `fn` in a span named `name`, a child of the current trace (or the root of a new one):
 * with an OpenTelemetry SDK registered, a real span, active for any instrumentation below it,
 * with an error status and the exception recorded when `fn` throws; without one, a new span id
 * under the same trace id. Either way, every line logged inside carries the span's `trace_id`
 * and `span_id`, and events published inside carry its `traceparent`.
 *
 * @param name The span name (`SELECT orders`, `orders.created publish`).
 * @param fn The work; it gets the {@linkcode ActiveSpan}.
 * @param options Attributes, kind and parent.
 * @returns What `fn` returns (awaited).
 * @throws {TypeError} When `name` is not a non-empty string, `fn` is not a function or an
 *   option has the wrong type; whatever `fn` throws.
 *
 * @example
 * ```ts
 * import { createLogger } from "@plinth/logging";
 * import { withSpan } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
 * const outer = await withSpan("import users", async (outer) => {
 *   await withSpan("SELECT users", () => logger.info("querying"), {
 *     attributes: { "db.system.name": "postgresql" },
 *   });
 *   return outer;
 * });
 * const line = JSON.parse(lines[0]!);
 * assert.equal(line.trace_id, outer.traceId);
 * assert.notEqual(line.span_id, outer.spanId);
 * ```
 */
export async function withSpan<T>(
  name: string,
  fn: (span: ActiveSpan) => T | Promise<T>,
  options: WithSpanOptions = {},
): Promise<T> {
  const action = "Cannot run withSpan";
  if (typeof name !== "string" || name === "") {
    throw new TypeError(`${action}: name must be a non-empty string`);
  }
  if (typeof fn !== "function") throw new TypeError(`${action}: fn must be a function`);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${action}: options must be an object`);
  }
  const kind = options.kind ?? "internal";
  if (!isSpanKind(kind)) {
    throw new TypeError(
      `${action}: option kind must be "internal", "server", "client", "producer" or "consumer"`,
    );
  }
  const attributes = checkAttributes(options.attributes, action);
  const parentOption = options.parent;
  if (
    parentOption !== undefined && parentOption !== null &&
    (typeof parentOption !== "object" || !isValidTraceId(parentOption.traceId) ||
      !isValidSpanId(parentOption.spanId))
  ) {
    throw new TypeError(`${action}: option parent must be a valid trace context or null`);
  }
  const parent = parentOption === undefined ? currentTrace() : parentOption ?? undefined;
  const handle = startSpan(name, kind, parent, attributes, undefined);
  const view = spanView(handle);
  let result: T;
  try {
    result = await runInSpan(handle, () => fn(view));
  } catch (error) {
    if (handle.span !== undefined) endSpan(handle.span, error, true);
    throw error;
  }
  if (handle.span !== undefined) endSpan(handle.span, undefined, false);
  return result;
}
