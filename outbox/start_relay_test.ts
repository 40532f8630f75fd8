// The relay's contract, run on PostgreSQL + the memory bus, PostgreSQL + NATS JetStream (the
// shared servers, unique table, stream and subjects per run) and the embedded PGlite + the memory
// bus; then options, back-off and close() with fakes around the real database.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectDatabase, type Database } from "@plinth/database";
import { connectEmbedded } from "@plinth/database/embedded";
import { connectEvents, createMemoryBus, type EventBus, EventError } from "@plinth/events";
import { withSpan } from "@plinth/tracing";
import {
  captureLogger,
  databaseUrl,
  natsUrl,
  needServer,
  runtime,
  sleep,
  uniqueName,
  waitFor,
} from "@plinth/testing";
import { needNats } from "@plinth/testing/nats";
import { enqueue } from "./enqueue.ts";
import { migrateOutbox } from "./outbox_schema.ts";
import { type Relay, type RelayOptions, startRelay } from "./start_relay.ts";

interface Backend {
  db: Database;
  bus: EventBus;
  table: string;
  subject: (name: string) => string;
  /** Messages the stream holds (the memory bus: what subscribers saw). */
  stored: () => Promise<number | undefined>;
  dispose: () => Promise<void>;
}

type Kind = "postgres+memory" | "postgres+nats" | "pglite+memory";

let embedded: Promise<Database> | undefined;

async function backend(kind: Kind): Promise<Backend> {
  const id = uniqueName("ob");
  const table = id.toLowerCase().slice(0, 48);
  const stream = `OB_${id}`;
  const streams = [{ name: stream, subjects: [`${id}.>`], storage: "memory" as const }];
  const logger = captureLogger();
  let db: Database;
  if (kind === "pglite+memory") {
    embedded ??= connectEmbedded({
      dataDir: join(tmpdir(), `plinth-outbox-pglite-${runtime()}`),
      logger,
    });
    db = await embedded;
  } else {
    db = await connectDatabase(databaseUrl, { max: 4, logger });
  }
  await migrateOutbox(db, { table });
  let bus: EventBus;
  let stored: () => Promise<number | undefined> = () => Promise.resolve(undefined);
  if (kind === "postgres+nats") {
    bus = await connectEvents({ servers: natsUrl, streams, deadLetter: false, logger });
    stored = async () => {
      const nc = await connect({ servers: natsUrl });
      try {
        return (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
      } finally {
        await nc.close();
      }
    };
  } else {
    bus = createMemoryBus({ streams, deadLetter: false, logger });
  }
  return {
    db,
    bus,
    table,
    subject: (name) => `${id}.${name}`,
    stored,
    dispose: async () => {
      await bus.close();
      if (kind === "postgres+nats") {
        const admin = await connectEvents({ servers: natsUrl, deadLetter: false, logger });
        await admin.deleteStream(stream);
        await admin.close();
      }
      await db.sql.unsafe(`drop table if exists ${table}`);
      if (kind !== "pglite+memory") await db.close();
    },
  };
}

async function available(t: { skip(reason?: string): void }, kind: Kind): Promise<boolean> {
  if (kind !== "pglite+memory" && !(await needServer(t, "PostgreSQL", databaseUrl, 5432))) {
    return false;
  }
  return kind !== "postgres+nats" || await needNats(t);
}

function relayOptions(b: Backend, extra: Partial<RelayOptions> = {}): RelayOptions {
  return { db: b.db, bus: b.bus, table: b.table, idle: 25, logger: captureLogger(), ...extra };
}

for (const kind of ["postgres+memory", "postgres+nats", "pglite+memory"] as const) {
  const timeout = kind === "pglite+memory" ? 90_000 : 30_000;

  test(`startRelay() [${kind}] publishes a committed event once and nothing of a rolled-back one`, {
    timeout,
  }, async (t) => {
    if (!(await available(t, kind))) return;
    const b = await backend(kind);
    const seen: { id: string; payload: unknown; traceparent: string | undefined }[] = [];
    let relay: Relay | undefined;
    try {
      await b.bus.subscribe(b.subject(">"), (payload, meta) => {
        seen.push({ id: meta.id, payload, traceparent: meta.headers.traceparent });
      }, { durable: "analytics" });
      relay = await startRelay(relayOptions(b, kind === "pglite+memory" ? {} : { idle: 60_000 }));
      assert.equal(relay.listening, kind !== "pglite+memory");
      let traceparent = "";
      const id = await withSpan("record usage", (span) => {
        traceparent = span.traceparent;
        return b.db.transaction((sql) =>
          enqueue(sql, { subject: b.subject("usage"), payload: { tokens: 12 } }, {
            table: b.table,
          })
        );
      });
      await b.db.transaction(async (sql) => {
        await enqueue(sql, { subject: b.subject("usage"), payload: { tokens: 99 } }, {
          table: b.table,
        });
        throw new Error("rolled back");
      }).catch(() => {});
      // With idle at 60 s, only the NOTIFY of the commit can wake the relay this fast.
      await waitFor(() => seen.length >= 1, 5000, "the committed event");
      await sleep(300);
      assert.deepEqual(seen, [{ id, payload: { tokens: 12 }, traceparent }]);
      const rows = await b.db.sql.unsafe(
        `select event_id, published_at from ${b.table} order by id`,
      );
      assert.equal(rows.length, 1);
      assert.ok(rows[0]?.published_at instanceof Date);
      assert.deepEqual(await relay.lag(), { pending: 0, oldestAge: 0, failed: 0 });
      const stored = await b.stored();
      if (stored !== undefined) assert.equal(stored, 1);
      assert.equal(relay.stats().published, 1);
    } finally {
      await relay?.close();
      await b.dispose();
    }
  });

  test(`startRelay() [${kind}] keeps each subject's order across batches (window 4)`, {
    timeout,
  }, async (t) => {
    if (!(await available(t, kind))) return;
    const b = await backend(kind);
    const seen = new Map<string, number[]>();
    let relay: Relay | undefined;
    try {
      await b.bus.subscribe(b.subject(">"), (payload: { n: number }, meta) => {
        const list = seen.get(meta.subject) ?? [];
        list.push(payload.n);
        seen.set(meta.subject, list);
      }, { durable: "ordered", concurrency: 1 });
      const subjects = ["a", "b", "c"].map(b.subject);
      // Enqueued before the relay starts, in transactions of 10, interleaving the subjects.
      for (let tx = 0; tx < 30; tx++) {
        await b.db.transaction(async (sql) => {
          for (let i = 0; i < 10; i++) {
            const n = tx * 10 + i;
            await enqueue(sql, { subject: subjects[n % 3]!, payload: { n } }, { table: b.table });
          }
        });
      }
      assert.equal(await outboxPending(b), 300);
      // A window of 4: in order while the bus is healthy.
      relay = await startRelay(relayOptions(b, { batchSize: 25, concurrency: 2, window: 4 }));
      await waitFor(
        () => [...seen.values()].reduce((sum, list) => sum + list.length, 0) >= 300,
        20_000,
        "300 events",
      );
      for (const [index, subject] of subjects.entries()) {
        const expected = Array.from({ length: 100 }, (_, k) => k * 3 + index);
        assert.deepEqual(seen.get(subject), expected, subject);
      }
      const r = relay;
      await waitFor(async () => (await r.lag()).pending === 0, 5000, "the last batch's marks");
      assert.ok(relay.stats().batches >= 12, `batches: ${relay.stats().batches}`);
    } finally {
      await relay?.close();
      await b.dispose();
    }
  });

  test(`startRelay() [${kind}] sets aside an event the bus refuses for good and goes on`, {
    timeout,
  }, async (t) => {
    if (!(await available(t, kind))) return;
    const b = await backend(kind);
    const seen: unknown[] = [];
    const logger = captureLogger();
    let relay: Relay | undefined;
    try {
      await b.bus.subscribe(b.subject(">"), (payload) => void seen.push(payload), {
        durable: "reader",
      });
      const big = "x".repeat(1_100_000);
      await b.db.transaction(async (sql) => {
        await enqueue(sql, { subject: b.subject("doc"), payload: { big }, id: "too-big" }, {
          table: b.table,
        });
        await enqueue(sql, { subject: b.subject("doc"), payload: { n: 2 } }, { table: b.table });
      });
      relay = await startRelay(relayOptions(b, { logger }));
      await waitFor(() => seen.length >= 1, 10_000, "the small event");
      const r = relay;
      await waitFor(async () => (await r.lag()).pending === 0, 5000, "the batch's marks");
      assert.deepEqual(seen, [{ n: 2 }]);
      assert.deepEqual(await relay.lag(), { pending: 0, oldestAge: 0, failed: 1 });
      assert.equal(relay.stats().failed, 1);
      const [row] = await b.db.sql.unsafe(
        `select failed_at, error from ${b.table} where event_id = 'too-big'`,
      );
      assert.ok(row?.failed_at instanceof Date);
      assert.match(String(row?.error), /too large|max_payload|payload/i);
      const line = logger.lines.find((l) => l.message === "Outbox event set aside");
      assert.equal(line?.level, "error");
      assert.equal(line?.fields.event_id, "too-big");
      assert.equal((line?.fields.err as { code: string }).code, "publish_rejected");
      assert.equal(JSON.stringify(logger.lines).includes(big.slice(0, 100)), false);
    } finally {
      await relay?.close();
      await b.dispose();
    }
  });

  test(`startRelay() [${kind}] deletes published rows after the retention period`, {
    timeout,
  }, async (t) => {
    if (!(await available(t, kind))) return;
    const b = await backend(kind);
    let relay: Relay | undefined;
    try {
      for (let i = 0; i < 5; i++) {
        await b.db.transaction((sql) =>
          enqueue(sql, { subject: b.subject("x"), payload: i }, { table: b.table })
        );
      }
      // 1 ms: kept when marked, deleted by the clean-up, two rows a statement.
      relay = await startRelay(relayOptions(b, { retention: 1, cleanupBatch: 2 }));
      await waitFor(
        async () => {
          const [row] = await b.db.sql.unsafe(`select count(*)::int as n from ${b.table}`);
          return row?.n === 0;
        },
        15_000,
        "the published rows to be deleted",
      );
      assert.equal(relay.stats().published, 5);
      assert.equal(relay.stats().deleted, 5);
    } finally {
      await relay?.close();
      await b.dispose();
    }
  });
}

test("startRelay() with retention 0 deletes each row as it marks it published", {
  timeout: 30_000,
}, async (t) => {
  if (!(await available(t, "postgres+memory"))) return;
  const b = await backend("postgres+memory");
  const seen: number[] = [];
  let relay: Relay | undefined;
  try {
    await b.bus.subscribe(b.subject(">"), (n: number) => void seen.push(n), { durable: "r0" });
    await b.db.transaction((sql) =>
      Promise.all(
        [0, 1, 2, 3].map((n) =>
          enqueue(sql, { subject: b.subject("x"), payload: n }, { table: b.table })
        ),
      )
    );
    relay = await startRelay(relayOptions(b, { retention: 0, batchSize: 3 }));
    const r = relay;
    await waitFor(() => r.stats().published === 4, 10_000, "four events published");
    const [row] = await b.db.sql.unsafe(`select count(*)::int as n from ${b.table}`);
    assert.equal(row?.n, 0, "no published row is kept");
    assert.equal(relay.stats().deleted, 4);
    await waitFor(() => seen.length >= 4, 5000, "four deliveries");
    assert.deepEqual(seen, [0, 1, 2, 3]);
  } finally {
    await relay?.close();
    await b.dispose();
  }
});

test(
  "startRelay() keeps waking on NOTIFY after its database replaced the driver (a lost connection)",
  {
    timeout: 30_000,
  },
  async (t) => {
    if (!(await available(t, "postgres+memory"))) return;
    const b = await backend("postgres+memory");
    const name = uniqueName("relay_recycle");
    const relayDb = await connectDatabase(databaseUrl, {
      max: 2,
      applicationName: name,
      connectTimeout: 1_000,
      logger: captureLogger(),
    });
    const seen: number[] = [];
    let relay: Relay | undefined;
    const listens = async (): Promise<number> =>
      (await b.db.sql`select count(*)::int as n from pg_stat_activity
      where application_name = ${name} and query ilike ${`listen%${b.table}%`}`)[0]?.n as number;
    try {
      await b.bus.subscribe(b.subject(">"), (n: number) => void seen.push(n), { durable: "rr" });
      // With idle at 60 s, only a NOTIFY wakes the relay within the waits below.
      relay = await startRelay({ ...relayOptions(b), db: relayDb, idle: 60_000, retryDelay: 50 });
      const send = (n: number) =>
        b.db.transaction((sql) =>
          enqueue(sql, { subject: b.subject("x"), payload: n }, { table: b.table })
        );
      await send(1);
      await waitFor(() => seen.includes(1), 5000, "the first event");
      // A query's connection lost while it runs: the pool replaces its driver.
      const before = relayDb.sql.options;
      const running = relayDb.sql`select pg_sleep(5)`.execute().then(
        () => "resolved",
        () => "lost",
      );
      let pid = 0;
      await waitFor(
        async () => {
          const [row] = await b.db.sql`select pid from pg_stat_activity
        where application_name = ${name} and query like '%pg_sleep(5)%' and state = 'active'`;
          pid = (row?.pid as number | undefined) ?? 0;
          return pid !== 0;
        },
        5000,
        "the sleeping query's backend",
      );
      await b.db.sql`select pg_terminate_backend(${pid}::int)`;
      assert.equal(await running, "lost");
      await waitFor(() => relayDb.sql.options !== before, 5000, "the driver replaced");
      // The old driver's LISTEN ends with it; the relay's listener is on the new one.
      await waitFor(async () => (await listens()) === 1, 5000, "the LISTEN on the new driver");
      assert.equal(relay.listening, true);
      await send(2);
      await waitFor(() => seen.includes(2), 5000, "the event after the replacement");
      assert.deepEqual(seen, [1, 2]);
    } finally {
      await relay?.close();
      await relayDb.close();
      await b.dispose();
    }
  },
);

async function outboxPending(b: Backend): Promise<number> {
  const [row] = await b.db.sql.unsafe(
    `select count(*)::int as n from ${b.table} where published_at is null`,
  );
  return row?.n as number;
}

test("startRelay() checks its options once, naming the option", async () => {
  const bus = createMemoryBus();
  const db = { transaction: () => Promise.resolve(), sql: () => {} } as unknown as Database;
  const bad: [Partial<RelayOptions>, RegExp, ErrorConstructor][] = [
    [{ db: undefined as never }, /db must be a Database/, TypeError],
    [{ bus: {} as EventBus }, /bus must be an EventBus/, TypeError],
    [{ table: "Bad-Name" }, /table/, TypeError],
    [{ batchSize: 0 }, /batchSize must be between 1 and 100000/, RangeError],
    [{ batchSize: 1.5 }, /batchSize must be an integer/, TypeError],
    [{ idle: 0 }, /idle/, RangeError],
    [{ lease: 10 }, /lease/, RangeError],
    [{ concurrency: -1 }, /concurrency/, RangeError],
    [{ window: 0 }, /window must be between 1 and 10000/, RangeError],
    [{ retention: -1 }, /retention/, RangeError],
    [{ cleanupBatch: "5" as never }, /cleanupBatch must be an integer/, TypeError],
    [{ retryDelay: 0 }, /retryDelay/, RangeError],
    [
      { retryDelay: 1000, maxRetryDelay: 10 },
      /maxRetryDelay must not be below retryDelay/,
      RangeError,
    ],
    [{ logger: {} as never }, /logger/, TypeError],
  ];
  for (const [options, message, type] of bad) {
    await assert.rejects(startRelay({ db, bus, ...options } as RelayOptions), (error: Error) => {
      assert.ok(error instanceof type, `${String(message)}: ${error.name}`);
      assert.match(error.message, message);
      return true;
    });
  }
  await assert.rejects(startRelay(null as never), /options must be an object/);
  await bus.close();
});

test(
  "startRelay() backs off while the bus fails, without spinning, then publishes each event once",
  {
    timeout: 30_000,
  },
  async (t) => {
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
    await using db = await connectDatabase(databaseUrl, { max: 3 });
    const table = uniqueName("outbox_backoff");
    await migrateOutbox(db, { table });
    const inner = createMemoryBus();
    let down = true;
    let attempts = 0;
    const bus: EventBus = Object.create(inner);
    bus.publish = (subject, payload, options) => {
      attempts++;
      if (down) {
        return Promise.reject(
          new EventError(`Cannot publish event to "${subject}": no server`, {
            code: "event_publish_failed",
            subject,
          }),
        );
      }
      return inner.publish(subject, payload, options);
    };
    const seen: string[] = [];
    await inner.subscribe("usage.>", (_p, meta) => void seen.push(meta.id), { durable: "d" });
    const logger = captureLogger();
    const relay = await startRelay({
      db,
      bus,
      table,
      idle: 10,
      retryDelay: 100,
      maxRetryDelay: 400,
      logger,
    });
    try {
      for (let i = 0; i < 3; i++) {
        await db.transaction((sql) =>
          enqueue(sql, { subject: "usage.x", payload: i, id: `e${i}` }, { table })
        );
      }
      await sleep(1500);
      // 100 + 200 + 400 + 400 … ms: a handful of attempts in 1.5 s, each stopping at the first event.
      assert.ok(attempts >= 3 && attempts <= 8, `attempts while down: ${attempts}`);
      assert.ok(relay.stats().errors >= 3);
      assert.equal((await relay.lag()).pending, 3);
      const warning = logger.lines.find((l) => l.message === "Outbox relay batch failed; retrying");
      assert.equal(warning?.level, "warn");
      assert.equal((warning?.fields.err as EventError).code, "event_publish_failed");
      down = false;
      await waitFor(() => seen.length >= 3, 5000, "the events after recovery");
      await sleep(100);
      assert.deepEqual(seen, ["e0", "e1", "e2"]);
    } finally {
      await relay.close();
      await inner.close();
      await db.sql.unsafe(`drop table if exists ${table}`);
    }
  },
);

test("startRelay() stops a batch of several reads at a failed publish, keeping the order", {
  timeout: 30_000,
}, async (t) => {
  if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
  await using db = await connectDatabase(databaseUrl, { max: 3 });
  const table = uniqueName("outbox_stop");
  await migrateOutbox(db, { table });
  const inner = createMemoryBus();
  const bus: EventBus = Object.create(inner);
  let failNext = true;
  const tried: string[] = [];
  bus.publish = (subject, payload, options) => {
    tried.push(options?.id ?? "");
    if (options?.id === "e4" && failNext) {
      failNext = false;
      return Promise.reject(
        new EventError("Cannot publish event: no ack", { code: "event_publish_failed", subject }),
      );
    }
    return inner.publish(subject, payload, options);
  };
  const seen: string[] = [];
  await inner.subscribe("usage.>", (_p, meta) => void seen.push(meta.id), { durable: "d" });
  await db.transaction((sql) =>
    Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        enqueue(sql, { subject: i % 3 === 2 ? "usage.y" : "usage.x", payload: i, id: `e${i}` }, {
          table,
        })),
    )
  );
  // Reads of 2 rows: e0 e1 | e2 e3 | e4 (fails) e5 … in one batch; e4's failure ends it.
  const relay = await startRelay({
    db,
    bus,
    table,
    batchSize: 2,
    retryDelay: 50,
    idle: 20,
    logger: captureLogger(),
  });
  try {
    await waitFor(async () => (await relay.lag()).pending === 0, 10_000, "every event");
    await waitFor(() => seen.length >= 9, 5000, "every delivery");
    assert.equal(relay.stats().errors, 1);
    assert.equal(relay.stats().published, 9);
    const x = seen.filter((id) => ["e0", "e1", "e3", "e4", "e6", "e7"].includes(id));
    assert.deepEqual(x, ["e0", "e1", "e3", "e4", "e6", "e7"], "usage.x in order");
    assert.deepEqual(seen.filter((id) => ["e2", "e5", "e8"].includes(id)), ["e2", "e5", "e8"]);
    assert.equal(new Set(seen).size, 9, "each once");
    // Nothing of the reads after e4's was sent before e4's retry (e5, of the other subject and
    // in e4's read, may be).
    const retry = tried.lastIndexOf("e4");
    for (const later of ["e6", "e7", "e8"]) {
      assert.ok(tried.indexOf(later) > retry, `${later} after e4's retry: ${tried.join(" ")}`);
    }
  } finally {
    await relay.close();
    await inner.close();
    await db.sql.unsafe(`drop table if exists ${table}`);
  }
});

test("startRelay() backs off while the database fails and never throws", {
  timeout: 20_000,
}, async (t) => {
  if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
  await using real = await connectDatabase(databaseUrl, { max: 2 });
  let calls = 0;
  const db: Database = Object.create(real);
  Object.defineProperty(db, "embedded", { value: true }); // no LISTEN: only the loop is measured
  db.transaction = () => {
    calls++;
    return Promise.reject(new Error("connection refused"));
  };
  const logger = captureLogger();
  const bus = createMemoryBus();
  const relay = await startRelay({ db, bus, idle: 10, retryDelay: 50, maxRetryDelay: 200, logger });
  await sleep(1200);
  await relay.close();
  assert.ok(calls >= 3 && calls <= 10, `batches tried in 1.2 s: ${calls}`);
  assert.equal(relay.stats().errors, calls);
  assert.equal(relay.closed, true);
  await relay.close(); // twice is fine
  await bus.close();
});

test("startRelay() close() finishes the batch in flight and marks what it published", {
  timeout: 20_000,
}, async (t) => {
  if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
  await using db = await connectDatabase(databaseUrl, { max: 3 });
  const table = uniqueName("outbox_close");
  await migrateOutbox(db, { table });
  const inner = createMemoryBus();
  const bus: EventBus = Object.create(inner);
  let published = 0;
  let started!: () => void;
  const first = new Promise<void>((resolve) => (started = resolve));
  bus.publish = async (subject, payload, options) => {
    started();
    await sleep(40);
    const ack = await inner.publish(subject, payload, options);
    published++;
    return ack;
  };
  try {
    await db.transaction(async (sql) => {
      for (let i = 0; i < 10; i++) {
        await enqueue(sql, { subject: "usage.x", payload: i }, { table });
      }
    });
    const relay = await startRelay({ db, bus, table, batchSize: 10, logger: captureLogger() });
    await first;
    await relay.close();
    assert.equal(published, 10, "the batch in flight ran to its end");
    const [row] = await db.sql.unsafe(
      `select count(*)::int as n from ${table} where published_at is not null`,
    );
    assert.equal(row?.n, 10);
    await db.transaction((sql) => enqueue(sql, { subject: "usage.x", payload: 11 }, { table }));
    await sleep(200);
    assert.equal(published, 10, "nothing after close()");
  } finally {
    await inner.close();
    await db.sql.unsafe(`drop table if exists ${table}`);
  }
});

test("startRelay() on the embedded database closes cleanly (the shared PGlite is closed last)", {
  timeout: 60_000,
}, async () => {
  if (embedded !== undefined) await (await embedded).close();
});
