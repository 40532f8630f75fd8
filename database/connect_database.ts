import postgres from "postgres";
// node:timers, not the globals: on every runtime its timers have unref(), so the idle sweep never
// keeps a process alive (Deno's global timers are numbers).
import * as timers from "node:timers";
import { resolve as resolvePath } from "node:path";
import { serviceUnavailable } from "@plinth/errors";
import { getContext, getLogger } from "@plinth/logging";
import { DatabaseError } from "./database_error.ts";
import { Gate, type Waiter } from "./_gate.ts";
import { backoffDelay, sleep } from "./_backoff.ts";
import { describeTarget, parseDatabaseUrl, type Target } from "./_target.ts";
import { type EmbeddedServer, startEmbedded } from "./_embedded.ts";
import {
  type CustomSocket,
  SocketBook,
  socketFactory,
  TERMINATE,
  type TrackedSocket,
} from "./_sockets.ts";
import { driverPassThrough } from "./_driver_options.ts";

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
  /** Largest number of connections (1 when embedded). @default {25} */
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
  /** Log queries that take longer than this at `warn` (`Infinity` turns it off). @default {500} */
  readonly slowQueryMs?: number | undefined;
  /** Where slow queries, notices and pool events go. @default {getLogger() of @plinth/logging} */
  readonly logger?: DatabaseLogger | undefined;
  /** The `application_name` PostgreSQL shows in `pg_stat_activity`. @default {"plinth"} */
  readonly applicationName?: string | undefined;
  /** Connections to open before `connectDatabase` resolves: `true` for `max`, `false` for 1. @default {true} */
  readonly prewarm?: boolean | number | undefined;
  /** Timeout of `health()` (its `select 1`). @default {2000} */
  readonly healthTimeout?: number | undefined;
  /** With no URL, no `host` and no `DATABASE_URL`: run an embedded PGlite (one connection). @default {false} */
  readonly embedded?: boolean | undefined;
  /** The embedded database's data directory (created on first use). @default {".data/pglite"} */
  readonly dataDir?: string | undefined;
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
  /** Stops new queries, waits for running ones (up to `timeout`), then closes every connection. */
  close(options?: CloseOptions): Promise<void>;
  /** `close()` with the default timeout, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Settings {
  readonly max: number;
  readonly idleTimeout: number;
  readonly maxLifetime: number;
  readonly connectTimeout: number;
  readonly statementTimeout: number;
  readonly queueTimeout: number;
  readonly retries: number;
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly slowQueryMs: number;
  readonly logger: DatabaseLogger | undefined;
  /** Undefined when not given: then `connection.application_name`, else "plinth". */
  readonly applicationName: string | undefined;
  readonly prewarm: number;
  readonly healthTimeout: number;
  readonly ssl: SslMode;
  /** The postgres.js options passed through as given. */
  readonly driver: Readonly<Record<string, unknown>>;
}

/** The parts of a postgres.js query object plinth hooks into (present in postgres 3.4). */
interface QueryInternals {
  handle(): unknown;
  /** The driver instance's `cancel`, which `query.cancel()` calls with the query. */
  canceller: ((query: QueryInternals) => unknown) | null;
  /** Set by the driver's `cancel` (true before the query was sent). */
  readonly cancelled: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** The driver instance's dispatcher the query is handed to when it runs. */
  handler: unknown;
  executed: boolean;
  readonly strings: readonly string[] | string;
  /** Set on a cursor (`cursor()`) before it executes. */
  readonly cursorFn?: unknown;
  /** plinth's state of the query, set when it is instrumented. */
  [RUN]?: QueryRun;
}

/** The key of plinth's state on a postgres.js query. */
const RUN: unique symbol = Symbol("plinth.run");

/**
 * What plinth keeps per query: one object, and no closure. The driver calls the query's
 * `handle`, `resolve` and `reject` as methods, so plinth's replacements are functions shared by
 * every query that find this state through `this`.
 */
class QueryRun {
  /** 0: made, 1: asked for a slot, 2: running (holding a slot), 3: settled. */
  state = 0;
  /** When it started waiting for a slot (-1: it did not wait). */
  queuedAt = -1;
  /** When it was handed to the driver (-1: not timed, the slow-query log is off). */
  startedAt = -1;
  /** The driver instance it ran on. */
  generation = 0;
  /** Its index in the pool's running queries (-1: none). */
  slot = -1;
  /** The caller's request context, for the slow-query log. */
  context: Readonly<Record<string, unknown>> | undefined = undefined;
  /** Its place in the gate's queue while it waits for a slot. */
  waiter: Waiter | undefined = undefined;
  /** The driver's own settle functions, which plinth's replace while it runs. */
  resolve: ((value: unknown) => void) | undefined = undefined;
  reject: ((error: unknown) => void) | undefined = undefined;
  readonly pool: Pool;
  readonly query: QueryInternals;

  constructor(pool: Pool, query: QueryInternals) {
    this.pool = pool;
    this.query = query;
  }
}

/** The parts of a postgres.js instance's parsed options plinth shares between instances. */
interface OptionsInternals {
  fetch_types: boolean;
  parsers: Record<number, unknown>;
  serializers: Record<number, unknown>;
  shared?: { typeArrayMap?: Record<number, number> };
}

const TEMPLATE: TemplateStringsArray = Object.assign(["select 1"], {
  raw: ["select 1"],
});

/** The postgres.js query class and what an instance gives its queries. */
type QueryClass = new (
  strings: TemplateStringsArray,
  args: unknown[],
  handler: unknown,
  canceller: unknown,
) => QueryInternals;

/**
 * The current driver instance with its query class, dispatcher and `cancel`, read from a query
 * it creates (and never runs). plinth makes tagged queries with them itself, so that the frame
 * postgres.js records as the query's origin (it keeps four) is the caller's, not plinth's.
 */
interface Driver {
  sql: postgres.Sql;
  Query: QueryClass;
  handler: unknown;
  cancel: unknown;
}

function driverOf(sql: postgres.Sql): Driver {
  const sample = sql(TEMPLATE) as unknown as QueryInternals;
  return {
    sql,
    Query: sample.constructor as QueryClass,
    handler: sample.handler,
    cancel: sample.canceller,
  };
}

function duration(
  name: string,
  value: unknown,
  fallback: number,
  allowInfinity = false,
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" || Number.isNaN(value) || value < 0 ||
    (!allowInfinity && !Number.isFinite(value))
  ) {
    throw new RangeError(
      `Cannot connect to the database: option "${name}" must be a non-negative number of milliseconds`,
    );
  }
  return value;
}

function integer(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new RangeError(
      `Cannot connect to the database: option "${name}" must be an integer of at least ${min}`,
    );
  }
  return value;
}

function text(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `Cannot connect to the database: option "${name}" must be a non-empty string`,
    );
  }
  return value;
}

const SSL_MODES: readonly unknown[] = [
  true,
  false,
  "require",
  "allow",
  "prefer",
  "verify-full",
];

function settingsOf(
  options: ConnectDatabaseOptions,
  embedded: boolean,
): Settings {
  const retry = options.retry ?? {};
  if (typeof retry !== "object" || retry === null) {
    throw new TypeError(
      'Cannot connect to the database: option "retry" must be an object',
    );
  }
  const logger = options.logger;
  if (
    logger !== undefined &&
    (typeof logger !== "object" || logger === null ||
      ["debug", "info", "warn", "error"].some((m) =>
        typeof (logger as unknown as Record<string, unknown>)[m] !== "function"
      ))
  ) {
    throw new TypeError(
      'Cannot connect to the database: option "logger" must have debug, info, warn and error methods',
    );
  }
  if (
    options.ssl !== undefined && !SSL_MODES.includes(options.ssl) &&
    (typeof options.ssl !== "object" || options.ssl === null)
  ) {
    throw new TypeError(
      'Cannot connect to the database: option "ssl" must be a boolean, "require", "allow", "prefer", "verify-full" or an object of TLS options',
    );
  }
  const driver = driverPassThrough(options as Readonly<Record<string, unknown>>);
  const max = embedded ? 1 : integer("max", options.max, 25, 1);
  const prewarmOption = options.prewarm ?? true;
  let prewarm: number;
  if (typeof prewarmOption === "boolean") prewarm = prewarmOption ? max : 1;
  else prewarm = Math.min(max, integer("prewarm", prewarmOption, 1, 1));
  const baseDelay = duration("retry.baseDelay", retry.baseDelay, 200);
  return {
    max,
    idleTimeout: duration("idleTimeout", options.idleTimeout, 60_000),
    maxLifetime: duration("maxLifetime", options.maxLifetime, 1_800_000),
    connectTimeout: duration("connectTimeout", options.connectTimeout, 5_000) ||
      5_000,
    statementTimeout: duration("statementTimeout", options.statementTimeout, 0),
    queueTimeout: duration("queueTimeout", options.queueTimeout, 10_000),
    retries: integer("retry.retries", retry.retries, 5, 0),
    baseDelay,
    maxDelay: Math.max(
      baseDelay,
      duration("retry.maxDelay", retry.maxDelay, 5_000),
    ),
    slowQueryMs: duration("slowQueryMs", options.slowQueryMs, 500, true),
    logger,
    applicationName: text("applicationName", options.applicationName),
    prewarm,
    healthTimeout: duration("healthTimeout", options.healthTimeout, 2_000) ||
      2_000,
    ssl: options.ssl ?? false,
    driver,
  };
}

function envOf(
  options: ConnectDatabaseOptions,
): Readonly<Record<string, string | undefined>> {
  if (options.env !== undefined) return options.env;
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } })
    .process;
  return proc?.env ?? {};
}

function targetOf(
  options: ConnectDatabaseOptions,
  url: string | undefined,
): Target {
  const base: Target = url !== undefined ? parseDatabaseUrl(url) : {
    host: "localhost",
    port: 5432,
    database: "",
    user: "postgres",
    password: undefined,
    path: false,
    sslmode: undefined,
  };
  const host = text("host", options.host) ?? base.host;
  const user = text("user", options.user) ?? base.user;
  const database = text("database", options.database) ??
    (base.database === "" ? user : base.database);
  if (
    options.password !== undefined && typeof options.password !== "string" &&
    typeof options.password !== "function"
  ) {
    throw new TypeError(
      'Cannot connect to the database: option "password" must be a string or a function',
    );
  }
  return {
    host,
    port: integer("port", options.port, base.port, 1),
    database,
    user,
    password: options.password ?? base.password,
    path: host.startsWith("/"),
    sslmode: base.sslmode,
  };
}

/**
 * Whether plinth closes idle connections itself rather than postgres.js: for plain connections
 * with an idle timeout. Over TLS the bytes plinth's sockets see are encrypted, so the driver's
 * own idle timer stays in charge.
 */
function ownsIdle(
  settings: Settings,
  target: Target,
  sslExplicit: boolean,
): boolean {
  return settings.idleTimeout > 0 && settings.driver.socket === undefined &&
    sslOf(settings, target, sslExplicit) === false;
}

function sslOf(
  settings: Settings,
  target: Target,
  explicit: boolean,
): postgres.Options<
  Record<string, never>
>["ssl"] {
  // A URL's sslmode is one of libpq's values (parseDatabaseUrl refuses any other).
  const mode = explicit ? settings.ssl : (target.sslmode ?? false);
  if (typeof mode === "object") return mode as Record<string, unknown>;
  if (mode === true || mode === "require") return "require";
  if (mode === "verify-full" || mode === "verify-ca") return "verify-full";
  if (mode === "prefer" || mode === "allow") return mode;
  return false;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const CONNECTION_ERRORS = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "57P01",
  "57P02",
  "57P03",
]);

function isConnectionError(error: unknown): boolean {
  const code = typeof error === "object" && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
  return typeof code === "string" && CONNECTION_ERRORS.has(code);
}

function isTemplate(value: unknown): value is TemplateStringsArray {
  return Array.isArray(value) &&
    Array.isArray((value as { raw?: unknown }).raw);
}

/** The query's text with `$n` placeholders: what the slow-query log shows, never the values. */
function queryText(query: QueryInternals): string {
  const strings = query.strings;
  if (typeof strings === "string") return strings;
  let out = strings[0] ?? "";
  for (let i = 1; i < strings.length; i++) out += `$${i}${strings[i]}`;
  return out.replace(/\s+/g, " ").trim();
}

class Pool implements Database {
  readonly sql: postgres.Sql;
  readonly target: string;
  readonly embedded: boolean;
  /**
   * The current driver instance, in a plain object the per-query wrapper captures. With
   * `Reflect.apply(pool.#inner, …)` there instead (a private field read per query), V8 (Node
   * and Deno) promoted several megabytes of short-lived query objects per scavenge, which then
   * cost mark-compacts: the largest part of plinth's overhead in the benchmark.
   */
  readonly #driver: Driver;
  /** The dispatchers of every instance made so far. */
  #handlers = new WeakSet<object>();
  #generation = 0;
  #bornAt = performance.now();
  #recycling = false;
  #typesKnown = false;
  #retiring = new Set<Promise<void>>();
  /**
   * The queries the driver is running, one slot each (at most `max`: each holds a slot of the
   * gate), with a stack of the free slots: cheaper per query than a Set on Bun, where adding and
   * deleting a query object costs more than the rest of plinth's wrapper.
   */
  #running: (QueryInternals | undefined)[];
  #free: number[];
  #makeInner: (fetchTypes: boolean) => postgres.Sql;
  #settings: Settings;
  #gate: Gate;
  #book: SocketBook;
  #ownsIdle: boolean;
  /** The idle sweep's timer, when plinth closes idle connections itself. */
  #sweeper: ReturnType<typeof timers.setInterval> | undefined;
  /** Gate slots the sweep holds while idle connections close. */
  #sweeping = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  #server: EmbeddedServer | undefined;

  constructor(
    makeInner: (fetchTypes: boolean) => postgres.Sql,
    settings: Settings,
    target: string,
    book: SocketBook,
    ownsIdle: boolean,
    server: EmbeddedServer | undefined,
  ) {
    this.#makeInner = makeInner;
    this.#settings = settings;
    this.#book = book;
    this.#ownsIdle = ownsIdle;
    this.#driver = this.#adopt(makeInner(true));
    this.#gate = new Gate(settings.max, settings.queueTimeout);
    this.#running = Array.from({ length: settings.max }, () => undefined);
    this.#free = Array.from({ length: settings.max }, (_, i) => settings.max - 1 - i);
    this.#server = server;
    this.target = target;
    this.embedded = server !== undefined;
    this.sql = Pool.#wrap(this);
    if (ownsIdle) {
      this.#sweeper = timers.setInterval(
        () => this.#sweep(),
        Math.max(1, settings.idleTimeout / SWEEPS),
      );
      this.#sweeper.unref();
    }
  }

  get #inner(): postgres.Sql {
    return this.#driver.sql;
  }

  #logger(): DatabaseLogger {
    return this.#settings.logger ?? getLogger();
  }

  #closedError(): DatabaseError {
    return new DatabaseError(
      "database_closed",
      `Cannot run query on ${this.target}: the database is closed`,
    );
  }

  #queueTimeoutError(): Error {
    return serviceUnavailable(
      `Cannot run query on ${this.target}: no free connection within ${this.#settings.queueTimeout} ms`,
      {
        code: "database_busy",
        extensions: {
          pool: {
            open: this.#book.count,
            busy: this.#gate.busy - this.#sweeping,
            max: this.#settings.max,
          },
        },
      },
    );
  }

  /** The tagged template handed to callers: postgres.js's, with every query instrumented. */
  static #wrap(pool: Pool): postgres.Sql {
    const driver = pool.#driver;
    // `arguments` rather than rest parameters: no array unless it is a query. A tagged query is
    // made here, as the driver's `sql` makes it, so that the driver's record of where it was
    // made (four frames) ends with the caller's, which its errors' stacks then show.
    const sql = function (first: unknown): unknown {
      if (!isTemplate(first)) return Reflect.apply(driver.sql, undefined, arguments);
      const args: unknown[] = [];
      for (let i = 1; i < arguments.length; i++) args.push(arguments[i]);
      const query = new driver.Query(first, args, driver.handler, driver.cancel);
      pool.#instrument(query);
      return query;
    };
    Object.assign(sql, pool.#inner);
    // Read from the current instance, not copied once: a replaced pool has its own.
    Object.defineProperties(sql, {
      options: { enumerable: true, get: () => pool.#inner.options },
      parameters: { enumerable: true, get: () => pool.#inner.parameters },
    });
    Object.assign(sql, {
      unsafe: (...args: unknown[]): unknown => {
        const query = (pool.#inner.unsafe as (...a: unknown[]) => unknown)(
          ...args,
        );
        pool.#instrument(query as QueryInternals);
        return query;
      },
      file: (...args: unknown[]): unknown => {
        const query = (pool.#inner.file as (...a: unknown[]) => unknown)(
          ...args,
        );
        pool.#instrument(query as QueryInternals);
        return query;
      },
      // Through plinth's sql, not the driver's: in the gate like any other query. Sent at once,
      // as the driver's is, so a notify nobody awaits is not lost.
      notify: async (channel: string, payload: string): Promise<unknown> =>
        await (sql as unknown as postgres.Sql)`select pg_notify(${channel}, ${"" + payload})`,
      begin: (...args: unknown[]): Promise<unknown> =>
        pool.#hold(() => (pool.#inner.begin as (...a: unknown[]) => Promise<unknown>)(...args)),
      reserve: (): Promise<postgres.ReservedSql> => pool.#reserve(),
      end: (options?: { timeout?: number }): Promise<void> =>
        pool.close(
          options?.timeout === undefined ? {} : { timeout: options.timeout * 1000 },
        ),
    });
    return sql as unknown as postgres.Sql;
  }

  /** Remembers an instance's dispatcher, so queries made for it can be moved to a newer one. */
  #adopt(inner: postgres.Sql): Driver {
    if (this.#ownsIdle) this.#book.owners.add(inner.options);
    const driver = driverOf(inner);
    if (typeof driver.handler === "function") this.#handlers.add(driver.handler);
    return driver;
  }

  /**
   * Routes a postgres.js query through the gate and the slow-query timer: one state object per
   * query, no closure, no timer, no promise and no extra turn unless it has to wait for a slot.
   */
  #instrument(query: QueryInternals): void {
    if (
      typeof query?.handle !== "function" || typeof query.reject !== "function" ||
      typeof query.resolve !== "function" || typeof query.handler !== "function"
    ) return;
    query[RUN] = new QueryRun(this, query);
    query.handle = Pool.#handle;
    if (query.canceller !== null) query.canceller = Pool.#cancel;
  }

  /**
   * The query's canceller (`query.cancel()` calls it with the query). A query waiting in plinth's
   * queue leaves it at once; one not yet sent is then rejected by the driver's own `cancel`
   * (57014, as postgres.js does for a query it has not sent), which marks it so the driver will
   * not send it; a running one is cancelled on the server by the driver.
   */
  static #cancel = function (this: unknown, query: QueryInternals): unknown {
    const run = query[RUN] as QueryRun;
    const pool = run.pool;
    if (run.state === 0) run.state = 3;
    else if (
      run.state === 1 && run.waiter !== undefined && pool.#gate.withdraw(run.waiter)
    ) run.state = 3;
    // A query granted a slot but not yet dispatched keeps state 1: #run sees it is cancelled
    // and gives the slot back.
    return (pool.#driver.cancel as (q: QueryInternals) => unknown)(query);
  };

  /** The query's `handle()`: asks for a slot (the driver calls it when the query is awaited). */
  static #handle = function (this: QueryInternals): void {
    const run = this[RUN];
    if (run === undefined || run.state !== 0) return;
    run.state = 1;
    const pool = run.pool;
    if (pool.#closed) return this.reject(pool.#closedError());
    // The caller's request context, for the slow-query log: the driver settles queries from
    // its socket's callbacks, outside it.
    if (pool.#settings.slowQueryMs !== Infinity) run.context = getContext();
    if (pool.#gate.tryAcquire()) return pool.#run(run);
    run.queuedAt = performance.now();
    run.waiter = pool.#gate.wait(
      // A slot is freed while the driver settles a query, before that connection is idle
      // again: dispatch once the driver is done, or it would pipeline onto a busy connection.
      () => queueMicrotask(() => pool.#run(run)),
      (reason) =>
        this.reject(
          reason === "timeout" ? pool.#queueTimeoutError() : pool.#closedError(),
        ),
    );
  };

  /** Hands the query, holding a slot, to the driver; the slot is freed when the driver settles it. */
  #run(run: QueryRun): void {
    const query = run.query;
    if (query.cancelled) {
      // Cancelled while it waited for this slot: the driver would never send nor settle it.
      run.state = 3;
      this.#gate.release();
      return;
    }
    run.state = 2;
    // No clock read when the slow-query log is off.
    if (this.#settings.slowQueryMs !== Infinity) run.startedAt = performance.now();
    // A query made before the driver instance was replaced (say, waiting in the queue during a
    // restart) goes to the current one, not to the retired one that refuses it.
    const handler = this.#driver.handler;
    if (query.handler !== handler && this.#handlers.has(query.handler as object)) {
      query.handler = handler;
    }
    run.generation = this.#generation;
    const slot = this.#free.pop();
    if (slot !== undefined) {
      run.slot = slot;
      this.#running[slot] = query;
    }
    // The driver settles a query through these two (no promise reaction needed to notice).
    // Replaced here, not earlier: a cursor replaces them before it executes.
    run.resolve = query.resolve;
    run.reject = query.reject;
    if (query.cursorFn === undefined) {
      query.resolve = Pool.#resolve;
      query.reject = Pool.#reject;
    } else {
      // An iterated cursor assigns both again before each batch: keep what it assigns as the
      // driver's own, so the slot is still freed when it ends.
      for (const key of ["resolve", "reject"] as const) {
        Object.defineProperty(query, key, {
          configurable: true,
          enumerable: true,
          get: () => key === "resolve" ? Pool.#resolve : Pool.#reject,
          set: (fn: (value: unknown) => void) => {
            run[key] = fn;
          },
        });
      }
    }
    // What postgres.js's own handle() does, minus its async wrapper and its `await 1`: a
    // failure to dispatch (its #1154: a TypeError from nextWrite when the server restarts with
    // queries in flight) would reject that wrapper's promise, which nobody observes. Here it
    // rejects the query instead.
    query.executed = true;
    try {
      (query.handler as (q: QueryInternals) => unknown)(query);
    } catch (error) {
      query.reject(error);
    }
  }

  /** The running query's `resolve()`. */
  static #resolve = function (this: QueryInternals, value: unknown): void {
    const run = this[RUN] as QueryRun;
    (run.resolve as (value: unknown) => void)(value);
    const pool = run.pool;
    if (pool.#settle(run) && !pool.#typesKnown) pool.#learnedTypes(run.generation);
  };

  /** The running query's `reject()`. */
  static #reject = function (this: QueryInternals, error: unknown): void {
    const run = this[RUN] as QueryRun;
    (run.reject as (error: unknown) => void)(error);
    const pool = run.pool;
    if (pool.#settle(run) && isConnectionError(error)) {
      const lost = run.generation;
      queueMicrotask(() => pool.#recycle(lost));
    }
  };

  /** Frees a settled query's slot and logs it when slow; false when it was settled already. */
  #settle(run: QueryRun): boolean {
    if (run.state !== 2) return false;
    run.state = 3;
    if (run.slot >= 0) {
      this.#running[run.slot] = undefined;
      this.#free.push(run.slot);
    }
    this.#gate.release();
    if (run.startedAt >= 0) {
      const elapsed = performance.now() - run.startedAt;
      if (elapsed > this.#settings.slowQueryMs) {
        this.#slow(
          run.query,
          elapsed,
          run.queuedAt < 0 ? 0 : run.startedAt - run.queuedAt,
          run.context,
        );
      }
    }
    return true;
  }

  /**
   * Stops the driver from reading the array types on every new connection once one has: that
   * read is a query postgres.js runs from an async function nobody awaits, so a connection lost
   * during it (a restart) would surface as an unhandled rejection. The types are shared by the
   * instance's connections and copied to the instances that replace it.
   */
  #learnedTypes(generation: number): void {
    if (generation !== this.#generation) return;
    this.#typesKnown = true;
    (this.#inner.options as unknown as OptionsInternals).fetch_types = false;
  }

  #slow(
    query: QueryInternals,
    elapsed: number,
    waited: number,
    context: Readonly<Record<string, unknown>> | undefined,
  ): void {
    const fields: Record<string, unknown> = {
      duration_ms: Math.round(elapsed * 10) / 10,
      queued_ms: Math.round(waited * 10) / 10,
      query: queryText(query),
    };
    const requestId = context?.request_id;
    if (requestId !== undefined) fields.request_id = requestId;
    this.#logger().warn("Slow query", fields);
  }

  /** Runs `fn` holding one slot of the gate (a transaction or a reserved connection). */
  async #hold<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await fn();
    } finally {
      this.#gate.release();
    }
  }

  #acquire(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#gate.tryAcquire()) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.#gate.wait(
        resolve,
        (reason) =>
          reject(
            reason === "timeout" ? this.#queueTimeoutError() : this.#closedError(),
          ),
      )
    );
  }

  async #reserve(): Promise<postgres.ReservedSql> {
    await this.#acquire();
    let reserved: postgres.ReservedSql;
    try {
      reserved = await this.#inner.reserve();
    } catch (error) {
      this.#gate.release();
      throw error;
    }
    const release = reserved.release.bind(reserved);
    let released = false;
    reserved.release = (): void => {
      if (released) return;
      released = true;
      release();
      this.#gate.release();
    };
    return reserved;
  }

  /**
   * Replaces the driver's pool after a connection failure. postgres.js can strand a connection
   * whose reconnect fails (it stays "connecting" and the queries routed to it never settle), so a
   * lost connection retires the whole driver instance: its queries still running may finish
   * within `connectTimeout`, anything stranded is rejected, and new queries go to a fresh one.
   */
  #recycle(generation: number): void {
    if (this.#closed || generation !== this.#generation || this.#recycling) {
      return;
    }
    const wait = 100 - (performance.now() - this.#bornAt);
    if (wait > 0) {
      this.#recycling = true;
      setTimeout(() => {
        this.#recycling = false;
        this.#recycle(generation);
      }, wait);
      return;
    }
    const old = this.#inner;
    // Every query running now runs on the old instance.
    const stranded = this.#running.filter((query) => query !== undefined);
    const inner = this.#makeInner(!this.#typesKnown);
    if (this.#typesKnown) shareTypes(old, inner);
    Object.assign(this.#driver, this.#adopt(inner));
    this.#generation++;
    this.#bornAt = performance.now();
    const retiring: Promise<void> = old.end({
      timeout: this.#settings.connectTimeout / 1000,
    })
      .catch(() => {})
      .finally(() => this.#retiring.delete(retiring));
    this.#retiring.add(retiring);
    // Whatever the old pool has not settled by then it never will: reject it, free its slot
    // (rejecting a query that has settled meanwhile does nothing).
    const timer = setTimeout(() => {
      for (const query of stranded) {
        query.reject(
          new DatabaseError(
            "connection_lost",
            `Cannot run query on ${this.target}: its connection was lost`,
          ),
        );
      }
    }, this.#settings.connectTimeout);
    (timer as { unref?: () => void }).unref?.();
    this.#logger().warn("Lost a database connection: replacing the pool", {
      target: this.target,
    });
  }

  /**
   * Closes idle connections: plinth's replacement for the driver's idle timer, which postgres.js
   * re-arms (a clearTimeout and a setTimeout) on every query. Runs every `idleTimeout / SWEEPS`
   * and closes a connection of the current driver instance only when all of these hold:
   *
   * 1. nothing holds or waits for a slot of the gate: no query, transaction, reserved
   *    connection or cursor is in plinth's hands (they all hold a slot until they settle);
   * 2. the connection has neither sent nor received a byte for at least `idleTimeout`;
   * 3. the last bytes it received are a ReadyForQuery with status idle (not in a transaction),
   *    and it sent nothing since: the server has answered everything it was asked.
   *
   * The sweep then holds every free slot until the connections have closed (each sent
   * PostgreSQL's Terminate and ended; destroyed after `CLOSE_BOUND` ms), so no new query is
   * handed to the driver while it could still route one to a closing connection; the driver
   * sees a clean close and opens a new connection when it next needs one.
   */
  #sweep(): void {
    const book = this.#book;
    book.tick++;
    if (
      this.#closed || this.#sweeping !== 0 || this.#gate.busy !== 0 || this.#gate.queued !== 0
    ) return;
    const owner = this.#inner.options as unknown as object;
    let idle: TrackedSocket[] | undefined;
    for (const entry of book.tracked) {
      if (entry.owner === owner && entry.ready && book.tick - entry.io > SWEEPS) {
        (idle ??= []).push(entry);
      }
    }
    if (idle === undefined) return;
    while (this.#gate.tryAcquire()) this.#sweeping++;
    let left = idle.length;
    const closed = (): void => {
      if (--left !== 0) return;
      const held = this.#sweeping;
      this.#sweeping = 0;
      for (let i = 0; i < held; i++) this.#gate.release();
    };
    for (const entry of idle) {
      book.tracked.delete(entry);
      closeIdle(entry, closed);
    }
    this.#logger().debug("Closed idle database connections", {
      target: this.target,
      closed: idle.length,
      idle_timeout_ms: this.#settings.idleTimeout,
    });
  }

  transaction<T>(
    fn: (sql: postgres.TransactionSql) => T | Promise<T>,
  ): Promise<T> {
    if (typeof fn !== "function") {
      return Promise.reject(
        new TypeError("Cannot run transaction: fn must be a function"),
      );
    }
    return this.#hold(() => this.#inner.begin(fn) as Promise<T>);
  }

  async health(options: HealthOptions = {}): Promise<HealthReport> {
    const timeout = duration("timeout", options.timeout, this.#settings.healthTimeout) ||
      this.#settings.healthTimeout;
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let error: string | undefined;
    try {
      const query = this.sql`select 1`;
      await Promise.race([
        query,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeout} ms`)),
            timeout,
          );
        }),
      ]);
    } catch (cause) {
      error = errorMessage(cause);
    } finally {
      clearTimeout(timer);
    }
    const latency = Math.round((performance.now() - started) * 100) / 100;
    const { open, busy, queued } = this.stats();
    const report = {
      ok: error === undefined,
      latency_ms: latency,
      pool: { open, busy, queued },
    };
    return error === undefined ? report : { ...report, error };
  }

  stats(): PoolStats {
    return {
      open: this.#book.count,
      busy: this.#gate.busy - this.#sweeping,
      queued: this.#gate.queued,
      max: this.#settings.max,
    };
  }

  close(options: CloseOptions = {}): Promise<void> {
    const timeout = duration("timeout", options.timeout, 10_000);
    this.#closing ??= this.#shutdown(timeout);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(timeout: number): Promise<void> {
    this.#closed = true;
    if (this.#sweeper !== undefined) timers.clearInterval(this.#sweeper);
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Timeout 0 waits for nothing, as the driver's end({ timeout: 0 }): what is queued is
    // refused and what runs is destroyed, even a query that would answer within a turn.
    const drained = timeout > 0 && await Promise.race([
      this.#gate.idle().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeout);
      }),
    ]);
    clearTimeout(timer);
    if (!drained && (this.#gate.busy - this.#sweeping !== 0 || this.#gate.queued !== 0)) {
      this.#logger().warn(
        "Closing the database: terminating queries still running",
        {
          target: this.target,
          busy: this.#gate.busy - this.#sweeping,
          queued: this.#gate.queued,
          timeout_ms: timeout,
        },
      );
      this.#gate.rejectAll("closed");
      // The driver destroys their connections below, but a query whose answer arrives first
      // would still resolve: reject every one now, with the driver's code for it.
      for (const query of this.#running) {
        query?.reject(
          Object.assign(
            new Error(`Cannot run query on ${this.target}: the database was closed`),
            { code: "CONNECTION_DESTROYED" },
          ),
        );
      }
    }
    try {
      await this.#inner.end({ timeout: 0 });
      await Promise.all([...this.#retiring]);
    } finally {
      this.#book.count = 0;
      this.#book.tracked.clear();
      await this.#server?.close();
    }
  }
}

/** Idle sweeps per `idleTimeout`: a connection closes between 1 and 1.25 idle timeouts after its last byte. */
const SWEEPS = 4;

/** How long an idle connection being closed may take to close before its socket is destroyed. */
const CLOSE_BOUND = 1_000;

/**
 * Closes an idle connection: sends Terminate and ends the socket, destroys it if it has not
 * closed within `CLOSE_BOUND`, and calls `done` once (when the driver has seen it close).
 */
function closeIdle(entry: TrackedSocket, done: () => void): void {
  const socket = entry.socket;
  let finished = false;
  let grace: ReturnType<typeof timers.setTimeout> | undefined;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    timers.clearTimeout(bound);
    if (grace !== undefined) timers.clearTimeout(grace);
    done();
  };
  // Registered after the driver's own close listener, so it runs once the driver has moved the
  // connection to its closed ones.
  socket.once("close", finish);
  const bound = timers.setTimeout(() => {
    socket.destroy();
    // A destroyed socket emits close on a later turn; do not wait for it forever.
    grace = timers.setTimeout(finish, 100);
    grace.unref();
  }, CLOSE_BOUND);
  bound.unref();
  socket.end(TERMINATE);
}

/** Gives a new driver instance the array types an older one read from the server. */
function shareTypes(from: postgres.Sql, to: postgres.Sql): void {
  const source = from.options as unknown as OptionsInternals;
  const target = to.options as unknown as OptionsInternals;
  Object.assign(target.parsers, source.parsers);
  Object.assign(target.serializers, source.serializers);
  if (source.shared?.typeArrayMap && target.shared?.typeArrayMap) {
    Object.assign(target.shared.typeArrayMap, source.shared.typeArrayMap);
  }
}

function noticeHandler(
  settings: Settings,
): (notice: postgres.Notice) => void {
  return (notice) => {
    const logger = settings.logger ?? getLogger();
    const severity = String(notice.severity ?? "NOTICE");
    const fields = { severity, code: notice.code, notice: notice.message };
    if (severity === "WARNING") logger.warn("PostgreSQL notice", fields);
    else if (severity === "DEBUG" || severity === "LOG") {
      logger.debug("PostgreSQL notice", fields);
    } else logger.info("PostgreSQL notice", fields);
  };
}

function driverOptions(
  settings: Settings,
  target: Target,
  sslExplicit: boolean,
  max: number,
  book: SocketBook,
  fetchTypes: boolean,
): postgres.Options<Record<string, never>> {
  const driver = settings.driver;
  const connection: Record<string, unknown> = {
    application_name: "plinth",
    ...(driver.connection as Record<string, unknown> | undefined),
  };
  if (settings.applicationName !== undefined) {
    connection.application_name = settings.applicationName;
  }
  if (settings.statementTimeout > 0) {
    connection.statement_timeout = Math.round(settings.statementTimeout);
  }
  const reconnectCap = Math.min(settings.maxDelay, 1_000);
  return {
    ...driver,
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    ...(target.password === undefined ? {} : { password: target.password }),
    ssl: sslOf(settings, target, sslExplicit),
    max,
    // plinth closes idle plain connections itself (see Pool's #sweep): the driver's idle timer
    // is re-armed on every query, which costs more than the query's own work on Deno and Bun.
    idle_timeout: settings.idleTimeout > 0 && !ownsIdle(settings, target, sslExplicit)
      ? settings.idleTimeout / 1000
      : 0,
    max_lifetime: settings.maxLifetime > 0 ? settings.maxLifetime / 1000 : null,
    connect_timeout: settings.connectTimeout / 1000,
    connection,
    fetch_types: fetchTypes && driver.fetch_types !== false,
    onnotice: driver.onnotice ?? noticeHandler(settings),
    backoff: (retries: number) =>
      backoffDelay(retries, {
        baseDelay: Math.min(settings.baseDelay, 100),
        maxDelay: reconnectCap,
      }) /
      1000,
    socket: socketFactory(target, book, driver.socket as CustomSocket | undefined),
  } as unknown as postgres.Options<Record<string, never>>;
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
 * `host`, `port`, `database`, `user`, `password`, `ssl`), else from `DATABASE_URL`; with none
 * of these and `embedded: true`, an embedded PGlite is started in this process (one connection
 * at a time, persisted to `dataDir`).
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
 *   { max: 4, queueTimeout: 1_000, slowQueryMs: 200 },
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
  const useEmbedded = url === undefined && opts.host === undefined &&
    opts.embedded === true;
  if (url === undefined && opts.host === undefined && !useEmbedded) {
    throw new TypeError(
      "Cannot connect to the database: no server configured; pass a URL or host, set DATABASE_URL, or use embedded: true",
    );
  }
  const settings = settingsOf(opts, useEmbedded);
  let server: EmbeddedServer | undefined;
  let target: Target;
  if (useEmbedded) {
    const dataDir = resolvePath(
      text("dataDir", opts.dataDir) ?? ".data/pglite",
    );
    server = await startEmbedded(dataDir);
    target = {
      host: server.host,
      port: server.port,
      database: "postgres",
      user: "postgres",
      password: undefined,
      path: false,
      sslmode: undefined,
    };
  } else {
    target = targetOf(opts, url);
  }
  const where = describeTarget(target);
  const sslExplicit = opts.ssl !== undefined;
  const attempts = settings.retries + 1;
  const failures: unknown[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      await probe(settings, target, sslExplicit);
      break;
    } catch (error) {
      failures.push(error);
      if (attempt === attempts) {
        await server?.close();
        throw new DatabaseError(
          "connect_failed",
          `Cannot connect to PostgreSQL at ${where}: ${attempts} attempt${
            attempts === 1 ? "" : "s"
          } failed; last: ${errorMessage(error)}`,
          { cause: error },
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
      "connect_failed",
      `Cannot connect to PostgreSQL at ${where}: prewarming ${settings.prewarm} connection(s) failed: ${
        errorMessage(error)
      }`,
      { cause: error },
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
