import type { Database } from "@plinth/database";
import { optionsObject, tableName } from "./_options.ts";

/**
 * How far the relays are behind: for readiness checks and metrics.
 *
 * @example
 * ```ts
 * import type { OutboxLag } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const lag: OutboxLag = { pending: 0, oldestAge: 0, failed: 0 };
 * assert.equal(lag.pending, 0);
 * ```
 */
export interface OutboxLag {
  /** Committed events not published yet. */
  readonly pending: number;
  /** Milliseconds since the oldest of them was enqueued (database clock); 0 when none. */
  readonly oldestAge: number;
  /** Events the bus refused for good (`failed_at` set); they are never retried. */
  readonly failed: number;
}

/**
 * Options of {@linkcode outboxLag}.
 *
 * @example
 * ```ts
 * import type { OutboxLagOptions } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const options: OutboxLagOptions = { table: "billing_outbox" };
 * assert.equal(options.table, "billing_outbox");
 * ```
 */
export interface OutboxLagOptions {
  /** The outbox table. @default {"plinth_outbox"} */
  readonly table?: string | undefined;
}

/**
 * Reads the outbox's lag: the count of committed, unpublished events and the age of the oldest.
 * One query; a readiness check can fail when `oldestAge` passes a limit.
 *
 * @param db A connected database.
 * @param options The table.
 * @returns `{ pending, oldestAge, failed }`.
 * @throws {TypeError} When `table` is not an identifier.
 * @throws {Error} The driver's error when the query fails.
 *
 * @example
 * ```ts
 * import { connectDatabase } from "@plinth/database";
 * import { enqueue, migrateOutbox, outboxLag } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 1 },
 * );
 * const table = `doc_lag_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
 * await migrateOutbox(db, { table });
 * await db.transaction((sql) => enqueue(sql, { subject: "a.b", payload: 1 }, { table }));
 * const lag = await outboxLag(db, { table });
 * assert.equal(lag.pending, 1);
 * assert.ok(lag.oldestAge >= 0);
 * await db.sql.unsafe(`drop table ${table}`);
 * ```
 */
export async function outboxLag(db: Database, options?: OutboxLagOptions): Promise<OutboxLag> {
  const action = "Cannot read the outbox lag";
  const table = tableName(optionsObject(options, action).table, action);
  if (typeof db !== "object" || db === null || typeof db.sql !== "function") {
    throw new TypeError(`${action}: db must be a Database`);
  }
  return await readLag(db, table);
}

/** The lag query, for a table already checked. */
async function readLag(db: Database, table: string): Promise<OutboxLag> {
  const [row] = await db.sql.unsafe(
    `select
      count(*) filter (where failed_at is null)::int as pending,
      count(*) filter (where failed_at is not null)::int as failed,
      coalesce(extract(epoch from now() - min(created_at) filter (where failed_at is null))
        * 1000, 0)::float8 as oldest
    from ${table} where published_at is null`,
  );
  return {
    pending: Number(row?.pending ?? 0),
    oldestAge: Math.max(0, Math.round(Number(row?.oldest ?? 0))),
    failed: Number(row?.failed ?? 0),
  };
}
