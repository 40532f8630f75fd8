/**
 * `@plinth/outbox` against the PostgreSQL server named by `DATABASE_URL`, publishing to the
 * in-memory bus of `@plinth/events` (the same contract as NATS JetStream): an event enqueued in a
 * committed transaction is published once, one in a rolled-back transaction never is, and the
 * relay's lag drops to zero. Uses a table unique to the run and drops it at the end.
 *
 * Permissions (README, "Deno permissions"): those of `@plinth/database`: `DATABASE_URL`, three
 * variables postgres.js reads itself, and the server's host and port.
 *
 * ```sh
 * deno run --allow-env=DATABASE_URL,PGPASSWORD,PGAPPNAME,PGTARGETSESSIONATTRS --allow-net=127.0.0.1:5432 examples/packages/outbox.ts
 * ```
 *
 * @module
 */
import { connectDatabase } from "@plinth/database";
import { createMemoryBus } from "@plinth/events";
import { enqueue, migrateOutbox, startRelay } from "@plinth/outbox";

const table = `plinth_example_outbox_${Date.now().toString(36)}`;
// Two connections: one for the service's transactions, one for the relay's LISTEN.
await using db = await connectDatabase({ max: 2 });
await migrateOutbox(db, { table });
await using bus = createMemoryBus({
  source: "usage-svc",
  streams: [{ name: "USAGE", subjects: ["usage.>"] }],
});
const received: string[] = [];
await bus.subscribe("usage.recorded", (usage: { org: string; tokens: number }) => {
  received.push(`${usage.org}:${usage.tokens}`);
}, { durable: "analytics" });

const relay = await startRelay({ db, bus, table });
console.log(`relay listening: ${relay.listening}`);

// The usage row and its event commit together...
await db.transaction(async (sql) => {
  await sql`select 1`; // the service's own write goes here
  await enqueue(sql, { subject: "usage.recorded", payload: { org: "acme", tokens: 12 } }, {
    table,
  });
});
// ...or roll back together.
const failed = await db.transaction(async (sql) => {
  await enqueue(sql, { subject: "usage.recorded", payload: { org: "acme", tokens: 99 } }, {
    table,
  });
  throw new Error("quota exceeded");
}).catch((error: Error) => error.message);
console.log(`rolled back: ${failed}`);

while ((await relay.lag()).pending > 0 || received.length === 0) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
await relay.close();
const lag = await relay.lag();
console.log(`received: ${received.join(", ")}`);
console.log(`pending: ${lag.pending}, published by this relay: ${relay.stats().published}`);
await db.sql.unsafe(`drop table ${table}`);
