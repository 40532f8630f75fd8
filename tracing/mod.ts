/**
 * W3C trace context for plinth services, and real OpenTelemetry spans when an SDK is there.
 *
 * The package depends only on `@opentelemetry/api`. Without a registered SDK that API ignores
 * incoming context and makes all-zero ids, so plinth parses, creates and propagates W3C Trace
 * Context itself ({@linkcode parseTraceparent}, {@linkcode parseTracestate},
 * {@linkcode extractTraceContext}, {@linkcode injectTraceHeaders}), and hands span creation to
 * the API when a provider is registered (`registerTracing()` of `@plinth/tracing/otlp` on Node
 * and Bun, `OTEL_DENO=true` on Deno). Either way {@linkcode withSpan} puts `trace_id` and
 * `span_id` in the logging context, so every log line carries them. The Hono middleware,
 * `tracing()`, comes from `@plinth/tracing/hono`; this entry point loads no SDK and no `node:`
 * module, so it runs on edge runtimes too.
 *
 * @example
 * ```ts
 * import { extractTraceContext, injectTraceHeaders, withSpan } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const incoming = new Headers({
 *   traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
 *   tracestate: "rojo=00f067aa0ba902b7",
 * });
 * const outgoing = await withSpan("handle job", () => injectTraceHeaders(new Headers()), {
 *   parent: extractTraceContext(incoming) ?? null,
 * });
 * assert.match(outgoing.get("traceparent")!, /^00-4bf92f3577b34da6a3ce929d0e0e4736-/);
 * assert.equal(outgoing.get("tracestate"), "rojo=00f067aa0ba902b7");
 * ```
 *
 * @module
 */
export * from "./trace_context.ts";
export * from "./trace_state.ts";
export * from "./propagation.ts";
export * from "./with_span.ts";
export * from "./tracing_error.ts";
