import { AppError } from "@plinth/errors";

/**
 * The stable `code` of every {@linkcode LoggingError}: `log_file_unavailable` (500), a log
 * file that cannot be opened for appending.
 *
 * @example
 * ```ts
 * import { LoggingError, type LoggingErrorCode } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const code: LoggingErrorCode = "log_file_unavailable";
 * assert.equal(new LoggingError("Cannot open log file", { code }).status, 500);
 * ```
 */
export type LoggingErrorCode = "log_file_unavailable";

const STATUS: Readonly<Record<LoggingErrorCode, number>> = {
  log_file_unavailable: 500,
};

/**
 * Every {@linkcode LoggingErrorCode}, frozen.
 *
 * @example
 * ```ts
 * import { LOGGING_ERROR_CODES } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(LOGGING_ERROR_CODES, ["log_file_unavailable"]);
 * ```
 */
export const LOGGING_ERROR_CODES: readonly LoggingErrorCode[] = Object.freeze(
  Object.keys(STATUS) as LoggingErrorCode[],
);

/**
 * Options of {@linkcode LoggingError}.
 *
 * @example
 * ```ts
 * import { LoggingError, type LoggingErrorOptions } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const options: LoggingErrorOptions = { code: "log_file_unavailable", cause: new Error("EACCES") };
 * assert.equal(new LoggingError("Cannot open log file", options).cause, options.cause);
 * ```
 */
export interface LoggingErrorOptions {
  /** What failed. */
  readonly code: LoggingErrorCode;
  /** The error behind this one (the `node:fs` error). @default {undefined} */
  readonly cause?: unknown;
  /** HTTP status, should the error reach a response. @default {the code's status (500)} */
  readonly status?: number | undefined;
}

/**
 * A failure of `@plinth/logging` itself: an {@linkcode AppError} (so `isAppError()` holds and
 * it renders as a problem with a generic detail) with a stable {@linkcode LoggingErrorCode}.
 * Logging calls never throw; this comes only from setting a logger up, such as
 * `fileDestination()` or `createLogger({ destination: path })` on a file that cannot be opened.
 *
 * @example
 * ```ts
 * import { fileDestination, LoggingError } from "@plinth/logging";
 * import { isAppError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () => fileDestination("/no/such/dir/app.log"),
 *   (error: unknown) =>
 *     error instanceof LoggingError && error.code === "log_file_unavailable" && isAppError(error),
 * );
 * ```
 */
export class LoggingError extends AppError {
  /** What failed. */
  declare readonly code: LoggingErrorCode;

  /**
   * Creates a logging error.
   *
   * @param message What failed, for the logs (clients see a generic detail).
   * @param options The `code`, and the `cause` and `status`.
   * @throws {TypeError} When `code` is not one of {@linkcode LOGGING_ERROR_CODES}.
   */
  constructor(message: string, options: LoggingErrorOptions) {
    const code = options?.code;
    if (typeof code !== "string" || !Object.hasOwn(STATUS, code)) {
      throw new TypeError("Cannot create LoggingError: code must be one of LOGGING_ERROR_CODES");
    }
    super(message, { status: options.status ?? STATUS[code], code, cause: options.cause });
    this.name = "LoggingError";
  }
}
