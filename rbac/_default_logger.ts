import { log } from "@plinth/logging";
import type { RbacLogger as AuthLogger } from "./middleware.ts";

/**
 * The logger used when none is given: `@plinth/logging`'s default logger (`log`), which
 * follows `setLogger()`.
 */
export const defaultLogger: AuthLogger = {
  warn(message: string, fields?: Record<string, unknown>): void {
    log.warn(message, fields);
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
