// Running work inside a span, in one async context: without an SDK, the ids in the logging
// context (logging's AsyncLocalStorage); with one, the span in OpenTelemetry's active context
// (the SDK's), where logging reads the ids through a context source.
import {
  getContext,
  type LogContext,
  registerContextSource,
  runWithContext,
} from "@plinth/logging";
import type { Span } from "@opentelemetry/api";
import { activeOtelContext, activeSpanOf, type SpanHandle, withOtelContext } from "./_otel.ts";
import {
  formatTraceparent,
  isValidSpanId,
  isValidTraceId,
  SAMPLED_FLAG,
  type TraceContext,
} from "./trace_context.ts";
import type { TraceState } from "./trace_state.ts";
import type { ActiveSpan, SpanAttributeValue } from "./with_span.ts";

class SpanView implements ActiveSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
  readonly traceState: TraceContext["traceState"];
  readonly #span: Span | undefined;
  #traceparent: string | undefined;

  constructor(handle: SpanHandle) {
    const { context } = handle;
    this.traceId = context.traceId;
    this.spanId = context.spanId;
    this.traceFlags = context.traceFlags;
    this.traceState = context.traceState;
    this.#span = handle.span;
  }

  get traceparent(): string {
    this.#traceparent ??= formatTraceparent(this);
    return this.#traceparent;
  }

  get recording(): boolean {
    return this.#span !== undefined && this.#span.isRecording();
  }

  setAttribute(key: string, value: SpanAttributeValue): void {
    if (value !== undefined && this.#span !== undefined) {
      this.#span.setAttribute(key, value as string);
    }
  }
}

/** Makes the public view of a started span. */
export function spanView(handle: SpanHandle): ActiveSpan {
  return new SpanView(handle);
}

// The `tracestate` of a span run without an SDK, by the logging context it runs in (the
// logging context carries the ids, not the vendors' state, which would fill every log line).
const traceStates = new WeakMap<LogContext, TraceState>();

/** The `tracestate` kept for the logging context `fields`, if any. */
export function traceStateOf(fields: LogContext): TraceState | undefined {
  return traceStates.get(fields);
}

// With an SDK, the ids reach log lines through a context source reading OpenTelemetry's active
// span (registered at the first SDK span), so a request pays for one async context (the SDK's)
// rather than two. The fields are made once per span, on the first line that asks.
const spanFields = new WeakMap<Span, LogContext>();
let sourceRegistered = false;

function flagsText(traceFlags: number): "00" | "01" {
  return (traceFlags & SAMPLED_FLAG) === 1 ? "01" : "00";
}

/** The log fields of OpenTelemetry's active span: the context source tracing registers. */
export function activeSpanFields(): LogContext | undefined {
  const span = activeSpanOf(activeOtelContext());
  if (span === undefined) return undefined;
  let fields = spanFields.get(span);
  if (fields === undefined) {
    const sc = span.spanContext();
    if (!isValidTraceId(sc.traceId) || !isValidSpanId(sc.spanId)) return undefined;
    fields = Object.freeze({
      trace_id: sc.traceId,
      span_id: sc.spanId,
      trace_flags: flagsText(sc.traceFlags),
    });
    spanFields.set(span, fields);
  }
  return fields;
}

/**
 * Runs `fn` with `handle` as the active span: the ids (`trace_id`, `span_id`, `trace_flags`) in
 * the logging context and, with an SDK, the span in OpenTelemetry's active context (where the
 * context source finds the ids, unless the SDK's context manager does not keep it: then in the
 * logging context too).
 */
export function runInSpan<T>(handle: SpanHandle, fn: () => T): T {
  const { context, otel } = handle;
  if (otel !== undefined) {
    if (!sourceRegistered) {
      sourceRegistered = true;
      registerContextSource(activeSpanFields);
    }
    return withOtelContext(otel, () =>
      // No context manager (or one that ignores with()): the source sees nothing, so the
      // logging context carries the ids, as without an SDK.
      activeOtelContext() === otel ? fn() : runInLogContext(context, fn));
  }
  return runInLogContext(context, fn);
}

/** Runs `fn` with the ids of `context` (and its `tracestate`, aside) in the logging context. */
function runInLogContext<T>(context: TraceContext, fn: () => T): T {
  const state = context.traceState;
  if (state === undefined || state.length === 0) return runWithContext(idFields(context), fn);
  return runWithContext(idFields(context), () => {
    const current = getContext();
    if (current !== undefined) traceStates.set(current, state);
    return fn();
  });
}

function idFields(context: TraceContext): LogContext {
  return {
    trace_id: context.traceId,
    span_id: context.spanId,
    trace_flags: flagsText(context.traceFlags),
  };
}
