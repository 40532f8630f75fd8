import client from "prom-client";
import {
  checkBuckets,
  checkHelp,
  checkLabelName,
  checkLabelNames,
  checkMaxSeries,
  checkMetricName,
  type MetricKind,
} from "./_names.ts";
import { makeCounter, makeGauge, makeHistogram } from "./_metric.ts";
import { type DefaultMetrics, startDefaultMetrics } from "./_default_metrics.ts";
import { Renderer, setDefaultLabels, wantsOpenMetrics } from "./_render.ts";
import {
  type Counter,
  DEFAULT_DURATION_BUCKETS,
  type Gauge,
  type GaugeOptions,
  type Histogram,
  type HistogramOptions,
  type MetricOptions,
} from "./metric_types.ts";

/**
 * The name of the counter of samples dropped by the `maxSeries` cap, one series per metric
 * (`{metric="…"}`); it carries no prefix.
 *
 * @example
 * ```ts
 * import { createMetrics, SERIES_DROPPED_METRIC } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "svc", defaultMetrics: false, maxSeries: 1, logger: {
 *   debug() {}, info() {}, warn() {}, error() {},
 * } });
 * const hits = metrics.counter({ name: "hits_total", help: "Hits.", labelNames: ["user"] });
 * hits.inc({ user: "a" });
 * hits.inc({ user: "b" }); // a second label set: dropped
 * const { body } = await metrics.render();
 * assert.match(body, new RegExp(`^${SERIES_DROPPED_METRIC}\\{metric="hits_total",service="svc"\\} 1$`, "m"));
 * ```
 */
export const SERIES_DROPPED_METRIC = "plinth_metrics_series_dropped_total";

/**
 * How many label sets each metric keeps by default (`maxSeries`).
 *
 * @example
 * ```ts
 * import { createMetrics, DEFAULT_MAX_SERIES } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "svc", defaultMetrics: false });
 * assert.equal(metrics.maxSeries, DEFAULT_MAX_SERIES);
 * assert.equal(DEFAULT_MAX_SERIES, 10_000);
 * ```
 */
export const DEFAULT_MAX_SERIES = 10_000;

/**
 * The logger metrics warns to: any object with `debug`, `info`, `warn` and `error` (a plinth
 * logger, pino, `console`).
 *
 * @example
 * ```ts
 * import type { MetricsLogger } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const warnings: string[] = [];
 * const logger: MetricsLogger = {
 *   debug: () => {},
 *   info: () => {},
 *   warn: (message) => warnings.push(message),
 *   error: () => {},
 * };
 * logger.warn("Metric series limit reached");
 * assert.equal(warnings.length, 1);
 * ```
 */
export interface MetricsLogger {
  /** Writes a `debug` line. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Writes an `info` line. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Writes a `warn` line. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Writes an `error` line. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Options of {@linkcode createMetrics}.
 *
 * @example
 * ```ts
 * import { createMetrics, type MetricsOptions } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const options: MetricsOptions = {
 *   service: "billing",
 *   prefix: "billing_",
 *   defaultLabels: { region: "eu-1" },
 *   defaultMetrics: false,
 *   maxSeries: 1_000,
 * };
 * using metrics = createMetrics(options);
 * assert.equal(metrics.service, "billing");
 * ```
 */
export interface MetricsOptions {
  /** The service's name, added to every series as the `service` label. */
  readonly service: string;
  /**
   * Put in front of every metric name this object creates (its own, the HTTP metrics and the
   * default metrics), not in front of {@linkcode SERIES_DROPPED_METRIC}. @default {""}
   */
  readonly prefix?: string | undefined;
  /**
   * The prom-client registry to register on; its default labels are replaced by `service` and
   * `defaultLabels`. @default {a new Registry}
   */
  readonly registry?: client.Registry | undefined;
  /** Labels added to every series besides `service`. @default {{}} */
  readonly defaultLabels?: Readonly<Record<string, string>> | undefined;
  /** Whether to register the process and runtime metrics (CPU, memory, event loop, GC…). @default {true} */
  readonly defaultMetrics?: boolean | undefined;
  /** How many label sets each metric keeps; past it samples of new sets are dropped. @default {10000} */
  readonly maxSeries?: number | undefined;
  /** Where the one warning per metric that reaches `maxSeries` goes. @default {console} */
  readonly logger?: MetricsLogger | undefined;
}

/**
 * Options of `metrics.render()`.
 *
 * @example
 * ```ts
 * import type { RenderOptions } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const options: RenderOptions = { accept: "application/openmetrics-text; version=1.0.0" };
 * assert.ok(options.accept?.startsWith("application/openmetrics-text"));
 * ```
 */
export interface RenderOptions {
  /**
   * The scraper's `Accept` header: OpenMetrics when it prefers that, else the Prometheus text
   * format 0.0.4. @default {undefined (text format 0.0.4)}
   */
  readonly accept?: string | null | undefined;
}

/**
 * What `metrics.render()` returns: the exposition text and its `Content-Type`.
 *
 * @example
 * ```ts
 * import { createMetrics, type RenderedMetrics } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "svc", defaultMetrics: false });
 * const rendered: RenderedMetrics = await metrics.render();
 * assert.equal(rendered.contentType, "text/plain; version=0.0.4; charset=utf-8");
 * ```
 */
export interface RenderedMetrics {
  /** The exposition text. */
  readonly body: string;
  /** `text/plain; version=0.0.4; charset=utf-8` or `application/openmetrics-text; version=1.0.0; charset=utf-8`. */
  readonly contentType: string;
}

/**
 * A service's metrics: typed factories over one prom-client registry, the rendering of
 * `/metrics`, and the default process metrics until `close()`.
 *
 * @example
 * ```ts
 * import { createMetrics, type Metrics } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const metrics: Metrics = createMetrics({ service: "svc", defaultMetrics: false });
 * metrics.gauge({ name: "workers", help: "Workers running." }).set(4);
 * assert.match((await metrics.render()).body, /^workers\{service="svc"\} 4$/m);
 * metrics.close();
 * ```
 */
export interface Metrics {
  /** The service's name (the `service` label). */
  readonly service: string;
  /** The prefix of the names this object creates. */
  readonly prefix: string;
  /** The prom-client registry everything is registered on. */
  readonly registry: client.Registry;
  /** The default per-metric limit of label sets. */
  readonly maxSeries: number;
  /**
   * Creates and registers a counter; its name must end in `_total`.
   * @throws {TypeError} For a bad or taken name, a bad label name, or an empty help.
   */
  counter<const L extends readonly string[] = readonly []>(options: MetricOptions<L>): Counter<L>;
  /**
   * Creates and registers a gauge; `collect`, when given, sets it at each render.
   * @throws {TypeError} For a bad or taken name, a bad label name, an empty help, or a `collect` that is not a function.
   */
  gauge<const L extends readonly string[] = readonly []>(options: GaugeOptions<L>): Gauge<L>;
  /**
   * Creates and registers a histogram.
   * @throws {TypeError} For a bad or taken name, a bad label name, or an empty help.
   * @throws {RangeError} For buckets that are not finite and strictly increasing.
   */
  histogram<const L extends readonly string[] = readonly []>(
    options: HistogramOptions<L>,
  ): Histogram<L>;
  /** The exposition text of the registry, in the format `accept` prefers. */
  render(options?: RenderOptions): Promise<RenderedMetrics>;
  /** Stops the default metrics and removes them from the registry; the rest stays. Idempotent. */
  close(): void;
  /** `close()`, for `using`. */
  [Symbol.dispose](): void;
  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a service's {@linkcode Metrics} over a prom-client registry: typed `counter()`,
 * `gauge()` and `histogram()` factories whose label names are a `const` tuple (a sample takes
 * exactly those keys), a cap of `maxSeries` label sets per metric (past it a sample is dropped,
 * counted in {@linkcode SERIES_DROPPED_METRIC}`{metric}`, and one warning is logged per metric),
 * checked input (a bad name, label or value is a `TypeError`/`RangeError` at the call, never a
 * malformed `/metrics` page), `render()` in the Prometheus text format or OpenMetrics, and the
 * default process metrics, stopped by `close()`. Serve it with `metricsHandler()` and count
 * requests with `httpMetrics()` from `@plinth/metrics/hono`.
 *
 * @param options The service's name, prefix, registry, labels, default metrics and limits.
 * @returns The metrics.
 * @throws {TypeError} When an option has the wrong type or a label name is invalid.
 * @throws {RangeError} When `maxSeries` is not a positive integer.
 *
 * @example
 * ```ts
 * import { createMetrics } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "orders", defaultMetrics: false });
 * const placed = metrics.counter({
 *   name: "orders_placed_total",
 *   help: "Orders placed.",
 *   labelNames: ["plan"],
 * });
 * placed.inc({ plan: "pro" });
 * assert.throws(() => placed.inc({ plan: "pro" }, -1), RangeError);
 *
 * const { body, contentType } = await metrics.render();
 * assert.equal(contentType, "text/plain; version=0.0.4; charset=utf-8");
 * assert.match(body, /^orders_placed_total\{plan="pro",service="orders"\} 1$/m);
 * ```
 */
export function createMetrics(options: MetricsOptions): Metrics {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Invalid createMetrics options: must be an object");
  }
  const service = options.service;
  if (typeof service !== "string" || service === "") {
    throw new TypeError("Invalid createMetrics option service: must be a non-empty string");
  }
  const prefix = options.prefix ?? "";
  if (typeof prefix !== "string" || (prefix !== "" && !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(prefix))) {
    throw new TypeError(
      "Invalid createMetrics option prefix: must match [a-zA-Z_][a-zA-Z0-9_]* or be empty",
    );
  }
  const registry = options.registry ?? new client.Registry();
  if (
    typeof registry !== "object" || registry === null ||
    typeof (registry as { metrics?: unknown }).metrics !== "function"
  ) {
    throw new TypeError("Invalid createMetrics option registry: must be a prom-client Registry");
  }
  const labels: Record<string, string> = { service };
  const extra = options.defaultLabels ?? {};
  if (typeof extra !== "object" || extra === null) {
    throw new TypeError("Invalid createMetrics option defaultLabels: must be an object");
  }
  for (const [name, value] of Object.entries(extra)) {
    checkLabelName("Invalid createMetrics option defaultLabels", name);
    if (typeof value !== "string") {
      throw new TypeError(
        `Invalid createMetrics option defaultLabels: the value of "${name}" must be a string`,
      );
    }
    labels[name] = value;
  }
  const defaultMetrics = options.defaultMetrics ?? true;
  if (typeof defaultMetrics !== "boolean") {
    throw new TypeError("Invalid createMetrics option defaultMetrics: must be a boolean");
  }
  const maxSeries = checkMaxSeries(
    "Invalid createMetrics option maxSeries",
    options.maxSeries ?? DEFAULT_MAX_SERIES,
  );
  const logger = options.logger ?? console;
  if (typeof logger?.warn !== "function") {
    throw new TypeError("Invalid createMetrics option logger: must have a warn method");
  }

  setDefaultLabels(registry, labels);
  const dropped = (registry.getSingleMetric(SERIES_DROPPED_METRIC) as
    | client.Counter<"metric">
    | undefined) ?? new client.Counter({
    name: SERIES_DROPPED_METRIC,
    help: "Samples dropped because their metric reached its limit of label sets.",
    labelNames: ["metric"],
    registers: [registry],
  });
  const warned = new Set<string>();
  const onDrop = (metric: string): void => {
    dropped.inc({ metric });
    if (warned.has(metric)) return;
    warned.add(metric);
    logger.warn("Metric series limit reached: samples of new label sets are dropped", {
      metric,
      max_series: maxSeries,
    });
  };
  const renderer = new Renderer(registry);
  let defaults: DefaultMetrics | undefined = defaultMetrics
    ? startDefaultMetrics(registry, prefix)
    : undefined;

  const common = (kind: MetricKind, metric: MetricOptions<readonly string[]>) => {
    if (typeof metric !== "object" || metric === null) {
      throw new TypeError(`Cannot create ${kind}: options must be an object`);
    }
    checkMetricName(kind, metric.name);
    const name = prefix + metric.name;
    checkHelp(kind, name, metric.help);
    const labelNames = checkLabelNames(kind, name, metric.labelNames);
    const limit = metric.maxSeries === undefined
      ? maxSeries
      : checkMaxSeries(`Cannot create ${kind} "${name}"`, metric.maxSeries);
    if (registry.getSingleMetric(name) !== undefined) {
      throw new TypeError(
        `Cannot create ${kind} "${name}": a metric with this name is already registered`,
      );
    }
    return { name, help: metric.help, labelNames, maxSeries: limit, registry, onDrop };
  };

  const close = (): void => {
    defaults?.stop();
    defaults = undefined;
  };
  return Object.freeze({
    service,
    prefix,
    registry,
    maxSeries,
    counter<const L extends readonly string[] = readonly []>(
      metric: MetricOptions<L>,
    ): Counter<L> {
      return makeCounter<L>(common("counter", metric));
    },
    gauge<const L extends readonly string[] = readonly []>(metric: GaugeOptions<L>): Gauge<L> {
      const shared = common("gauge", metric);
      if (metric.collect !== undefined && typeof metric.collect !== "function") {
        throw new TypeError(
          `Cannot create gauge "${shared.name}": option collect must be a function`,
        );
      }
      return makeGauge<L>(shared, metric.collect);
    },
    histogram<const L extends readonly string[] = readonly []>(
      metric: HistogramOptions<L>,
    ): Histogram<L> {
      const shared = common("histogram", metric);
      const buckets = metric.buckets === undefined
        ? DEFAULT_DURATION_BUCKETS
        : checkBuckets(shared.name, metric.buckets);
      return makeHistogram<L>(shared, buckets);
    },
    render(render: RenderOptions = {}): Promise<RenderedMetrics> {
      return renderer.render(wantsOpenMetrics(render.accept));
    },
    close,
    [Symbol.dispose]: close,
    [Symbol.asyncDispose]: (): Promise<void> => {
      close();
      return Promise.resolve();
    },
  });
}
