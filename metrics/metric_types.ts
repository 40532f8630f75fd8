/**
 * The label values of one sample: exactly the keys a metric was created with, each a string or
 * a finite number (written as its decimal text).
 *
 * @example
 * ```ts
 * import type { LabelValues } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const labels: LabelValues<readonly ["method", "status"]> = { method: "GET", status: 200 };
 * assert.equal(labels.status, 200);
 * ```
 */
export type LabelValues<L extends readonly string[]> = {
  readonly [K in L[number]]: string | number;
};

/**
 * The arguments of a sample call: `(labels, ...rest)` for a metric with labels, `(...rest)` for
 * one without.
 *
 * @example
 * ```ts
 * import type { LabelArgs } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const withLabels: LabelArgs<readonly ["queue"], [value: number]> = [{ queue: "mail" }, 3];
 * const without: LabelArgs<readonly [], [value: number]> = [3];
 * assert.equal(withLabels.length, 2);
 * assert.equal(without.length, 1);
 * ```
 */
export type LabelArgs<L extends readonly string[], Rest extends unknown[]> = L extends readonly []
  ? Rest
  : [labels: LabelValues<L>, ...Rest];

/**
 * What every metric factory takes.
 *
 * @example
 * ```ts
 * import type { MetricOptions } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const options: MetricOptions<readonly ["queue"]> = {
 *   name: "jobs_waiting",
 *   help: "Jobs waiting per queue.",
 *   labelNames: ["queue"],
 * };
 * assert.equal(options.labelNames?.[0], "queue");
 * ```
 */
export interface MetricOptions<L extends readonly string[]> {
  /** The name, without the {@linkcode MetricsOptions.prefix}; `[a-zA-Z_][a-zA-Z0-9_]*`. */
  readonly name: string;
  /** The `# HELP` text. */
  readonly help: string;
  /** The label names, a `const` tuple; none may start with `__`. @default {[]} */
  readonly labelNames?: L | undefined;
  /**
   * Most label sets this metric keeps; past it new sets are dropped and counted.
   * @default {the Metrics' maxSeries (10 000)}
   */
  readonly maxSeries?: number | undefined;
}

/**
 * Options of `metrics.gauge()`: those of every metric, and an optional `collect` that sets the
 * value when the registry is rendered (a scrape), for values read from elsewhere.
 *
 * @example
 * ```ts
 * import { createMetrics, type GaugeOptions } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const queue: string[] = ["a", "b"];
 * const options: GaugeOptions<readonly []> = {
 *   name: "queue_length",
 *   help: "Items waiting.",
 *   collect: (gauge) => gauge.set(queue.length),
 * };
 * using metrics = createMetrics({ service: "svc", defaultMetrics: false });
 * metrics.gauge(options);
 * assert.match((await metrics.render()).body, /^queue_length\{service="svc"\} 2$/m);
 * ```
 */
export interface GaugeOptions<L extends readonly string[]> extends MetricOptions<L> {
  /** Called at each render to set the gauge's values; what it throws fails the render. @default {undefined} */
  readonly collect?: ((gauge: Gauge<L>) => void | Promise<void>) | undefined;
}

/**
 * Options of `metrics.histogram()`.
 *
 * @example
 * ```ts
 * import type { HistogramOptions } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const options: HistogramOptions<readonly []> = {
 *   name: "job_duration_seconds",
 *   help: "How long a job ran.",
 *   buckets: [0.1, 1, 10],
 * };
 * assert.deepEqual(options.buckets, [0.1, 1, 10]);
 * ```
 */
export interface HistogramOptions<L extends readonly string[]> extends MetricOptions<L> {
  /**
   * Upper bounds, finite and strictly increasing (`+Inf` is added).
   * @default {DEFAULT_DURATION_BUCKETS}
   */
  readonly buckets?: readonly number[] | undefined;
}

/**
 * A monotonically increasing count; its name ends in `_total`.
 *
 * @example
 * ```ts
 * import { createMetrics } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "mail", defaultMetrics: false });
 * const sent = metrics.counter({
 *   name: "mails_sent_total",
 *   help: "Mails sent.",
 *   labelNames: ["provider"] as const,
 * });
 * sent.inc({ provider: "ses" });
 * sent.inc({ provider: "ses" }, 2);
 * const { body } = await metrics.render();
 * assert.match(body, /mails_sent_total\{provider="ses",service="mail"\} 3/);
 * ```
 */
export interface Counter<L extends readonly string[]> {
  /** The full name (with the prefix). */
  readonly name: string;
  /** The label names. */
  readonly labelNames: L;
  /**
   * Adds `value` (default 1), a finite number ≥ 0.
   * @throws {RangeError} For a negative, NaN or infinite value.
   * @throws {TypeError} For a missing or unknown label, or a value that is not a string or a finite number.
   */
  inc(...args: LabelArgs<L, [value?: number]>): void;
}

/**
 * A value that goes up and down.
 *
 * @example
 * ```ts
 * import { createMetrics } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "mail", defaultMetrics: false });
 * const waiting = metrics.gauge({ name: "mails_waiting", help: "Mails waiting." });
 * waiting.set(5);
 * waiting.dec(2);
 * const { body } = await metrics.render();
 * assert.match(body, /mails_waiting\{service="mail"\} 3/);
 * ```
 */
export interface Gauge<L extends readonly string[]> {
  /** The full name (with the prefix). */
  readonly name: string;
  /** The label names. */
  readonly labelNames: L;
  /**
   * Sets the value (finite).
   * @throws {RangeError} For NaN or an infinite value.
   */
  set(...args: LabelArgs<L, [value: number]>): void;
  /**
   * Adds `value` (default 1, finite).
   * @throws {RangeError} For NaN or an infinite value.
   */
  inc(...args: LabelArgs<L, [value?: number]>): void;
  /**
   * Subtracts `value` (default 1, finite).
   * @throws {RangeError} For NaN or an infinite value.
   */
  dec(...args: LabelArgs<L, [value?: number]>): void;
}

/**
 * A distribution in buckets, with `_sum` and `_count`.
 *
 * @example
 * ```ts
 * import { createMetrics } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "mail", defaultMetrics: false });
 * const duration = metrics.histogram({
 *   name: "mail_send_duration_seconds",
 *   help: "Time to hand a mail to the provider.",
 *   buckets: [0.1, 1],
 * });
 * duration.observe(0.05);
 * duration.observe(3);
 * const { body } = await metrics.render();
 * assert.match(body, /mail_send_duration_seconds_bucket\{le="0.1",service="mail"\} 1/);
 * assert.match(body, /mail_send_duration_seconds_count\{service="mail"\} 2/);
 * ```
 */
export interface Histogram<L extends readonly string[]> {
  /** The full name (with the prefix). */
  readonly name: string;
  /** The label names. */
  readonly labelNames: L;
  /** The bucket upper bounds (without `+Inf`). */
  readonly buckets: readonly number[];
  /**
   * Records one observation (finite).
   * @throws {RangeError} For NaN or an infinite value.
   */
  observe(...args: LabelArgs<L, [value: number]>): void;
}

/**
 * The default histogram buckets, in seconds: 5 ms to 10 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_DURATION_BUCKETS } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_DURATION_BUCKETS[0], 0.005);
 * assert.equal(DEFAULT_DURATION_BUCKETS.at(-1), 10);
 * ```
 */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005,
  0.01,
  0.025,
  0.05,
  0.075,
  0.1,
  0.25,
  0.5,
  0.75,
  1,
  2.5,
  5,
  7.5,
  10,
]);
