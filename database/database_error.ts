/**
 * The stable codes of {@linkcode DatabaseError}; callers switch on them.
 *
 * - `connect_failed`: the first connection failed after every retry.
 * - `database_closed`: a query or transaction was started after `close()`.
 * - `connection_lost`: the query's connection was lost and the driver never settled it.
 * - `migration_invalid`: a migration file is misnamed, duplicated or breaks a rule.
 * - `migration_checksum`: an applied migration's file has changed.
 * - `migration_order`: a new migration is numbered below the last applied one.
 * - `migration_failed`: a migration's SQL failed (nothing of it was kept).
 * - `migration_lock_timeout`: another runner held the migration lock for too long.
 *
 * @example
 * ```ts
 * import { DatabaseError, type DatabaseErrorCode } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const code: DatabaseErrorCode = "database_closed";
 * assert.equal(new DatabaseError(code, "Cannot run query: the database is closed").code, code);
 * ```
 */
export type DatabaseErrorCode =
  | "connect_failed"
  | "database_closed"
  | "connection_lost"
  | "migration_invalid"
  | "migration_checksum"
  | "migration_order"
  | "migration_failed"
  | "migration_lock_timeout";

/**
 * A failure of `@plinth/database` itself (as opposed to an error PostgreSQL returned), with a
 * stable `code` and the underlying error as `cause`. Messages never contain a password or a
 * query's parameter values.
 *
 * @example
 * ```ts
 * import { DatabaseError } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const cause = new Error("connect ECONNREFUSED 127.0.0.1:5999");
 * const error = new DatabaseError("connect_failed", "Cannot connect", { cause });
 * assert.equal(error.name, "DatabaseError");
 * assert.equal(error.cause, cause);
 * assert.ok(error instanceof Error);
 * ```
 */
export class DatabaseError extends Error {
  /** The stable machine code. */
  readonly code: DatabaseErrorCode;

  /**
   * Creates the error.
   *
   * @param code The stable machine code.
   * @param message What failed, then why, after a colon.
   * @param options `cause`: the error behind this one.
   */
  constructor(
    code: DatabaseErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "DatabaseError";
    this.code = code;
  }
}
