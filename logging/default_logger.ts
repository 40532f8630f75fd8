import { createLogger, type LogFields, type Logger } from "./logger.ts";
import type { LogLevel } from "./level.ts";

let current: Logger | undefined;

/**
 * The default logger: the one last given to {@linkcode setLogger}, else one created on first use
 * from the environment (`SERVICE_NAME`, `LOG_LEVEL`, `LOG_FORMAT`) writing to stdout. Logging
 * before any set-up therefore works and is never lost.
 *
 * @returns The default logger.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { createLogger, getLogger, setLogger } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const mine = createLogger({ service: "svc", destination: { write: () => {} } });
 * const previous = setLogger(mine);
 * assert.equal(getLogger(), mine);
 * setLogger(previous);
 * ```
 */
export function getLogger(): Logger {
  current ??= createLogger();
  return current;
}

/**
 * Makes `logger` the default logger (what {@linkcode log} and {@linkcode getLogger} use from
 * now on), typically once at start-up.
 *
 * @param logger The new default.
 * @returns The previous default (created first, if there was none yet).
 * @throws {TypeError} When `logger` is not a logger.
 *
 * @example
 * ```ts
 * import { createLogger, log, setLogger } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const previous = setLogger(
 *   createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } }),
 * );
 * log.info("via the default logger");
 * setLogger(previous);
 * assert.equal(JSON.parse(lines[0]!).message, "via the default logger");
 * ```
 */
export function setLogger(logger: Logger): Logger {
  if (typeof logger !== "object" || logger === null || typeof logger.info !== "function") {
    throw new TypeError("Cannot set the default logger: not a logger");
  }
  const previous = getLogger();
  current = logger;
  return previous;
}

/**
 * The default logger as a value to import (a documented singleton): every call goes to
 * {@linkcode getLogger}'s logger at that moment, so `log` follows {@linkcode setLogger}.
 *
 * @example
 * ```ts
 * import { createLogger, log, setLogger } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const previous = setLogger(createLogger({
 *   service: "svc",
 *   destination: { write: (l) => lines.push(l) },
 * }));
 * log.level = "error";
 * log.warn("dropped");
 * log.error("failed", new Error("boom"));
 * setLogger(previous);
 * assert.equal(lines.length, 1);
 * assert.equal(JSON.parse(lines[0]!).err.message, "boom");
 * ```
 */
export const log: Logger = Object.freeze({
  get level(): LogLevel {
    return getLogger().level;
  },
  set level(value: LogLevel) {
    getLogger().level = value;
  },
  // Both argument orders pass straight through; the casts only pick an overload for the compiler.
  debug(message: string | LogFields, fields?: LogFields | string): void {
    getLogger().debug(message as string, fields as LogFields);
  },
  info(message: string | LogFields, fields?: LogFields | string): void {
    getLogger().info(message as string, fields as LogFields);
  },
  warn(message: string | LogFields, fields?: LogFields | string): void {
    getLogger().warn(message as string, fields as LogFields);
  },
  error(message: string | Error | LogFields, errorOrFields?: unknown, fields?: LogFields): void {
    getLogger().error(message as string, errorOrFields, fields);
  },
  fatal(message: string | Error | LogFields, errorOrFields?: unknown, fields?: LogFields): void {
    getLogger().fatal(message as string, errorOrFields, fields);
  },
  child(fields: LogFields): Logger {
    return getLogger().child(fields);
  },
  isLevelEnabled(level: LogLevel): boolean {
    return getLogger().isLevelEnabled(level);
  },
  flush(): Promise<void> {
    return getLogger().flush();
  },
});
