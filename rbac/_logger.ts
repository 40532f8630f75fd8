import type { RbacLogger } from "./middleware.ts";

const METHODS = ["debug", "info", "warn", "error"] as const;

/** Checks a `logger` option when a factory runs: absent, or an object with the four methods. */
export function checkLogger(logger: unknown, where: string): void {
  if (logger === undefined) return;
  if (
    typeof logger !== "object" || logger === null ||
    METHODS.some((method) => typeof (logger as Record<string, unknown>)[method] !== "function")
  ) {
    throw new TypeError(
      `Cannot create ${where}: logger must have debug, info, warn and error methods`,
    );
  }
}

/** Calls `logger.warn` if there is a logger, never letting a throwing one turn a 401 into a 500. */
export function safeWarn(
  logger: RbacLogger | undefined,
  message: string,
  fields: Record<string, unknown>,
): void {
  if (logger === undefined) return;
  try {
    logger.warn(message, fields);
  } catch {
    // A logger that throws has nowhere left to report to.
  }
}
