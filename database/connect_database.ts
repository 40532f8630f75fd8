import postgres from "postgres";
import { getLogger } from "@plinth/logging";
import type { Database, DatabaseLogger, HealthOptions, HealthReport } from "./database.ts";
import { DatabaseError } from "./database_error.ts";
import { backoffDelay, sleep } from "./_backoff.ts";
import { deniedByDeno, netAllowed } from "./_deno_net.ts";
import { driverOptions } from "./_driver_settings.ts";
import { takeServer } from "./_embedded.ts";
import { errorMessage } from "./_message.ts";
import { envOf, ownsIdle, type Settings, settingsOf, targetOf, text } from "./_options.ts";
import { Pool } from "./_pool.ts";
import { SocketBook } from "./_sockets.ts";
import { describeTarget, type Target } from "./_target.ts";

/**
 * How the first connection is retried: exponential backoff with jitter, `baseDelay * 2^n` capped
 * at `maxDelay`, so the total wait is bounded by `retries * maxDelay`.
 *
 * @example
 * ```ts
 * import { connectDatabase, type RetryOptions } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const retry: RetryOptions = { retries: 0, baseDelay: 10 };
 * await assert.rejects(
 *   connectDatabase("postgres://postgres@127.0.0.1:1/nowhere", { retry, connectTimeout: 500 }),
 *   { code: "connect_failed" },
 * );
 * ```
 */
export interface RetryOptions {
  /** Retries after the first attempt (so `retries + 1` attempts in all). @default {5} */
  readonly retries?: number | undefined;
  /** Delay before the first retry, in milliseconds; doubles on each retry. @default {200} */
  readonly baseDelay?: number | undefined;
  /** Longest delay between two attempts, in milliseconds. @default {5000} */
  readonly maxDelay?: number | undefined;
}

/**
 * TLS mode: `true`/`"require"` (encrypt, do not verify), `"verify-full"` (encrypt and verify the
 * certificate and host), `"prefer"`/`"allow"` (encrypt when the server offers), `false` (never),
 * or an object of `node:tls` connect options (encrypt with those, as postgres.js does).
 *
 * @example
 * ```ts
 * import type { SslMode } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const mode: SslMode = "verify-full";
 * assert.equal(mode, "verify-full");
 * ```
 */
export type SslMode =
  | boolean
  | "require"
  | "allow"
  | "prefer"
  | "verify-full"
  | Readonly<Record<string, unknown>>;

/**
 * Options of {@linkcode connectDatabase}. Every duration is in milliseconds.
 *
 * @example
 * ```ts
 * import { connectDatabase, type ConnectDatabaseOptions } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const options: ConnectDatabaseOptions = {
 *   url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   max: 5,
 *   queueTimeout: 2_000,
 *   statementTimeout: 10_000,
 *   applicationName: "billing",
 *   prewarm: 2,
 * };
 * const db = await connectDatabase(options);
 * const [row] = await db.sql`select current_setting('application_name') as name`;
 * assert.equal(row?.name, "billing");
 * await db.close();
 * ```
 *
 * @example The driver's own options pass through (its names for what plinth owns are refused)
 * ```ts
 * import { connectDatabase } from "@plinth/database";
 * import postgres from "postgres";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase({
 *   url: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   max: 1,
 *   transform: postgres.camel,
 *   prepare: false,
 *   connection: { search_path: "public" },
 * });
 * const [row] = await db.sql`select current_setting('search_path') as search_path`;
 * assert.deepEqual(row, { searchPath: "public" });
 * await assert.rejects(
 *   connectDatabase({ url: "postgres://localhost/x", idle_timeout: 1 } as never),
 *   /option "idle_timeout" is set by plinth; use "idleTimeout"/,
 * );
 * ```
 */
export interface ConnectDatabaseOptions {
  /** Connection URL (`postgres://user:password@host:port/database?sslmode=…`). @default {the `DATABASE_URL` environment variable} */
  readonly url?: string | undefined;
  /** Server host name or IP address (or a Unix socket directory); overrides the URL's. @default {from the URL} */
  readonly host?: string | undefined;
  /** Server port; overrides the URL's. @default {5432} */
  readonly port?: number | undefined;
  /** Database name; overrides the URL's. @default {the user name} */
  readonly database?: string | undefined;
  /** User name; overrides the URL's. @default {"postgres"} */
  readonly user?: string | undefined;
  /**
   * Password, or a function returning it (called for each new connection, as postgres.js does);
   * overrides the URL's. Never logged nor put in a message. @default {undefined}
   */
  readonly password?: string | (() => string | Promise<string>) | undefined;
  /** TLS mode (see {@linkcode SslMode}); overrides the URL's `sslmode`. @default {false} */
  readonly ssl?: SslMode | undefined;
  /** Largest number of connections. @default {25} */
  readonly max?: number | undefined;
  /**
   * Close a connection idle this long; 0 keeps idle connections open. plinth closes them itself
   * (postgres.js's idle timer costs a timer per query): a connection is closed, with PostgreSQL's
   * Terminate message, only when it has sent and received nothing for this long, its server is
   * idle outside a transaction, and no query, transaction, reserved connection or cursor holds
   * or waits for a connection of the pool; so between 1 and 1.25 times this after its last use,
   * once the pool is quiet. Over TLS the driver's own idle timer applies. Never closes the
   * connection of `sql.listen()` or `sql.subscribe()`. @default {60000}
   */
  readonly idleTimeout?: number | undefined;
  /** Close (and replace) a connection after this long; 0 for no limit. @default {1800000} */
  readonly maxLifetime?: number | undefined;
  /** Longest time one connection attempt may take. @default {5000} */
  readonly connectTimeout?: number | undefined;
  /** PostgreSQL `statement_timeout` of every connection; 0 for none. @default {0} */
  readonly statementTimeout?: number | undefined;
  /** Longest a query waits for a free connection before it fails with a 503; 0 waits forever. @default {10000} */
  readonly queueTimeout?: number | undefined;
  /** Retries of the first connection (see {@linkcode RetryOptions}). @default {{ retries: 5, baseDelay: 200, maxDelay: 5000 }} */
  readonly retry?: RetryOptions | undefined;
  /** Log queries that take longer than this, in milliseconds, at `warn` (`Infinity` turns it off). @default {500} */
  readonly slowQueryThreshold?: number | undefined;
  /**
   * The clock, in epoch milliseconds like `Date.now`: times queries for the slow-query log and
   * `health()`'s latency. @default {() => performance.timeOrigin + performance.now()}
   */
  readonly now?: (() => number) | undefined;
  /** Where slow queries, notices and pool events go. @default {getLogger() of @plinth/logging} */
  readonly logger?: DatabaseLogger | undefined;
  /** The `application_name` PostgreSQL shows in `pg_stat_activity`. @default {"plinth"} */
  readonly applicationName?: string | undefined;
  /** Connections to open before `connectDatabase` resolves: `true` for `max`, `false` for 1. @default {true} */
  readonly prewarm?: boolean | number | undefined;
  /** Timeout of `health()` (its `select 1`). @default {2000} */
  readonly healthTimeout?: number | undefined;
  /** Environment to read `DATABASE_URL` from. @default {process.env} */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** postgres.js `transform` (for example `postgres.camel`), passed through. @default {undefined} */
  readonly transform?:
    | postgres.Options<Record<string, postgres.PostgresType>>["transform"]
    | undefined;
  /** postgres.js custom `types` (then `sql.types.<name>()`), passed through. @default {undefined} */
  readonly types?: postgres.Options<Record<string, postgres.PostgresType>>["types"] | undefined;
  /** postgres.js `prepare`: `false` for PgBouncer in transaction mode, passed through. @default {true} */
  readonly prepare?: boolean | undefined;
  /** postgres.js `debug`, passed through (a function gets every query before it is sent). @default {false} */
  readonly debug?: postgres.Options<Record<string, postgres.PostgresType>>["debug"] | undefined;
  /** postgres.js `onnotice`: replaces plinth's routing of notices to the logger. @default {notices go to the logger} */
  readonly onnotice?:
    | postgres.Options<Record<string, postgres.PostgresType>>["onnotice"]
    | undefined;
  /** postgres.js `onnotify`, passed through. @default {undefined} */
  readonly onnotify?: ((channel: string, payload: string) => void) | undefined;
  /** postgres.js `onparameter`: called with each server parameter status, passed through. @default {undefined} */
  readonly onparameter?:
    | postgres.Options<Record<string, postgres.PostgresType>>["onparameter"]
    | undefined;
  /** postgres.js `onclose`: called with a connection's id when it closes, passed through. @default {undefined} */
  readonly onclose?: postgres.Options<Record<string, postgres.PostgresType>>["onclose"] | undefined;
  /**
   * Connection parameters sent at startup (postgres.js `connection`); `applicationName` and
   * `statementTimeout`, when set, win over the same keys here. @default {{}}
   */
  readonly connection?:
    | postgres.Options<Record<string, postgres.PostgresType>>["connection"]
    | undefined;
  /**
   * postgres.js `socket`: a function returning a connected socket (or a promise of one) for each
   * connection. plinth's write guard still applies; the driver's idle timer replaces plinth's
   * idle sweep. @default {plinth's TCP / Unix socket}
   */
  readonly socket?: ((options: object) => unknown) | undefined;
  /** postgres.js `target_session_attrs`, passed through. @default {undefined} */
  readonly target_session_attrs?:
    | postgres.Options<Record<string, postgres.PostgresType>>["target_session_attrs"]
    | undefined;
  /** postgres.js `keep_alive` in seconds (`null`: off), passed through. @default {60} */
  readonly keep_alive?: number | null | undefined;
  /** postgres.js `max_pipeline`, passed through (plinth sends one query per connection at a time). @default {100} */
  readonly max_pipeline?: number | undefined;
  /** postgres.js `publications` for `sql.subscribe()`, passed through. @default {"alltables"} */
  readonly publications?: string | undefined;
  /** postgres.js `fetch_types`: `false` never reads array types from the server. @default {true} */
  readonly fetch_types?: boolean | undefined;
  /** postgres.js `sslnegotiation` (`"direct"` for TLS without the SSLRequest round trip), passed through. @default {undefined} */
  readonly sslnegotiation?: "direct" | null | undefined;
  /** postgres.js `no_subscribe`, passed through. @default {false} */
  readonly no_subscribe?: boolean | undefined;
}

/** One attempt at a first connection: `select 1` on a throwaway single connection, bounded. */
async function probe(
  settings: Settings,
  target: Target,
  sslExplicit: boolean,
): Promise<void> {
  const book = new SocketBook();
  // No array-type read here: it would be one more internal query a dropped connection could
  // fail where nothing observes it.
  const sql = postgres(driverOptions(settings, target, sslExplicit, 1, book, false));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const query = sql`select 1`;
  try {
    await Promise.race([
      query,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${settings.connectTimeout} ms`)),
          settings.connectTimeout,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    query.catch(() => {});
    await sql.end({ timeout: 0 }).catch(() => {});
  }
}

/**
 * Connects to PostgreSQL and returns a {@linkcode Database}: the postgres.js pool plus what it
 * lacks — the first connection retried with exponential backoff, connections prewarmed, a queue
 * timeout (503), a slow-query log with the request id, notices to the logger, health, stats and
 * a graceful close.
 *
 * The server is taken from `urlOrOptions` (a connection URL, or options with `url` and/or
 * `host`, `port`, `database`, `user`, `password`, `ssl`), else from `DATABASE_URL`. The embedded
 * PGlite database is `connectEmbedded()` of `@plinth/database/embedded`, so that this entry point
 * never loads PGlite.
 *
 * @param urlOrOptions A `postgres://` URL, or the options (then `options` is ignored).
 * @param options The options when the first argument is a URL.
 * @returns The connected database, once its first connection answered.
 * @throws {TypeError} When an option has the wrong type, or no server is configured.
 * @throws {RangeError} When a number option is out of range.
 * @throws {DatabaseError} `connect_failed` when every attempt failed; the message names
 * `host:port/database` and the number of attempts, never the password.
 *
 * @example
 * ```ts
 * import { connectDatabase } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 4, queueTimeout: 1_000, slowQueryThreshold: 200 },
 * );
 * const rows = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => db.sql`select ${n}::int as n`));
 * assert.equal(rows.length, 6);
 * const total = await db.transaction(async (tx) => {
 *   const [row] = await tx`select 40 + 2 as total`;
 *   return row?.total;
 * });
 * assert.equal(total, 42);
 * assert.equal(db.stats().max, 4);
 * await db.close();
 * await assert.rejects(db.sql`select 1`, { code: "database_closed" });
 * ```
 */
export async function connectDatabase(
  urlOrOptions?: string | ConnectDatabaseOptions,
  options: ConnectDatabaseOptions = {},
): Promise<Database> {
  if (
    urlOrOptions === null ||
    (urlOrOptions !== undefined && typeof urlOrOptions !== "string" &&
      typeof urlOrOptions !== "object")
  ) {
    throw new TypeError(
      "Cannot connect to the database: pass a connection URL, an options object or nothing",
    );
  }
  const opts: ConnectDatabaseOptions = typeof urlOrOptions === "string"
    ? { ...options, url: urlOrOptions }
    : urlOrOptions ?? options;
  if (typeof opts !== "object" || opts === null) {
    throw new TypeError(
      "Cannot connect to the database: options must be an object",
    );
  }
  const url = text("url", opts.url) ??
    (opts.host === undefined ? envOf(opts).DATABASE_URL : undefined);
  // Set only by connectEmbedded() of @plinth/database/embedded, which started this server.
  const server = takeServer(opts);
  if (url === undefined && opts.host === undefined) {
    throw new TypeError(
      "Cannot connect to the database: no server configured; pass a URL or host, set DATABASE_URL, or use connectEmbedded() of @plinth/database/embedded",
    );
  }
  const settings = settingsOf(opts, server !== undefined);
  const target: Target = targetOf(opts, url);
  const where = describeTarget(target);
  const sslExplicit = opts.ssl !== undefined;
  if (!target.path && !netAllowed(target.host, target.port)) {
    await server?.close();
    throw new DatabaseError(
      `Cannot connect to PostgreSQL at ${where}: Deno denies net access; run it with --allow-net=${
        target.host.includes(":") ? `[${target.host}]` : target.host
      }:${target.port}`,
      { code: "connect_failed" },
    );
  }
  const attempts = settings.retries + 1;
  const failures: unknown[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await probe(settings, target, sslExplicit);
      break;
    } catch (error) {
      failures.push(error);
      if (attempt === attempts || deniedByDeno(error)) {
        await server?.close();
        throw new DatabaseError(
          `Cannot connect to PostgreSQL at ${where}: ${attempt} attempt${
            attempt === 1 ? "" : "s"
          } failed; last: ${errorMessage(error)}`,
          { code: "connect_failed", cause: error },
        );
      }
      const delay = backoffDelay(attempt, settings);
      (settings.logger ?? getLogger()).warn(
        "Cannot connect to PostgreSQL yet: retrying",
        {
          target: where,
          attempt,
          attempts,
          delay_ms: delay,
          error: errorMessage(error),
        },
      );
      await sleep(delay);
    }
  }
  const book = new SocketBook();
  const db = new Pool(
    (fetchTypes) =>
      postgres(
        driverOptions(settings, target, sslExplicit, settings.max, book, fetchTypes),
      ),
    settings,
    where,
    book,
    ownsIdle(settings, target, sslExplicit),
    server,
  );
  try {
    // One connection first: it reads the array types, which the others then reuse.
    await db.sql`select 1`;
    await Promise.all(
      Array.from({ length: settings.prewarm > 1 ? settings.prewarm : 0 }, () => db.sql`select 1`),
    );
  } catch (error) {
    await db.close({ timeout: 0 });
    throw new DatabaseError(
      `Cannot connect to PostgreSQL at ${where}: prewarming ${settings.prewarm} connection(s) failed: ${
        errorMessage(error)
      }`,
      { code: "connect_failed", cause: error },
    );
  }
  return db;
}

/**
 * Checks that the database answers: `select 1` under a timeout, with the pool's counts. Never
 * throws; a failure is `ok: false` with an `error` message. Same as `db.health()`.
 *
 * @param db The database to check.
 * @param options `timeout` in milliseconds.
 * @returns `{ ok, latency_ms, pool: { open, busy, queued } }`, plus `error` when not ok.
 * @throws {RangeError} When `timeout` is negative.
 *
 * @example
 * ```ts
 * import { checkHealth, connectDatabase } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 2 },
 * );
 * const report = await checkHealth(db, { timeout: 1_000 });
 * assert.equal(report.ok, true);
 * assert.equal(report.pool.open, 2);
 * assert.ok(report.latency_ms >= 0);
 * ```
 */
export function checkHealth(
  db: Database,
  options: HealthOptions = {},
): Promise<HealthReport> {
  return db.health(options);
}
