// connectDatabase()'s options checked once (a TypeError or RangeError naming the option), with
// their defaults: the pool's settings, the server's target and the TLS mode.
import type postgres from "postgres";
import type { ConnectDatabaseOptions, SslMode } from "./connect_database.ts";
import type { DatabaseLogger } from "./database.ts";
import { parseDatabaseUrl, type Target } from "./_target.ts";
import { driverPassThrough } from "./_driver_options.ts";
import { movedToEmbedded } from "./_embedded.ts";

/** The checked options of a pool, with every default applied. */
export interface Settings {
  readonly max: number;
  readonly idleTimeout: number;
  readonly maxLifetime: number;
  readonly connectTimeout: number;
  readonly statementTimeout: number;
  readonly queueTimeout: number;
  readonly retries: number;
  readonly baseDelay: number;
  readonly maxDelay: number;
  readonly slowQueryThreshold: number;
  readonly now: () => number;
  readonly logger: DatabaseLogger | undefined;
  /** Undefined when not given: then `connection.application_name`, else "plinth". */
  readonly applicationName: string | undefined;
  readonly prewarm: number;
  readonly healthTimeout: number;
  readonly ssl: SslMode;
  /** The postgres.js options passed through as given. */
  readonly driver: Readonly<Record<string, unknown>>;
}

export function duration(
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

export function integer(
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

export function text(name: string, value: unknown): string | undefined {
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

export function settingsOf(
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
  for (const moved of ["embedded", "dataDir"]) {
    if ((options as Readonly<Record<string, unknown>>)[moved] !== undefined) {
      throw movedToEmbedded(moved);
    }
  }
  if ((options as { slowQueryMs?: unknown }).slowQueryMs !== undefined) {
    throw new TypeError(
      'Cannot connect to the database: option "slowQueryMs" is not known; use "slowQueryThreshold" (milliseconds)',
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
    slowQueryThreshold: duration("slowQueryThreshold", options.slowQueryThreshold, 500, true),
    now: clockOf(options.now),
    logger,
    applicationName: text("applicationName", options.applicationName),
    prewarm,
    healthTimeout: duration("healthTimeout", options.healthTimeout, 2_000) ||
      2_000,
    ssl: options.ssl ?? false,
    driver,
  };
}

/** The default clock: epoch milliseconds, monotonic within the process. */
function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}

export function clockOf(now: unknown): () => number {
  if (now === undefined) return monotonicNow;
  if (typeof now !== "function") {
    throw new TypeError(
      'Cannot connect to the database: option "now" must be a function returning epoch milliseconds',
    );
  }
  return now as () => number;
}

export function envOf(
  options: ConnectDatabaseOptions,
): Readonly<Record<string, string | undefined>> {
  if (options.env !== undefined) return options.env;
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } })
    .process;
  return proc?.env ?? {};
}

export function targetOf(
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
export function ownsIdle(
  settings: Settings,
  target: Target,
  sslExplicit: boolean,
): boolean {
  return settings.idleTimeout > 0 && settings.driver.socket === undefined &&
    sslOf(settings, target, sslExplicit) === false;
}

export function sslOf(
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
