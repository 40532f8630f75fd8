import type postgres from "postgres";

/**
 * The logger plinth writes to: any object with these four methods, such as a `Logger` from
 * `@plinth/logging` (the default is its `getLogger()`).
 *
 * @example
 * ```ts
 * import type { DatabaseLogger } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger: DatabaseLogger = {
 *   debug: (m) => lines.push(`debug ${m}`),
 *   info: (m) => lines.push(`info ${m}`),
 *   warn: (m) => lines.push(`warn ${m}`),
 *   error: (m) => lines.push(`error ${m}`),
 * };
 * logger.warn("Slow query");
 * assert.deepEqual(lines, ["warn Slow query"]);
 * ```
 */
export interface DatabaseLogger {
  /** Writes a `debug` line. */
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Writes an `info` line. */
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Writes a `warn` line. */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Writes an `error` line. */
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/**
 * The state of the pool: connections open, queries running (`busy`, one connection each) and
 * queries waiting for a connection (`queued`).
 *
 * @example
 * ```ts
 * import type { PoolStats } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const stats: PoolStats = { open: 3, busy: 1, queued: 0, max: 25 };
 * assert.ok(stats.busy <= stats.max);
 * ```
 */
export interface PoolStats {
  /** Connections open now. */
  readonly open: number;
  /** Queries and transactions holding a connection now. */
  readonly busy: number;
  /** Queries waiting for a free connection. */
  readonly queued: number;
  /** The pool's size (`max`). */
  readonly max: number;
}

/**
 * What {@linkcode checkHealth} and `db.health()` report.
 *
 * @example
 * ```ts
 * import type { HealthReport } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const report: HealthReport = { ok: true, latency_ms: 0.4, pool: { open: 1, busy: 0, queued: 0 } };
 * assert.equal(report.ok, true);
 * ```
 */
export interface HealthReport {
  /** Whether `select 1` answered within the timeout. */
  readonly ok: boolean;
  /** How long it took (or until it failed), in milliseconds. */
  readonly latency_ms: number;
  /** The pool's connections: open, busy and queued. */
  readonly pool: {
    readonly open: number;
    readonly busy: number;
    readonly queued: number;
  };
  /** Why it failed (a message without secrets), when `ok` is false. */
  readonly error?: string;
}

/**
 * Options of `db.health()` and {@linkcode checkHealth}.
 *
 * @example
 * ```ts
 * import type { HealthOptions } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const options: HealthOptions = { timeout: 500 };
 * assert.equal(options.timeout, 500);
 * ```
 */
export interface HealthOptions {
  /** Longest the `select 1` may take. @default {the database's `healthTimeout` (2000)} */
  readonly timeout?: number | undefined;
}

/**
 * Options of `db.close()`.
 *
 * @example
 * ```ts
 * import type { CloseOptions } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const options: CloseOptions = { timeout: 5_000 };
 * assert.equal(options.timeout, 5_000);
 * ```
 */
export interface CloseOptions {
  /** How long to wait for running and queued queries before terminating them. @default {10000} */
  readonly timeout?: number | undefined;
}

/**
 * What `db.onQuery()` listeners are told about one query that ran: how long it held its
 * connection (milliseconds, from dispatch to settle; queueing excluded) and, when it failed, the
 * error's `code` (a SQLSTATE such as `23505`, a plinth code, or `"unknown"`).
 *
 * @example
 * ```ts
 * import type { QueryObservation } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const failed: QueryObservation = { duration: 1.8, ok: false, code: "23505" };
 * assert.equal(failed.ok ? undefined : failed.code, "23505");
 * ```
 */
export type QueryObservation =
  | { readonly duration: number; readonly ok: true }
  | { readonly duration: number; readonly ok: false; readonly code: string };

/**
 * A `db.onQuery()` listener. It runs synchronously as each query settles, so it must be cheap;
 * what it throws is ignored.
 *
 * @example
 * ```ts
 * import type { QueryObserver } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const durations: number[] = [];
 * const observer: QueryObserver = (query) => void durations.push(query.duration);
 * observer({ duration: 2, ok: true });
 * assert.deepEqual(durations, [2]);
 * ```
 */
export type QueryObserver = (query: QueryObservation) => void;

/**
 * A connected pool: the postgres.js tagged template `sql` (every query through it is bounded by
 * the queue timeout, timed for the slow-query log, and refused after `close()`), transactions,
 * health, stats and a graceful close.
 *
 * @example
 * ```ts
 * import { connectDatabase } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 2, prewarm: false },
 * );
 * const [row] = await db.sql`select ${21}::int * 2 as answer`;
 * assert.equal(row?.answer, 42);
 * ```
 */
export interface Database {
  /** The postgres.js tagged template (also `sql.unsafe`, `sql.begin`, `sql.reserve`, helpers). */
  readonly sql: postgres.Sql;
  /** `host:port/database` of the server (never the password). */
  readonly target: string;
  /** Whether this is the embedded PGlite database. */
  readonly embedded: boolean;
  /**
   * Runs `fn` in a transaction on one connection: committed when it resolves, rolled back when
   * it throws (the error is rethrown).
   */
  transaction<T>(
    fn: (sql: postgres.TransactionSql) => T | Promise<T>,
  ): Promise<T>;
  /** Runs `select 1` under a timeout; never throws. */
  health(options?: HealthOptions): Promise<HealthReport>;
  /** The pool's connections now. */
  stats(): PoolStats;
  /**
   * Calls `listener` once for every query that ran, as it settles, with its duration and
   * outcome (for metrics: `instrumentDatabase()` of `@plinth/metrics`). Queries are timed only
   * while a listener is registered or the slow-query log is on. The queries of a `transaction()`
   * or `sql.begin` (savepoints included) are reported too when a listener was registered before
   * it began; those of `sql.reserve()` are not. Returns the function that removes the listener.
   */
  onQuery(listener: QueryObserver): () => void;
  /** Stops new queries, waits for running ones (up to `timeout`), then closes every connection. */
  close(options?: CloseOptions): Promise<void>;
  /** `close()` with the default timeout, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
