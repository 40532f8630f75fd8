// The bridge to @opentelemetry/api: real spans when a tracer provider is registered, plinth's
// own ids when none is (the API alone ignores parents and makes all-zero ids).
import {
  type Attributes,
  type Context,
  context as otelContext,
  createTraceState,
  INVALID_SPANID,
  INVALID_TRACEID,
  isSpanContextValid,
  type Link,
  ProxyTracerProvider,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  trace,
  type Tracer,
  type TraceState as OtelTraceState,
} from "@opentelemetry/api";
import { newSpanId } from "./_ids.ts";
import { createTraceContext, SAMPLED_FLAG, type TraceContext } from "./trace_context.ts";
import { formatTracestate, parseTracestate, type TraceState } from "./trace_state.ts";
import type { SpanKindName } from "./with_span.ts";

/** The instrumentation scope of plinth's spans. */
export const SCOPE_NAME = "@plinth/tracing";
/** The version of the instrumentation scope. */
export const SCOPE_VERSION = "0.1.0";

const KINDS: Readonly<Record<SpanKindName, SpanKind>> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/** Whether `value` names a span kind. */
export function isSpanKind(value: unknown): value is SpanKindName {
  return typeof value === "string" && Object.hasOwn(KINDS, value);
}

// The delegate of a ProxyTracerProvider nobody registered: what "no SDK" looks like.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();
let cachedFor: unknown;
let cachedTracer: Tracer | undefined;

/** The tracer of the registered provider, or `undefined` when no provider is registered. */
export function sdkTracer(): Tracer | undefined {
  const global = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = typeof global.getDelegate === "function" ? global.getDelegate() : global;
  if (delegate === NOOP_PROVIDER) return undefined;
  if (cachedFor !== delegate) {
    cachedFor = delegate;
    cachedTracer = trace.getTracer(SCOPE_NAME, SCOPE_VERSION);
  }
  return cachedTracer;
}

/** A started span: its context, and the SDK's span when one made it. */
export interface SpanHandle {
  readonly context: TraceContext;
  /** The SDK's span (recording or not), `undefined` without an SDK. */
  readonly span: Span | undefined;
  /** The OpenTelemetry context with the span set, to make active around the work. */
  readonly otel: Context | undefined;
}

const stateCache = new WeakMap<OtelTraceState, TraceState>();

function toOtelState(state: TraceState | undefined): OtelTraceState | undefined {
  if (state === undefined || state.length === 0) return undefined;
  const otel = createTraceState(formatTracestate(state));
  stateCache.set(otel, state);
  return otel;
}

/** A plinth context from an OpenTelemetry span context. */
export function fromSpanContext(sc: SpanContext): TraceContext {
  const otelState = sc.traceState;
  let traceState: TraceState | undefined;
  if (otelState !== undefined) {
    traceState = stateCache.get(otelState);
    if (traceState === undefined) {
      traceState = parseTracestate(otelState.serialize());
      stateCache.set(otelState, traceState);
    }
  }
  const context: { -readonly [K in keyof TraceContext]: TraceContext[K] } = {
    traceId: sc.traceId,
    spanId: sc.spanId,
    traceFlags: sc.traceFlags & SAMPLED_FLAG,
  };
  if (traceState !== undefined && traceState.length > 0) context.traceState = traceState;
  if (sc.isRemote === true) context.isRemote = true;
  return context;
}

function toSpanContext(context: TraceContext): SpanContext {
  const traceState = toOtelState(context.traceState);
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    traceFlags: context.traceFlags,
    isRemote: context.isRemote === true,
    ...(traceState === undefined ? {} : { traceState }),
  };
}

/**
 * Starts a span named `name`: a child of `parent`, or the root of a new trace. With an SDK the
 * SDK makes it (ids, sampling); without one, a new span id under the parent's trace id.
 */
export function startSpan(
  name: string,
  kind: SpanKindName,
  parent: TraceContext | undefined,
  attributes: Attributes | undefined,
  link: TraceContext | undefined,
): SpanHandle {
  const tracer = sdkTracer();
  if (tracer !== undefined) {
    const active = otelContext.active();
    let parentContext = active;
    if (parent !== undefined) {
      const current = trace.getSpanContext(active);
      if (current === undefined || current.spanId !== parent.spanId) {
        parentContext = trace.setSpanContext(active, toSpanContext(parent));
      }
    }
    const links: Link[] | undefined = link === undefined
      ? undefined
      : [{ context: toSpanContext(link) }];
    const spanOptions: SpanOptions = { kind: KINDS[kind] };
    if (attributes !== undefined) spanOptions.attributes = attributes;
    if (links !== undefined) spanOptions.links = links;
    if (parent === undefined) spanOptions.root = true;
    const span = tracer.startSpan(name, spanOptions, parentContext);
    const sc = span.spanContext();
    // A no-op tracer (an SDK in another copy of the API, not really there) wraps the parent.
    // An SDK's ids are well-formed; a no-op tracer's are all zero or the parent's.
    if (
      sc.spanId !== INVALID_SPANID && sc.traceId !== INVALID_TRACEID &&
      (parent === undefined || sc.spanId !== parent.spanId)
    ) {
      return { context: fromSpanContext(sc), span, otel: trace.setSpan(active, span) };
    }
  }
  const context: TraceContext = parent === undefined ? createTraceContext() : {
    traceId: parent.traceId,
    spanId: newSpanId(),
    traceFlags: parent.traceFlags,
    ...(parent.traceState === undefined ? {} : { traceState: parent.traceState }),
  };
  return { context, span: undefined, otel: undefined };
}

/** The span context of the active OpenTelemetry context, when it has a valid one. */
export function activeSpanContext(): SpanContext | undefined {
  const sc = trace.getSpanContext(otelContext.active());
  return sc !== undefined && isSpanContextValid(sc) ? sc : undefined;
}

/** The active OpenTelemetry context. */
export function activeOtelContext(): Context {
  return otelContext.active();
}

/** The span set in `ctx`, if any. */
export function activeSpanOf(ctx: Context): Span | undefined {
  return trace.getSpan(ctx);
}

/** Runs `fn` with `otel` as the active OpenTelemetry context. */
export function withOtelContext<T>(otel: Context, fn: () => T): T {
  return otelContext.with(otel, fn);
}

/** Ends `span`: an error status (and the exception) when `error` is given. */
export function endSpan(span: Span, error: unknown, failed: boolean): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.name : "thrown value",
    });
  } else if (failed) {
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
