/**
 * Prometheus metrics for plinth services, on prom-client: typed counters, gauges and
 * histograms whose label names are a `const` tuple, a cap on label sets per metric, input
 * checked at the call (never a malformed page), `/metrics` in the Prometheus text format or
 * OpenMetrics as the scraper asks, and the default process metrics, stopped by `close()`.
 * `instrumentDatabase()` and `instrumentEvents()` measure `@plinth/database` and
 * `@plinth/events` without importing them. The Hono middleware (`httpMetrics()`) and the
 * `/metrics` handler (`metricsHandler()`) come from `@plinth/metrics/hono`.
 *
 * @example
 * ```ts
 * import { createMetrics } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "orders" });
 * const jobs = metrics.histogram({
 *   name: "job_duration_seconds",
 *   help: "How long a job ran.",
 *   labelNames: ["queue"],
 *   buckets: [0.1, 1, 10],
 * });
 * jobs.observe({ queue: "mail" }, 0.4);
 *
 * const { body } = await metrics.render();
 * assert.match(body, /job_duration_seconds_bucket\{le="1",service="orders",queue="mail"\} 1/);
 * assert.match(body, /^process_cpu_seconds_total\{service="orders"\} /m);
 * ```
 *
 * @module
 */
export * from "./create_metrics.ts";
export * from "./metric_types.ts";
export * from "./instrument_database.ts";
export * from "./instrument_events.ts";
