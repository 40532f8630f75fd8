// @plinth/outbox against publishing directly, on the shared PostgreSQL and NATS JetStream:
//
// - throughput: 10 000 events enqueued (enqueueMany) in transactions of 100 (while one relay runs) until the
//   stream holds them all, against the same 10 000 events published with the bus's publishMany()
//   (concurrency 256) to a stream of their own; events per second, target ≥ 0.5×. The events
//   spread over 16 subjects (`usage.recorded.<org>`, published side by side) or all on one
//   subject; the relay with its defaults (`window: 1`: a subject's events one after another, so
//   their order holds even across failures; `retention` 1 h: rows are marked, deleted later),
//   with `retention: 0` (deleted as published), and with a pipelined window (a subject's order
//   only while nothing fails);
// - ceiling: the same enqueues with no relay running, against publishMany: what PostgreSQL alone
//   allows on this machine, before any relay work;
// - lag: 1 000 events/s for 10 s (a transaction of 10 every 10 ms); for each event, the time from
//   just before its transaction commits to the stream's ack of the relay's publish; p50 / p99,
//   target p99 ≤ 100 ms.
//
// Streams and the outbox table are unique to the run and removed at the end.
//
//   node bench/outbox.ts            (Node 24)
//   deno run -A bench/outbox.ts
//   bun bench/outbox.ts
import process from "node:process";
import { connectDatabase, type Database } from "@plinth/database";
import { connectEvents, type EventBus, type NatsEventBus, type PublishEvent } from "@plinth/events";
import { enqueueMany, migrateOutbox, type Relay, startRelay } from "@plinth/outbox";

const EVENTS = 10_000;
const TX = 100;
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function runtime(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.deno !== undefined) return `Deno ${versions.deno}`;
  if (versions.bun !== undefined) return `Bun ${versions.bun}`;
  return `Node ${process.versions.node}`;
}

const run = `b${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const table = `bench_outbox_${run}`;
const streams = [
  { name: `OUTBOX_${run}`, subjects: [`${run}.outbox.>`], storage: "memory" as const },
  { name: `DIRECT_${run}`, subjects: [`${run}.direct.>`], storage: "memory" as const },
];

function subjects(kind: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${run}.${kind}.usage.org${i}`);
}

async function direct(bus: EventBus, spread: number): Promise<number> {
  const names = subjects("direct", spread);
  const events: PublishEvent[] = Array.from({ length: EVENTS }, (_, n) => ({
    subject: names[n % spread]!,
    payload: { org: `org${n % spread}`, tokens: n },
  }));
  const start = performance.now();
  const results = await bus.publishMany(events, { concurrency: 256 });
  const elapsed = performance.now() - start;
  if (results.some((r) => !r.ok)) throw new Error("a direct publish failed");
  return EVENTS / (elapsed / 1000);
}

/** Enqueues the run's events over `spread` subjects, in transactions of `TX`. */
async function enqueueAll(db: Database, spread: number): Promise<void> {
  const names = subjects("outbox", spread);
  for (let tx = 0; tx < EVENTS / TX; tx++) {
    await db.transaction(async (sql) => {
      await enqueueMany(
        sql,
        Array.from({ length: TX }, (_, i) => {
          const n = tx * TX + i;
          return { subject: names[n % spread]!, payload: { org: `org${n % spread}`, tokens: n } };
        }),
        { table },
      );
    });
  }
}

async function throughput(db: Database, relay: Relay, spread: number): Promise<number> {
  const before = relay.stats().published;
  const start = performance.now();
  await enqueueAll(db, spread);
  while (relay.stats().published - before < EVENTS) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return EVENTS / ((performance.now() - start) / 1000);
}

/** Enqueue alone, no relay running: the PostgreSQL side's own rate, the ceiling of any relay. */
async function enqueueOnly(db: Database, spread: number): Promise<number> {
  const start = performance.now();
  await enqueueAll(db, spread);
  const rate = EVENTS / ((performance.now() - start) / 1000);
  await db.sql.unsafe(`delete from ${table}`);
  return rate;
}

async function lag(db: Database, lags: number[], relay: Relay): Promise<[number, number]> {
  lags.length = 0;
  const names = subjects("outbox", 16);
  const before = relay.stats().published;
  const start = performance.now();
  let sent = 0;
  for (let tick = 0; tick < 1000; tick++) {
    const due = start + tick * 10;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const t = Date.now();
    await db.transaction(async (sql) => {
      await enqueueMany(
        sql,
        Array.from(
          { length: 10 },
          (_, i) => ({ subject: names[(sent + i) % 16]!, payload: { t } }),
        ),
        { table },
      );
    });
    sent += 10;
  }
  while (relay.stats().published - before < sent) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const sorted = [...lags].sort((a, b) => a - b);
  const at = (q: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return [at(0.5), at(0.99)];
}

const db = await connectDatabase(databaseUrl, { max: 4, logger: silent });
const relayDb = await connectDatabase(databaseUrl, { max: 2, logger: silent });
const nats: NatsEventBus = await connectEvents({
  servers: natsUrl,
  streams,
  deadLetter: false,
  logger: silent,
});
const lags: number[] = [];
let measuring = false;
const bus: EventBus = Object.create(nats);
bus.publish = async (subject, payload, options) => {
  const ack = await nats.publish(subject, payload, options);
  const t = (payload as { t?: number }).t;
  if (measuring && t !== undefined) lags.push(Date.now() - t);
  return ack;
};
await migrateOutbox(db, { table });
let relay = await startRelay({ db: relayDb, bus, table, logger: silent });
const rows: string[][] = [];
// [subjects, relay options]: the relay's defaults first (window 1, retention 1 h: rows are
// marked, then deleted later), then with retention 0 (a row is deleted when published), then
// a pipelined window (a subject's order only while nothing fails).
const cases: [number, { window?: number; retention?: number }, string][] = [
  [16, {}, "16 subjects, defaults"],
  [16, { retention: 0 }, "16 subjects, retention 0"],
  [1, {}, "1 subject, defaults"],
  [1, { window: 256, retention: 0 }, "1 subject, window 256, retention 0"],
];
try {
  // Warm-up: both paths once, small.
  await nats.publishMany([{ subject: subjects("direct", 1)[0]!, payload: {} }]);
  for (const [spread, options, label] of cases) {
    await relay.close();
    relay = await startRelay({ db: relayDb, bus, table, logger: silent, ...options });
    const d = await direct(nats, spread);
    const o = await throughput(db, relay, spread);
    const ratio = o / d;
    rows.push([
      label,
      `${Math.round(d).toLocaleString("en")}/s`,
      `${Math.round(o).toLocaleString("en")}/s`,
      `${ratio.toFixed(2)}×`,
      ratio >= 0.5 ? "met" : "missed",
    ]);
  }
  // The ceiling: the same enqueues with no relay at all, against publishMany, three times.
  await relay.close();
  const ceilings: number[] = [];
  let ceilingDirect = 0;
  let ceilingEnqueue = 0;
  for (let i = 0; i < 3; i++) {
    const d = await direct(nats, 16);
    const e = await enqueueOnly(db, 16);
    ceilings.push(e / d);
    ceilingDirect = Math.max(ceilingDirect, d);
    ceilingEnqueue = Math.max(ceilingEnqueue, e);
  }
  relay = await startRelay({ db: relayDb, bus, table, logger: silent });
  measuring = true;
  const [p50, p99] = await lag(db, lags, relay);
  measuring = false;
  const load = (await import("node:os")).loadavg().map((l) => l.toFixed(1)).join(" ");
  console.log(
    `${runtime()}: ${EVENTS} events, transactions of ${TX}; ${
      new Date().toISOString()
    }, load ${load}`,
  );
  console.log("| events on, relay options | publishMany | outbox e2e | ratio | ≥ 0.5× |");
  console.log("| ------------------------ | ----------- | ---------- | ----- | ------ |");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
  console.log(
    `ceiling, no relay running: enqueue alone (16 subjects, transactions of ${TX}) ${
      Math.round(ceilingEnqueue).toLocaleString("en")
    }/s vs publishMany ${Math.round(ceilingDirect).toLocaleString("en")}/s: ${
      ceilings.map((c) => `${c.toFixed(2)}×`).join(", ")
    } (3 rounds); a relay adds its reads, marks and publishes to this`,
  );
  console.log(
    `lag at 1 000 events/s for 10 s (16 subjects, defaults): p50 ${p50} ms, p99 ${p99} ms (target p99 ≤ 100 ms: ${
      p99 <= 100 ? "met" : "missed"
    })`,
  );
} finally {
  await relay.close();
  for (const stream of streams) await nats.deleteStream(stream.name).catch(() => {});
  await nats.close();
  await db.sql.unsafe(`drop table if exists ${table}`);
  await relayDb.close();
  await db.close();
}
