/**
 * `registerTracing()`: the OpenTelemetry SDK wired for Node and Bun, exporting over OTLP/HTTP
 * (JSON) — a tracer provider with the service's name, a parent-based sampler, batching, the
 * `AsyncLocalStorage` context manager and the W3C propagator. The SDK packages are optional
 * peer dependencies loaded only by this entry point; `@plinth/tracing` itself never loads them.
 * On Deno, run with `OTEL_DENO=true` instead: Deno's own exporter receives plinth's spans.
 *
 * @example
 * ```ts
 * import { registerTracing } from "@plinth/tracing/otlp";
 * import assert from "node:assert/strict";
 *
 * if ("Deno" in globalThis) {
 *   // Deno exports spans itself: run with OTEL_DENO=true.
 *   await assert.rejects(registerTracing({ service: "orders" }), { code: "unsupported_runtime" });
 * } else {
 *   await using registration = await registerTracing({
 *     service: "orders",
 *     endpoint: "http://127.0.0.1:4318/v1/traces",
 *     sampler: 0.1,
 *   });
 *   assert.equal(registration.endpoint, "http://127.0.0.1:4318/v1/traces");
 * }
 * ```
 *
 * @module
 */
export * from "./register_tracing.ts";
