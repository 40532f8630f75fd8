import type postgres from "postgres";

/**
 * What every query of this package takes: a postgres.js `sql` — a pool's (`db.sql` of
 * `@plinth/database`), a reserved connection's, or a transaction's (inside `sql.begin()` or
 * `db.transaction()`, so several queries commit together).
 *
 * @example
 * ```ts
 * import type { Sql } from "@plinth/models";
 * import { connectDatabase } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 1, prewarm: false },
 * );
 * const sql: Sql = db.sql;
 * const [row] = await sql`select 1 as one`;
 * assert.equal(row?.one, 1);
 * ```
 */
export type Sql = postgres.Sql | postgres.TransactionSql;
