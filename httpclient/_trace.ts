// Trace context on an outgoing attempt without the cost of a span nobody records: when no
// OpenTelemetry SDK is registered, an attempt only needs its `traceparent` (a new span id under
// the current trace, or a new trace) and the caller's `tracestate`; withSpan() would also run
// the attempt in a new logging context, which costs more than the rest of the client's work.
import { ProxyTracerProvider, trace } from "@opentelemetry/api";
import { currentTrace, formatTracestate } from "@plinth/tracing";

// What "no SDK" looks like: the delegate of a ProxyTracerProvider nobody registered.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/** Whether a tracer provider (an SDK) is registered with `@opentelemetry/api`. */
export function sdkRegistered(): boolean {
  const global = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = typeof global.getDelegate === "function" ? global.getDelegate() : global;
  return delegate !== NOOP_PROVIDER;
}

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);
const pool = new Uint8Array(4096);
let offset = pool.length;

/** `bytes` random bytes as lowercase hex, never all zero (W3C forbids all-zero ids). */
function randomHex(bytes: 8 | 16): string {
  for (;;) {
    if (offset + bytes > pool.length) {
      crypto.getRandomValues(pool);
      offset = 0;
    }
    let out = "";
    let zero = true;
    const end = offset + bytes;
    for (let i = offset; i < end; i++) {
      const byte = pool[i]!;
      if (byte !== 0) zero = false;
      out += HEX[byte]!;
    }
    offset = end;
    if (!zero) return out;
  }
}

/**
 * Writes `traceparent` (and `tracestate`, or removes a stale one) into `headers` for an attempt
 * that has no span of its own: a new span id under the current trace, or the root of a new,
 * sampled trace outside any. The same headers `withSpan()` + `injectTraceHeaders()` write.
 */
export function writeTraceHeaders(headers: Record<string, string>): void {
  const parent = currentTrace();
  if (parent === undefined) {
    headers.traceparent = `00-${randomHex(16)}-${randomHex(8)}-01`;
    delete headers.tracestate;
    return;
  }
  const flags = (parent.traceFlags & 1) === 1 ? "01" : "00";
  headers.traceparent = `00-${parent.traceId}-${randomHex(8)}-${flags}`;
  const state = parent.traceState;
  if (state !== undefined && state.length > 0) headers.tracestate = formatTracestate(state);
  else delete headers.tracestate;
}
