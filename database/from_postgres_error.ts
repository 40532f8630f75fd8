import { type AppError, errorChain, internalError, isAppError } from "@plinth/errors";
import { DatabaseError } from "./database_error.ts";
import { CONNECTION_ERROR_CODES } from "./_connection_codes.ts";

interface PgLike {
  readonly code: string;
  readonly constraint_name?: string | undefined;
  readonly column_name?: string | undefined;
  readonly table_name?: string | undefined;
}

// SQLSTATEs that mean "the server cannot serve you now".
const UNAVAILABLE_STATES = new Set([
  "53300", // too_many_connections
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "40001", // serialization_failure: retry the transaction
  "40P01", // deadlock_detected: retry the transaction
  "57014", // query_canceled (statement_timeout)
  "55P03", // lock_not_available (lock_timeout)
]);

function isSqlState(value: unknown): value is PgLike {
  return typeof value === "object" && value !== null &&
    typeof (value as { code?: unknown }).code === "string" &&
    /^[0-9A-Z]{5}$/.test((value as { code: string }).code) &&
    (value as { name?: unknown }).name === "PostgresError";
}

function codeOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const code = (value as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

function where(error: PgLike): Record<string, string> {
  const out: Record<string, string> = {};
  if (error.table_name) out.table = error.table_name;
  if (error.constraint_name) out.constraint = error.constraint_name;
  if (error.column_name) out.column = error.column_name;
  return out;
}

function unavailable(cause: unknown): DatabaseError {
  return new DatabaseError("The database is unavailable", { code: "database_unavailable", cause });
}

function fromSqlState(error: PgLike, original: unknown): DatabaseError | undefined {
  const constraint = error.constraint_name;
  const named = constraint ? ` "${constraint}"` : "";
  switch (error.code) {
    case "23505":
      return new DatabaseError(
        `The row conflicts with an existing one: unique constraint${named}`,
        {
          code: "unique_violation",
          extensions: where(error),
          cause: original,
        },
      );
    case "23503":
      return new DatabaseError(
        `A referenced row does not exist: foreign key${named}`,
        {
          code: "foreign_key_violation",
          extensions: where(error),
          cause: original,
        },
      );
    case "23502":
      return new DatabaseError(
        `A required value is missing: column "${error.column_name ?? "?"}" must not be null`,
        {
          code: "not_null_violation",
          extensions: where(error),
          cause: original,
        },
      );
    case "23514":
      return new DatabaseError(
        `A value breaks a rule: check constraint${named}`,
        {
          code: "check_violation",
          extensions: where(error),
          cause: original,
        },
      );
  }
  if (UNAVAILABLE_STATES.has(error.code) || error.code.startsWith("08")) {
    return unavailable(original);
  }
  return undefined;
}

/**
 * Turns an error from a query into an `AppError` of `@plinth/errors`, so that it renders as a
 * problem response: a unique violation is a 409, a foreign-key, not-null or check violation a
 * 422 naming the constraint (never the row's values, which PostgreSQL puts in its `detail`), a
 * lost or refused connection, `too_many_connections`, a shutdown, a statement timeout or a
 * serialization failure a 503 (`database_unavailable`): each a {@linkcode DatabaseError}. Anything
 * else is a 500 (`internal_error`). The original error is kept as `cause`. An `AppError` found
 * in the error's `cause` chain (such as a `DatabaseError` the pool threw: its queue timeout,
 * `database_closed`, `connection_lost`) is returned as it is.
 *
 * @param error Anything a query threw.
 * @returns The `AppError` to throw or render.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { connectDatabase, fromPostgresError } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 1 },
 * );
 * // One connection, so the temporary table lives for every query below.
 * await db.sql`create temporary table doc_users (email text constraint doc_users_email unique)`;
 * await db.sql`insert into doc_users values (${"ann@example.com"})`;
 * const error = await db.sql`insert into doc_users values (${"ann@example.com"})`.then(
 *   () => assert.fail("inserted a duplicate"),
 *   fromPostgresError,
 * );
 * assert.equal(error.status, 409);
 * assert.equal(error.code, "unique_violation");
 * assert.equal(error.extensions.constraint, "doc_users_email");
 * assert.ok(!error.message.includes("ann@example.com"));
 * ```
 */
export function fromPostgresError(error: unknown): AppError {
  if (isAppError(error)) return error;
  for (const link of errorChain(error)) {
    if (isAppError(link)) return link;
    if (isSqlState(link)) {
      const mapped = fromSqlState(link, error);
      if (mapped !== undefined) return mapped;
      break;
    }
    const code = codeOf(link);
    if (code !== undefined && CONNECTION_ERROR_CODES.has(code)) return unavailable(error);
  }
  return internalError("A database operation failed", { cause: error });
}
