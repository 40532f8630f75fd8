// plinth's settings as the options of one postgres.js instance, in the driver's units (seconds
// where it takes seconds), with plinth's socket factory and its routing of notices to the logger.
import type postgres from "postgres";
import { getLogger } from "@plinth/logging";
import { backoffDelay } from "./_backoff.ts";
import { ownsIdle, type Settings, sslOf } from "./_options.ts";
import { type CustomSocket, type SocketBook, socketFactory } from "./_sockets.ts";
import type { Target } from "./_target.ts";

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

/**
 * postgres.js takes each of these it is not given from `PG<NAME>` of the process environment
 * (`PGDEBUG`, `PGPREPARE`, …). Given as its own defaults, so the driver is configured by plinth's
 * options only, and Deno needs no `--allow-env` for them; the `driver` pass-through still sets
 * them. (It reads `PGAPPNAME`, `PGTARGETSESSIONATTRS` and, with no password, `PGPASSWORD` whatever
 * it is given.)
 */
const DRIVER_DEFAULTS = {
  sslnegotiation: null,
  max_pipeline: 100,
  keep_alive: 60,
  prepare: true,
  debug: false,
  publications: "alltables",
  target_session_attrs: null,
} as const;

/** The postgres.js options of one driver instance: plinth's settings, in the driver's units. */
export function driverOptions(
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
    ...DRIVER_DEFAULTS,
    ...driver,
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    ...(target.password === undefined ? {} : { password: target.password }),
    ssl: sslOf(settings, target, sslExplicit),
    max,
    // plinth closes idle plain connections itself (see _idle_sweep.ts): the driver's idle timer
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
