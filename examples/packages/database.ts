/**
 * `@plinth/database` against a real PostgreSQL server named by `DATABASE_URL`: a pool, queries,
 * a transaction, a unique violation turned into a 409 `AppError` by `fromPostgresError()`, the
 * health check, and a graceful close. Uses a temporary table, so it leaves nothing behind.
 *
 * Permissions (README, "Deno permissions"): `DATABASE_URL`, three variables postgres.js reads
 * itself (`PGPASSWORD` only when the URL holds no password), and the server's host and port.
 *
 * ```sh
 * deno run --allow-env=DATABASE_URL,PGPASSWORD,PGAPPNAME,PGTARGETSESSIONATTRS --allow-net=127.0.0.1:5432 examples/packages/database.ts
 * ```
 *
 * @module
 */
import { connectDatabase, fromPostgresError } from "@plinth/database";

// No URL given: connectDatabase() reads DATABASE_URL.
await using db = await connectDatabase({ max: 2, queueTimeout: 2_000, slowQueryThreshold: 500 });

const [row] = await db.sql`select ${41}::int + 1 as answer`;
console.log(`answer: ${row?.answer}`);

const inserted = await db.transaction(async (tx) => {
  await tx`create temporary table plinth_example_orgs (slug text primary key) on commit drop`;
  await tx`insert into plinth_example_orgs (slug) values ('acme'), ('globex')`;
  const failure = await tx.savepoint((sp) => sp`insert into plinth_example_orgs values ('acme')`)
    .then(() => null, fromPostgresError);
  console.log(`duplicate: ${failure?.status} ${failure?.code}`);
  const [count] = await tx`select count(*)::int as n from plinth_example_orgs`;
  return count?.n;
});
console.log(`inserted: ${inserted}`);

const health = await db.health();
console.log(`healthy: ${health.ok}`);
