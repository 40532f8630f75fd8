import { resolveOptions, wireSdk } from "./_wire_sdk.ts";
import { TracingError } from "./tracing_error.ts";

/**
 * Which traces to keep. Always parent-based: a span with a parent follows the parent's
 * `sampled` flag; the value decides for new traces (a ratio from 0 to 1 samples that share of
 * trace ids).
 *
 * @example
 * ```ts
 * import type { TracingSampler } from "@plinth/tracing/otlp";
 * import assert from "node:assert/strict";
 *
 * const tenPercent: TracingSampler = 0.1;
 * assert.equal(tenPercent, 0.1);
 * ```
 */
export type TracingSampler = "always_on" | "always_off" | number;

/**
 * Where finished spans go: the shape of an OpenTelemetry SDK `SpanExporter` (the SDK's
 * `InMemorySpanExporter`, `ConsoleSpanExporter` or any exporter package fits it).
 *
 * @example
 * ```ts
 * import type { SpanSink } from "@plinth/tracing/otlp";
 * import assert from "node:assert/strict";
 *
 * const counted: unknown[] = [];
 * const sink: SpanSink = {
 *   export(spans, done) {
 *     counted.push(...spans);
 *     done({ code: 0 });
 *   },
 *   shutdown: () => Promise.resolve(),
 * };
 * sink.export([{ name: "span" }], (result) => assert.equal(result.code, 0));
 * assert.equal(counted.length, 1);
 * ```
 */
export interface SpanSink {
  /** Sends `spans` (the SDK's `ReadableSpan`s); calls `done` with code 0 on success, 1 on failure. */
  export(spans: unknown[], done: (result: { code: number; error?: Error }) => void): void;
  /** Sends what is pending and releases the exporter. */
  shutdown(): Promise<void>;
  /** Sends what is pending. */
  forceFlush?(): Promise<void>;
}

/**
 * Options of {@linkcode registerTracing}.
 *
 * @example
 * ```ts
 * import type { RegisterTracingOptions } from "@plinth/tracing/otlp";
 * import assert from "node:assert/strict";
 *
 * const options: RegisterTracingOptions = {
 *   service: "billing",
 *   endpoint: "http://127.0.0.1:4318/v1/traces",
 *   sampler: 0.25,
 * };
 * assert.equal(options.service, "billing");
 * ```
 */
export interface RegisterTracingOptions {
  /** `service.name` of every span. */
  readonly service: string;
  /** `service.version` of every span. @default {undefined} */
  readonly serviceVersion?: string | undefined;
  /**
   * The OTLP/HTTP traces URL (spans are sent as JSON).
   * @default {`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else `http://localhost:4318/v1/traces`}
   */
  readonly endpoint?: string | undefined;
  /** Headers sent with each export (a collector's API key). @default {{}} */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Which new traces to sample (parent-based). @default {"always_on"} */
  readonly sampler?: TracingSampler | undefined;
  /** Longest wait before a batch of finished spans is sent, in ms. @default {5000} */
  readonly exportInterval?: number | undefined;
  /** Timeout of one export, in ms. @default {10000} */
  readonly exportTimeout?: number | undefined;
  /** Where spans go instead of OTLP/HTTP (another exporter, a test's in-memory one). @default {undefined} */
  readonly exporter?: SpanSink | undefined;
  /** The environment the endpoint defaults come from. @default {process.env} */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

/**
 * The registered SDK: {@linkcode registerTracing}'s result.
 *
 * @example
 * ```ts
 * import type { TracingRegistration } from "@plinth/tracing/otlp";
 * import assert from "node:assert/strict";
 *
 * const close = async (registration: TracingRegistration) => await registration.close();
 * assert.equal(typeof close, "function");
 * ```
 */
export interface TracingRegistration extends AsyncDisposable {
  /** The traces URL spans are sent to (`undefined` with a custom exporter). */
  readonly endpoint: string | undefined;
  /** Sends every finished span now. */
  flush(): Promise<void>;
  /** Sends what is left, then unregisters the SDK (the API is a no-op again). Idempotent. */
  close(): Promise<void>;
}

const DENO_HELP = "Cannot register tracing on Deno: Deno exports spans itself. Run with " +
  "OTEL_DENO=true (and OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT, " +
  "OTEL_EXPORTER_OTLP_PROTOCOL): plinth's spans then flow through Deno's exporter with no code";

/**
 * Wires the OpenTelemetry SDK for Node and Bun: a tracer provider with the `service.name`
 * resource, a parent-based sampler, a batch processor and the OTLP/HTTP exporter (JSON), an
 * `AsyncLocalStorage` context manager and the W3C propagator, all registered globally. From then
 * on the spans of `tracing()`, `withSpan()` and event subscribers are real and exported, as are
 * those of any other OpenTelemetry instrumentation. Call it once at start-up, before serving,
 * and `close()` it at shutdown (it sends what is left).
 *
 * On Deno it throws a {@linkcode TracingError} (`unsupported_runtime`) that explains
 * `OTEL_DENO=true`: Deno's built-in OpenTelemetry registers a provider with no code, and
 * plinth's spans flow through it.
 *
 * @param options The service name; endpoint, sampler, export timing.
 * @returns The registration, to flush and close.
 * @throws {TypeError} When `service` is not a non-empty string, or the endpoint, headers, sampler
 *   or exporter is of the wrong kind.
 * @throws {RangeError} When a ratio sampler is outside 0 to 1, or a duration is not a positive
 *   integer.
 * @throws {TracingError} `sdk_missing` when the SDK packages cannot be loaded,
 *   `unsupported_runtime` on Deno, `already_registered` when another provider is registered.
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
 */
export async function registerTracing(
  options: RegisterTracingOptions,
): Promise<TracingRegistration> {
  const resolved = resolveOptions(options);
  if (typeof (globalThis as { Deno?: { version?: unknown } }).Deno?.version === "object") {
    throw new TracingError(DENO_HELP, { code: "unsupported_runtime" });
  }

  return await wireSdk(resolved);
}
