// The OpenTelemetry SDK wiring behind registerTracing(): options checked once, then the
// provider, sampler, batch processor, exporter, context manager and propagator registered.
import process from "node:process";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type {
  RegisterTracingOptions,
  SpanSink,
  TracingRegistration,
  TracingSampler,
} from "./register_tracing.ts";
import { TracingError } from "./tracing_error.ts";

/** The checked options. */
export interface ResolvedOptions {
  readonly service: string;
  readonly serviceVersion: string | undefined;
  readonly sampler: TracingSampler;
  readonly headers: Readonly<Record<string, string>>;
  readonly exportInterval: number;
  readonly exportTimeout: number;
  readonly exporter: SpanSink | undefined;
  readonly endpoint: string | undefined;
}

function checkMs(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`Invalid registerTracing option ${name}: must be a positive integer (ms)`);
  }
  return value;
}

function readEnv(
  env: Readonly<Record<string, string | undefined>> | undefined,
  name: string,
): string | undefined {
  try {
    const value = env?.[name];
    return typeof value === "string" && value !== "" ? value : undefined;
  } catch {
    return undefined; // Deno without --allow-env for this name
  }
}

function resolveEndpoint(
  option: unknown,
  env: Readonly<Record<string, string | undefined>> | undefined,
): string {
  let url: string;
  if (option !== undefined) {
    if (typeof option !== "string") {
      throw new TypeError("Invalid registerTracing option endpoint: must be an http(s) URL");
    }
    url = option;
  } else {
    const traces = readEnv(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    const base = readEnv(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
    url = traces ??
      (base === undefined
        ? "http://localhost:4318/v1/traces"
        : `${base.replace(/\/+$/, "")}/v1/traces`);
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new TypeError(
      option === undefined
        ? "Invalid OTLP endpoint from the environment: must be an http(s) URL"
        : "Invalid registerTracing option endpoint: must be an http(s) URL",
    );
  }
  return url;
}

type Sdk = [
  typeof import("@opentelemetry/api"),
  typeof import("@opentelemetry/sdk-trace-base"),
  typeof import("@opentelemetry/resources"),
  typeof import("@opentelemetry/core"),
  typeof import("@opentelemetry/context-async-hooks"),
];

async function loadSdk(): Promise<Sdk> {
  try {
    return await Promise.all([
      import("@opentelemetry/api"),
      import("@opentelemetry/sdk-trace-base"),
      import("@opentelemetry/resources"),
      import("@opentelemetry/core"),
      import("@opentelemetry/context-async-hooks"),
    ]);
  } catch (cause) {
    throw new TracingError(
      "Cannot register tracing: the OpenTelemetry SDK is not installed: install " +
        "@opentelemetry/sdk-trace-base, @opentelemetry/resources, @opentelemetry/core, " +
        "@opentelemetry/context-async-hooks and @opentelemetry/exporter-trace-otlp-http",
      { code: "sdk_missing", cause },
    );
  }
}

/** Checks the options of registerTracing(), naming the one that is wrong. */
export function resolveOptions(options: RegisterTracingOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Invalid registerTracing options: must be an object with a service");
  }
  const { service } = options;
  if (typeof service !== "string" || service.trim() === "") {
    throw new TypeError("Invalid registerTracing option service: must be a non-empty string");
  }
  if (options.serviceVersion !== undefined && typeof options.serviceVersion !== "string") {
    throw new TypeError("Invalid registerTracing option serviceVersion: must be a string");
  }
  const sampler = options.sampler ?? "always_on";
  if (typeof sampler === "number") {
    if (!(sampler >= 0 && sampler <= 1)) {
      throw new RangeError("Invalid registerTracing option sampler: a ratio must be from 0 to 1");
    }
  } else if (sampler !== "always_on" && sampler !== "always_off") {
    throw new TypeError(
      'Invalid registerTracing option sampler: must be "always_on", "always_off" or a ratio',
    );
  }
  const headers = options.headers ?? {};
  if (
    typeof headers !== "object" || headers === null ||
    Object.values(headers).some((v) => typeof v !== "string")
  ) {
    throw new TypeError("Invalid registerTracing option headers: must be an object of strings");
  }
  const exportInterval = checkMs(options.exportInterval, "exportInterval", 5000);
  const exportTimeout = checkMs(options.exportTimeout, "exportTimeout", 10_000);
  const custom = options.exporter;
  if (custom !== undefined && typeof custom?.export !== "function") {
    throw new TypeError("Invalid registerTracing option exporter: must be a SpanExporter");
  }
  const env = options.env ?? process.env;
  const endpoint = custom === undefined ? resolveEndpoint(options.endpoint, env) : undefined;
  return {
    service,
    serviceVersion: options.serviceVersion,
    sampler,
    headers,
    exportInterval,
    exportTimeout,
    exporter: custom,
    endpoint,
  };
}

/** Registers the SDK globally with `options`. */
export async function wireSdk(options: ResolvedOptions): Promise<TracingRegistration> {
  const { service, sampler, headers, exportInterval, exportTimeout, endpoint } = options;
  const custom = options.exporter;
  const [api, base, resources, core, hooks] = await loadSdk();
  let exporter: SpanExporter;
  if (custom !== undefined) {
    exporter = custom as SpanExporter;
  } else {
    let otlp: typeof import("@opentelemetry/exporter-trace-otlp-http");
    try {
      otlp = await import("@opentelemetry/exporter-trace-otlp-http");
    } catch (cause) {
      throw new TracingError(
        "Cannot register tracing: @opentelemetry/exporter-trace-otlp-http is not installed",
        { code: "sdk_missing", cause },
      );
    }
    exporter = new otlp.OTLPTraceExporter({
      url: endpoint!,
      headers: { ...headers },
      timeoutMillis: exportTimeout,
    });
  }
  const root = typeof sampler === "number"
    ? new base.TraceIdRatioBasedSampler(sampler)
    : sampler === "always_on"
    ? new base.AlwaysOnSampler()
    : new base.AlwaysOffSampler();
  const provider = new base.BasicTracerProvider({
    resource: resources.resourceFromAttributes({
      "service.name": service,
      ...(options.serviceVersion === undefined
        ? {}
        : { "service.version": options.serviceVersion }),
    }),
    sampler: new base.ParentBasedSampler({ root }),
    spanProcessors: [
      new base.BatchSpanProcessor(exporter, {
        scheduledDelayMillis: exportInterval,
        exportTimeoutMillis: exportTimeout,
      }),
    ],
  });
  if (!api.trace.setGlobalTracerProvider(provider)) {
    await provider.shutdown();
    throw new TracingError(
      "Cannot register tracing: another OpenTelemetry tracer provider is registered",
      { code: "already_registered" },
    );
  }
  const manager = new hooks.AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(manager);
  api.propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await provider.shutdown();
      } finally {
        api.trace.disable();
        api.context.disable();
        api.propagation.disable();
        manager.disable();
      }
    })();
    return closing;
  };
  return {
    endpoint,
    flush: () => provider.forceFlush(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
