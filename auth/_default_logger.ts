import { log } from "@plinth/logging";
import type { AuthLogger } from "./logger.ts";

/**
 * The logger used when none is given: `@plinth/logging`'s default logger (`log`), which
 * follows `setLogger()`.
 */
export const defaultLogger: AuthLogger = {
  warn(message: string, fields?: Record<string, unknown>): void {
    log.warn(message, fields);
  },
  error(message: string, fields?: Record<string, unknown>): void {
    log.error(message, fields);
  },
};

/** Calls `logger.warn`, never letting a throwing logger turn a 401 into a 500. */
export function safeWarn(
  logger: AuthLogger,
  message: string,
  fields: Record<string, unknown>,
): void {
  try {
    logger.warn(message, fields);
  } catch {
    // A logger that throws has nowhere left to report to.
  }
}

/** Calls `logger.error` (`logger.warn` when it has none), never throwing. */
export function safeError(
  logger: AuthLogger,
  message: string,
  fields: Record<string, unknown>,
): void {
  try {
    if (typeof logger.error === "function") logger.error(message, fields);
    else logger.warn(message, fields);
  } catch {
    // A logger that throws has nowhere left to report to.
  }
}

/** Checks a `logger` option when a factory runs. */
export function checkLogger(logger: unknown, where: string): void {
  if (logger === undefined) return;
  if (
    typeof logger !== "object" || logger === null ||
    typeof (logger as AuthLogger).warn !== "function"
  ) {
    throw new TypeError(`Cannot create ${where}: logger must have a warn(message, fields) method`);
  }
}
