// Running work inside a span: the ids in the logging context (one AsyncLocalStorage, the one
// logging already has) and, with an SDK, the span in OpenTelemetry's active context.
import { getContext, type LogContext, runWithContext } from "@plinth/logging";
import type { Span } from "@opentelemetry/api";
import { type SpanHandle, withOtelContext } from "./_otel.ts";
import { formatTraceparent, SAMPLED_FLAG, type TraceContext } from "./trace_context.ts";
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

/**
 * Runs `fn` with `handle` as the active span: the ids (`trace_id`, `span_id`, `trace_flags`) in
 * the logging context and, with an SDK, the span in OpenTelemetry's active context.
 */
export function runInSpan<T>(handle: SpanHandle, fn: () => T): T {
  const { context, otel } = handle;
  const fields = {
    trace_id: context.traceId,
    span_id: context.spanId,
    trace_flags: (context.traceFlags & SAMPLED_FLAG) === 1 ? "01" : "00",
  };
  const state = context.traceState;
  if (otel === undefined && (state === undefined || state.length === 0)) {
    return runWithContext(fields, fn);
  }
  return runWithContext(fields, () => {
    if (state !== undefined && state.length > 0) {
      const current = getContext();
      if (current !== undefined) traceStates.set(current, state);
    }
    return otel === undefined ? fn() : withOtelContext(otel, fn);
  });
}
