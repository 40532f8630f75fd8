/**
 * The transactional outbox: an event is published if and only if its transaction commits.
 * {@linkcode enqueue} writes the event into an outbox table inside your transaction;
 * {@linkcode startRelay} publishes committed rows to `@plinth/events` (JetStream, or the memory
 * bus) with the event id as the message id, marks them, and deletes them after a retention
 * period. {@linkcode migrateOutbox} creates the table; {@linkcode outboxLag} reports how far the
 * relays are behind.
 *
 * Delivery into the stream is at-least-once; a relay that crashed between publishing and marking
 * publishes again under the same id, which the stream drops within its duplicate window.
 *
 * @example
 * ```ts
 * import { connectDatabase } from "@plinth/database";
 * import { createMemoryBus } from "@plinth/events";
 * import { enqueue, migrateOutbox, startRelay } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 2 },
 * );
 * const table = `doc_mod_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
 * await migrateOutbox(db, { table });
 * await using bus = createMemoryBus({ streams: [{ name: "USAGE", subjects: ["usage.>"] }] });
 * const seen: number[] = [];
 * await bus.subscribe("usage.recorded", (p: { tokens: number }) => void seen.push(p.tokens), {
 *   durable: "analytics",
 * });
 * const relay = await startRelay({ db, bus, table, idle: 20 });
 * await db.transaction((sql) => enqueue(sql, { subject: "usage.recorded", payload: { tokens: 1 } }, { table }));
 * await db.transaction(async (sql) => {
 *   await enqueue(sql, { subject: "usage.recorded", payload: { tokens: 2 } }, { table });
 *   throw new Error("rolled back");
 * }).catch(() => {});
 * while ((await relay.lag()).pending > 0) await new Promise((r) => setTimeout(r, 10));
 * await relay.close();
 * assert.deepEqual(seen, [1]);
 * await db.sql.unsafe(`drop table ${table}`);
 * ```
 *
 * @module
 */
export * from "./enqueue.ts";
export * from "./start_relay.ts";
export * from "./outbox_schema.ts";
export * from "./outbox_lag.ts";
export * from "./outbox_error.ts";
