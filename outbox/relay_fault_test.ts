// Faults with real servers: a relay killed between publish and mark (a child process), two
// relays sharing 10 000 events, and a throwaway nats-server stopped while events are enqueued.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connectDatabase } from "@plinth/database";
import { connectEvents, type NatsEventBus } from "@plinth/events";
import {
  captureLogger,
  childCommand,
  databaseUrl,
  freePort,
  natsUrl,
  needServer,
  sleep,
  uniqueName,
  waitFor,
} from "@plinth/testing";
import { needNats, needNatsServer, TestNatsServer } from "@plinth/testing/nats";
import { enqueue, type OutboxEvent } from "./enqueue.ts";
import { migrateOutbox } from "./outbox_schema.ts";
import { type Relay, startRelay } from "./start_relay.ts";

/** Every message of `stream`, in stream order: `{ id, subject, payload }`. */
async function readStream(
  url: string,
  stream: string,
): Promise<{ id: string; subject: string; payload: unknown }[]> {
  const nc = await connect({ servers: url });
  try {
    const total = (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
    const out: { id: string; subject: string; payload: unknown }[] = [];
    if (total === 0) return out;
    const reader = await jetstream(nc).consumers.get(stream);
    const messages = await reader.fetch({ max_messages: total, expires: 20_000 });
    for await (const m of messages) {
      out.push({ id: m.headers?.get("ce-id") ?? "", subject: m.subject, payload: m.json() });
      if (out.length === total) break;
    }
    return out;
  } finally {
    await nc.close();
  }
}

async function deleteStream(url: string, stream: string): Promise<void> {
  const admin = await connectEvents({ servers: url, deadLetter: false, logger: captureLogger() });
  await admin.deleteStream(stream).catch(() => {});
  await admin.close();
}

test(
  "startRelay() killed between publish and mark: after a restart the stream holds the event once",
  {
    timeout: 60_000,
  },
  async (t) => {
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432)) || !(await needNats(t))) return;
    const id = uniqueName("crash");
    const table = id.slice(0, 48);
    const stream = `OB_${id}`;
    const streams = [{ name: stream, subjects: [`${id}.>`], storage: "memory" as const }];
    await using db = await connectDatabase(databaseUrl, { max: 3 });
    await migrateOutbox(db, { table });
    const bus = await connectEvents({
      servers: natsUrl,
      streams,
      deadLetter: false,
      logger: captureLogger(),
    });
    try {
      const seen: string[] = [];
      await bus.subscribe(`${id}.>`, (_p, meta) => void seen.push(meta.id), { durable: "reader" });
      const eventId = await db.transaction((sql) =>
        enqueue(sql, { subject: `${id}.usage`, payload: { tokens: 5 } }, { table })
      );

      const [command, argv] = childCommand(
        fileURLToPath(new URL("./_relay_child.ts", import.meta.url)),
      );
      const child = spawn(command, [...argv, databaseUrl, natsUrl, table, stream, id], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (chunk) => (out += chunk));
      child.stderr.on("data", (chunk) => (err += chunk));
      const exited = new Promise<string | null>((resolve) =>
        child.once("exit", (_c, s) => resolve(s))
      );
      await waitFor(
        () => out.includes("published"),
        30_000,
        `the child's publish (stderr: ${err})`,
      );
      assert.match(out, new RegExp(`published ${eventId} duplicate=false`));
      child.kill("SIGKILL");
      assert.equal(await exited, "SIGKILL");

      await waitFor(
        async () => {
          const [row] = await db.sql.unsafe(`select published_at from ${table}`);
          return row?.published_at === null;
        },
        5000,
        "the child's transaction to roll back",
      );
      assert.equal((await readStream(natsUrl, stream)).length, 1, "published before the crash");

      const relay = await startRelay({ db, bus, table, idle: 20, logger: captureLogger() });
      try {
        await waitFor(
          async () => (await relay.lag()).pending === 0,
          10_000,
          "the restart's publish",
        );
        assert.equal(relay.stats().published, 1);
        assert.equal(relay.stats().duplicates, 1, "JetStream reported the retry as a duplicate");
      } finally {
        await relay.close();
      }
      const stored = await readStream(natsUrl, stream);
      assert.deepEqual(stored.map((m) => m.id), [eventId]);
      await waitFor(() => seen.length >= 1, 5000, "the delivery");
      await sleep(300);
      assert.deepEqual(seen, [eventId], "the subscriber saw it once");
    } finally {
      await bus.close();
      await deleteStream(natsUrl, stream);
      await db.sql.unsafe(`drop table if exists ${table}`);
    }
  },
);

test("two relays over 10 000 events publish every event exactly once, each subject in order", {
  timeout: 120_000,
}, async (t) => {
  if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432)) || !(await needNats(t))) return;
  const total = 10_000;
  const id = uniqueName("two");
  const table = id.slice(0, 48);
  const stream = `OB_${id}`;
  const streams = [{ name: stream, subjects: [`${id}.>`], storage: "memory" as const }];
  const subjects = ["a", "b", "c", "d", "e", "f", "g", "h"].map((s) => `${id}.${s}`);
  await using db = await connectDatabase(databaseUrl, { max: 4 });
  await migrateOutbox(db, { table });
  const buses: NatsEventBus[] = [];
  const relays: Relay[] = [];
  try {
    for (let r = 0; r < 2; r++) {
      buses.push(
        await connectEvents({
          servers: natsUrl,
          streams,
          deadLetter: false,
          logger: captureLogger(),
        }),
      );
    }
    const dbs = [
      await connectDatabase(databaseUrl, { max: 2 }),
      await connectDatabase(databaseUrl, { max: 2 }),
    ];
    for (let r = 0; r < 2; r++) {
      relays.push(
        await startRelay({
          db: dbs[r]!,
          bus: buses[r]!,
          table,
          batchSize: 250,
          idle: 50,
          logger: captureLogger(),
        }),
      );
    }
    // Enqueued while both relays run: 20 transactions of 500, the subjects interleaved.
    for (let tx = 0; tx < total / 500; tx++) {
      await db.transaction(async (sql) => {
        const events: OutboxEvent[] = Array.from({ length: 500 }, (_, i) => {
          const n = tx * 500 + i;
          return { subject: subjects[n % subjects.length]!, payload: { n }, id: `${id}-${n}` };
        });
        await Promise.all(events.map((event) => enqueue(sql, event, { table })));
      });
    }
    await waitFor(
      async () => (await relays[0]!.lag()).pending === 0,
      90_000,
      "every event published",
    );
    const published = relays.map((r) => r.stats().published);
    assert.equal(published[0]! + published[1]!, total, `per relay: ${published.join(", ")}`);
    for (const relay of relays) await relay.close();
    for (const d of dbs) await d.close();

    const stored = await readStream(natsUrl, stream);
    assert.equal(stored.length, total);
    assert.equal(new Set(stored.map((m) => m.id)).size, total, "every id once");
    const last = new Map<string, number>();
    for (const m of stored) {
      const n = (m.payload as { n: number }).n;
      assert.equal(m.id, `${id}-${n}`);
      assert.ok((last.get(m.subject) ?? -1) < n, `${m.subject}: ${n} after ${last.get(m.subject)}`);
      last.set(m.subject, n);
    }
  } finally {
    for (const relay of relays) await relay.close();
    for (const bus of buses) await bus.close();
    await deleteStream(natsUrl, stream);
    await db.sql.unsafe(`drop table if exists ${table}`);
  }
});

test("startRelay() while NATS is down for 4 s: every event enqueued meanwhile is published once", {
  timeout: 90_000,
}, async (t) => {
  if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432)) || !(await needNatsServer(t))) {
    return;
  }
  const server = new TestNatsServer(await freePort());
  const table = uniqueName("natsdown").slice(0, 48);
  await using db = await connectDatabase(databaseUrl, { max: 3 });
  await migrateOutbox(db, { table });
  const logger = captureLogger();
  try {
    await server.start();
    const bus = await connectEvents({
      servers: server.url,
      streams: [{ name: "DOWN", subjects: ["down.>"] }],
      deadLetter: false,
      reconnectWait: 200,
      publishTimeout: 1000,
      publishRetries: 1,
      retryDelay: 100,
      logger: captureLogger(),
    });
    const relay = await startRelay({
      db,
      bus,
      table,
      idle: 20,
      lease: 2000,
      retryDelay: 100,
      maxRetryDelay: 1000,
      logger,
    });
    const ids: string[] = [];
    const add = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const n = ids.length;
        ids.push(
          await db.transaction((sql) =>
            enqueue(sql, { subject: `down.s${n % 3}`, payload: { n }, id: `down-${n}` }, { table })
          ),
        );
      }
    };
    await add(50);
    await waitFor(async () => (await relay.lag()).pending === 0, 10_000, "the first 50");
    await server.stop();
    const stoppedAt = Date.now();
    while (Date.now() - stoppedAt < 4000) {
      await add(10);
      await sleep(200);
    }
    const waiting = await relay.lag();
    assert.ok(waiting.pending > 0, "events wait while NATS is down");
    assert.ok(waiting.oldestAge > 1000, `oldest age ${waiting.oldestAge}`);
    const errorsWhileDown = relay.stats().errors;
    assert.ok(errorsWhileDown >= 2 && errorsWhileDown < 40, `failed batches: ${errorsWhileDown}`);
    await server.start();
    await waitFor(async () => (await relay.lag()).pending === 0, 60_000, "publish after restart");
    await relay.close();
    await bus.close();
    assert.ok(logger.lines.some((l) => l.message === "Outbox relay batch failed; retrying"));

    const stored = await readStream(server.url, "DOWN");
    assert.equal(stored.length, ids.length, "none lost, none twice");
    assert.deepEqual(new Set(stored.map((m) => m.id)), new Set(ids));
    for (const s of ["down.s0", "down.s1", "down.s2"]) {
      const ns = stored.filter((m) => m.subject === s).map((m) => (m.payload as { n: number }).n);
      assert.deepEqual(ns, [...ns].sort((a, b) => a - b), `${s} in order`);
    }
  } finally {
    await server.dispose();
    await db.sql.unsafe(`drop table if exists ${table}`);
  }
});
