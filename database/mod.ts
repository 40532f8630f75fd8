/**
 * PostgreSQL for plinth services, on postgres.js: a pool that connects even when the database
 * comes up after the service, never hangs (a queue timeout answers 503), survives restarts, logs
 * slow queries with the request id, sends server notices to the logger and closes without
 * dropping work; and SQL-file migrations that several replicas can start at once. The embedded
 * PGlite database is the separate entry point `@plinth/database/embedded`.
 *
 * {@linkcode connectDatabase} returns a {@linkcode Database} whose `sql` is the postgres.js
 * tagged template; {@linkcode runMigrations} applies `NNNN_name.sql` files under an advisory
 * lock; {@linkcode fromPostgresError} turns PostgreSQL errors into `@plinth/errors` problems.
 *
 * @example
 * ```ts
 * import { connectDatabase, fromPostgresError } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 1, queueTimeout: 2_000 },
 * );
 * await db.sql`create temporary table mod_example (email text unique)`;
 * await db.sql`insert into mod_example values (${"a@example.com"})`;
 * const duplicate = await db.sql`insert into mod_example values (${"a@example.com"})`.then(
 *   () => assert.fail("inserted a duplicate"),
 *   fromPostgresError,
 * );
 * assert.equal(duplicate.status, 409);
 * ```
 *
 * @module
 */
export * from "./connect_database.ts";
export * from "./database.ts";
export * from "./database_error.ts";
export * from "./from_postgres_error.ts";
export * from "./migrations.ts";
