import { AppError } from "@plinth/errors";

/**
 * The stable codes of {@linkcode DatabaseError}; callers switch on them. Each has an HTTP status
 * (see {@linkcode DATABASE_ERROR_CODES} and the README's table):
 *
 * - `connect_failed` (503): the first connection failed after every retry.
 * - `database_closed` (503): a query or transaction was started after `close()`.
 * - `connection_lost` (503): the query's connection was lost and the driver never settled it.
 * - `database_busy` (503): no connection became free within `queueTimeout`.
 * - `database_unavailable` (503): {@linkcode fromPostgresError} of a refused or lost connection,
 *   a shutdown, `too_many_connections`, a timeout or a serialization failure.
 * - `unique_violation` (409), `foreign_key_violation`, `not_null_violation`, `check_violation`
 *   (422): {@linkcode fromPostgresError} of a constraint violation.
 * - `driver_unsupported` (500): the installed postgres.js no longer has the shape plinth checks.
 * - `migration_invalid`, `migration_checksum`, `migration_order`, `migration_failed`,
 *   `migration_lock_timeout` (500): {@linkcode runMigrations} refused or failed.
 *
 * @example
 * ```ts
 * import { DatabaseError, type DatabaseErrorCode } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const code: DatabaseErrorCode = "database_closed";
 * const error = new DatabaseError("Cannot run query: the database is closed", { code });
 * assert.equal(error.code, code);
 * assert.equal(error.status, 503);
 * ```
 */
export type DatabaseErrorCode =
  | "connect_failed"
  | "database_closed"
  | "connection_lost"
  | "database_busy"
  | "database_unavailable"
  | "unique_violation"
  | "foreign_key_violation"
  | "not_null_violation"
  | "check_violation"
  | "driver_unsupported"
  | "migration_invalid"
  | "migration_checksum"
  | "migration_order"
  | "migration_failed"
  | "migration_lock_timeout";

const STATUS: Readonly<Record<DatabaseErrorCode, number>> = {
  connect_failed: 503,
  database_closed: 503,
  connection_lost: 503,
  database_busy: 503,
  database_unavailable: 503,
  unique_violation: 409,
  foreign_key_violation: 422,
  not_null_violation: 422,
  check_violation: 422,
  driver_unsupported: 500,
  migration_invalid: 500,
  migration_checksum: 500,
  migration_order: 500,
  migration_failed: 500,
  migration_lock_timeout: 500,
};

/**
 * Every {@linkcode DatabaseErrorCode}, frozen, in the order of the README's table.
 *
 * @example
 * ```ts
 * import { DATABASE_ERROR_CODES, DatabaseError } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * for (const code of DATABASE_ERROR_CODES) {
 *   assert.ok(new DatabaseError("x", { code }).status >= 400);
 * }
 * ```
 */
export const DATABASE_ERROR_CODES: readonly DatabaseErrorCode[] = Object.freeze(
  Object.keys(STATUS) as DatabaseErrorCode[],
);

/**
 * Options of {@linkcode DatabaseError}.
 *
 * @example
 * ```ts
 * import { DatabaseError, type DatabaseErrorOptions } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const options: DatabaseErrorOptions = { code: "unique_violation", extensions: { constraint: "users_email" } };
 * assert.equal(new DatabaseError("Duplicate", options).toProblem()["constraint"], "users_email");
 * ```
 */
export interface DatabaseErrorOptions {
  /** The stable machine code. */
  readonly code: DatabaseErrorCode;
  /** The error behind this one. @default {undefined} */
  readonly cause?: unknown;
  /** HTTP status. @default {the code's status (see {@linkcode DatabaseErrorCode})} */
  readonly status?: number | undefined;
  /** Extension members of the problem (a constraint's name, the pool's counts). @default {{}} */
  readonly extensions?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * A failure of `@plinth/database`, or a query error mapped by {@linkcode fromPostgresError}: an
 * `AppError` of `@plinth/errors` with a stable `code`, the code's HTTP status (a lost connection,
 * a closed pool and the queue timeout are 503s) and the underlying error as `cause`. Messages
 * never contain a password or a query's parameter values.
 *
 * @example
 * ```ts
 * import { DatabaseError } from "@plinth/database";
 * import { isAppError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const cause = new Error("connect ECONNREFUSED 127.0.0.1:5999");
 * const error = new DatabaseError("Cannot connect", { code: "connect_failed", cause });
 * assert.equal(error.name, "DatabaseError");
 * assert.equal(error.status, 503);
 * assert.equal(error.cause, cause);
 * assert.ok(isAppError(error));
 * ```
 */
export class DatabaseError extends AppError {
  /** The stable machine code. */
  declare readonly code: DatabaseErrorCode;

  /**
   * Creates the error.
   *
   * @param message What failed, then why, after a colon.
   * @param options `code`, and optionally `cause`, `status` and `extensions`.
   * @throws {TypeError} When `code` is not a {@linkcode DatabaseErrorCode}.
   */
  constructor(message: string, options: DatabaseErrorOptions) {
    const code = options?.code;
    const status = typeof code === "string" && Object.hasOwn(STATUS, code)
      ? STATUS[code]
      : undefined;
    if (status === undefined) {
      throw new TypeError("Cannot create DatabaseError: options.code must be a DatabaseErrorCode");
    }
    super(message, {
      code,
      status: options.status ?? status,
      cause: options.cause,
      extensions: options.extensions,
    });
    this.name = "DatabaseError";
  }
}
