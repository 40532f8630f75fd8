import type { Metrics } from "./create_metrics.ts";

/**
 * What {@linkcode instrumentDatabase} needs of a database, structurally: a `Database` of
 * `@plinth/database` fits, and so does anything else with these two methods.
 *
 * @example
 * ```ts
 * import type { InstrumentableDatabase } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const db: InstrumentableDatabase = {
 *   stats: () => ({ open: 2, busy: 1, queued: 0, max: 10 }),
 *   onQuery: () => () => {},
 * };
 * assert.equal(db.stats().max, 10);
 * ```
 */
export interface InstrumentableDatabase {
  /** The pool now: connections open, busy (running a query), queries waiting, the pool's size. */
  stats(): {
    readonly open: number;
    readonly busy: number;
    readonly queued: number;
    readonly max: number;
  };
  /** Registers a listener told of every query that ran; returns its remover. */
  onQuery(
    listener: (
      query: { readonly duration: number; readonly ok: boolean; readonly code?: string },
    ) => void,
  ): () => void;
}

/**
 * What {@linkcode instrumentDatabase} and {@linkcode instrumentEvents} return: stops listening
 * (the metrics stay registered, the pool gauges read the last state given).
 *
 * @example
 * ```ts
 * import type { Instrumentation } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * let stopped = false;
 * const instrumentation: Instrumentation = {
 *   close: () => void (stopped = true),
 *   [Symbol.dispose]: () => void (stopped = true),
 * };
 * instrumentation.close();
 * assert.equal(stopped, true);
 * ```
 */
export interface Instrumentation {
  /** Removes the listener. Idempotent. */
  close(): void;
  /** `close()`, for `using`. */
  [Symbol.dispose](): void;
}

/**
 * Measures a database pool in `metrics`: `db_pool_max_connections`, `db_pool_open_connections`,
 * `db_pool_busy_connections`, `db_pool_idle_connections` and `db_pool_waiting_queries` (gauges
 * read from `db.stats()` when `/metrics` is scraped, never polled), the
 * `db_query_duration_seconds` histogram (each query from dispatch to result, queueing excluded)
 * and `db_query_errors_total{code}` (SQLSTATE such as `23505`, or the error's code). Takes any
 * object of the {@linkcode InstrumentableDatabase} shape: `@plinth/metrics` does not import
 * `@plinth/database`. One database per `Metrics`.
 *
 * @param metrics Where the metrics are registered (with its prefix).
 * @param db The pool, such as a `Database` from `connectDatabase()`.
 * @returns What stops listening to the pool's queries.
 * @throws {TypeError} When `db` lacks `stats()` or `onQuery()`, or the metrics exist already.
 *
 * @example
 * ```ts
 * import { createMetrics, instrumentDatabase } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * // A stand-in with the shape of @plinth/database's Database.
 * let listener: ((q: { duration: number; ok: boolean; code?: string }) => void) | undefined;
 * const db = {
 *   stats: () => ({ open: 3, busy: 1, queued: 2, max: 10 }),
 *   onQuery: (l: typeof listener & {}) => {
 *     listener = l;
 *     return () => void (listener = undefined);
 *   },
 * };
 * using metrics = createMetrics({ service: "svc", defaultMetrics: false });
 * using _instrumentation = instrumentDatabase(metrics, db);
 * listener?.({ duration: 12, ok: true });
 * listener?.({ duration: 3, ok: false, code: "23505" });
 *
 * const { body } = await metrics.render();
 * assert.match(body, /^db_pool_idle_connections\{service="svc"\} 2$/m);
 * assert.match(body, /^db_pool_waiting_queries\{service="svc"\} 2$/m);
 * assert.match(body, /^db_query_duration_seconds_count\{service="svc"\} 2$/m);
 * assert.match(body, /^db_query_errors_total\{code="23505",service="svc"\} 1$/m);
 * ```
 */
export function instrumentDatabase(metrics: Metrics, db: InstrumentableDatabase): Instrumentation {
  if (typeof metrics !== "object" || metrics === null || typeof metrics.gauge !== "function") {
    throw new TypeError(
      "Invalid instrumentDatabase argument metrics: must come from createMetrics()",
    );
  }
  if (
    typeof db !== "object" || db === null || typeof db.stats !== "function" ||
    typeof db.onQuery !== "function"
  ) {
    throw new TypeError(
      "Invalid instrumentDatabase argument db: must have stats() and onQuery() (a Database of @plinth/database)",
    );
  }
  const pool = [
    ["db_pool_max_connections", "The pool's size.", (s) => s.max],
    ["db_pool_open_connections", "Connections open.", (s) => s.open],
    ["db_pool_busy_connections", "Connections running a query.", (s) => s.busy],
    ["db_pool_idle_connections", "Connections open and idle.", (s) => Math.max(0, s.open - s.busy)],
    ["db_pool_waiting_queries", "Queries waiting for a connection.", (s) => s.queued],
  ] as const satisfies readonly [
    string,
    string,
    (s: ReturnType<InstrumentableDatabase["stats"]>) => number,
  ][];
  for (const [name, help, read] of pool) {
    metrics.gauge({ name, help, collect: (gauge) => gauge.set(read(db.stats())) });
  }
  const duration = metrics.histogram({
    name: "db_query_duration_seconds",
    help: "Time from sending a query to its result, in seconds.",
  });
  const errors = metrics.counter({
    name: "db_query_errors_total",
    help: "Queries that failed, by error code (SQLSTATE).",
    labelNames: ["code"],
  });
  const remove = db.onQuery((query) => {
    if (typeof query.duration === "number" && Number.isFinite(query.duration)) {
      duration.observe(Math.max(0, query.duration) / 1000);
    }
    if (!query.ok) errors.inc({ code: typeof query.code === "string" ? query.code : "unknown" });
  });
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    remove();
  };
  return Object.freeze({ close, [Symbol.dispose]: close });
}
