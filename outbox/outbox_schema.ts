import type { Database } from "@plinth/database";
import { LOCK_CLASS, optionsObject, PARTITIONS, tableName } from "./_options.ts";

/**
 * Options of {@linkcode outboxSchema} and {@linkcode migrateOutbox}.
 *
 * @example
 * ```ts
 * import type { OutboxSchemaOptions } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const options: OutboxSchemaOptions = { table: "billing_outbox" };
 * assert.equal(options.table, "billing_outbox");
 * ```
 */
export interface OutboxSchemaOptions {
  /** The outbox table (a lower-case SQL identifier, at most 48 characters). @default {"plinth_outbox"} */
  readonly table?: string | undefined;
}

/**
 * The DDL of the outbox table and its indexes, for a migration file of your own (paste it into
 * `NNNN_outbox.sql` of `runMigrations()`), or run by {@linkcode migrateOutbox}. Idempotent
 * (`if not exists`).
 *
 * Columns: `id` (identity, the publish order), `event_id` (unique; the JetStream message id),
 * `subject`, `data` (jsonb), `headers` (jsonb), `created_at`, `published_at`, `failed_at`,
 * `error`, and `partition` (`hashtext(subject) & 15`, generated), which relays lock.
 *
 * @param options The table name.
 * @returns SQL text: statements separated by semicolons.
 * @throws {TypeError} When `table` is not a lower-case SQL identifier.
 *
 * @example
 * ```ts
 * import { outboxSchema } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const ddl = outboxSchema({ table: "billing_outbox" });
 * assert.match(ddl, /create table if not exists billing_outbox/);
 * ```
 */
export function outboxSchema(options?: OutboxSchemaOptions): string {
  const action = "Cannot write the outbox schema";
  const table = tableName(optionsObject(options, action).table, action);
  return `create table if not exists ${table} (
  id bigint generated always as identity primary key,
  event_id text not null unique,
  subject text not null,
  data jsonb not null,
  headers jsonb not null default '{}',
  created_at timestamptz not null default now(),
  published_at timestamptz,
  failed_at timestamptz,
  error text,
  partition smallint generated always as ((hashtext(subject) & ${PARTITIONS - 1})::smallint) stored
);
create index if not exists ${table}_pending on ${table} (partition, id)
  where published_at is null and failed_at is null;
create index if not exists ${table}_published on ${table} (published_at)
  where published_at is not null;
`;
}

/**
 * Creates the outbox table and its indexes when they are missing, in one transaction under an
 * advisory lock (so replicas starting together do not race). Run it at start-up, like
 * `runMigrations()`; it is a no-op when the table exists.
 *
 * @param db A connected database (`connectDatabase()` or `connectEmbedded()`).
 * @param options The table name.
 * @returns `true` when it created the table, `false` when it existed.
 * @throws {TypeError} When `table` is not a lower-case SQL identifier.
 *
 * @example
 * ```ts
 * import { connectDatabase } from "@plinth/database";
 * import { migrateOutbox } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 1 },
 * );
 * const table = `doc_outbox_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
 * assert.equal(await migrateOutbox(db, { table }), true);
 * assert.equal(await migrateOutbox(db, { table }), false);
 * await db.sql.unsafe(`drop table ${table}`);
 * ```
 */
export async function migrateOutbox(db: Database, options?: OutboxSchemaOptions): Promise<boolean> {
  const action = "Cannot migrate the outbox";
  const table = tableName(optionsObject(options, action).table, action);
  if (typeof db !== "object" || db === null || typeof db.transaction !== "function") {
    throw new TypeError(`${action}: db must be a Database`);
  }
  const ddl = outboxSchema({ table });
  return await db.transaction(async (sql) => {
    await sql`select pg_advisory_xact_lock(${LOCK_CLASS}, -1)`;
    const [row] = await sql`select to_regclass(${table}) is not null as found`;
    if (row?.found === true) return false;
    await sql.unsafe(ddl);
    return true;
  });
}
