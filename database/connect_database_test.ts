import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { AppError, serializeError } from "@plinth/errors";
import { withRequestId } from "@plinth/logging";
import { checkHealth, connectDatabase } from "./connect_database.ts";
import { DatabaseError } from "./database_error.ts";
import { captureLogger, databaseUrl, sleep, uniqueName, waitFor } from "@plinth/testing";
import { needPostgres } from "@plinth/testing/postgres";

const quiet = captureLogger;

test("connectDatabase() validates its options when it runs", async () => {
  const url = "postgres://postgres@127.0.0.1:1/x";
  await assert.rejects(connectDatabase(url, { max: 0 }), RangeError);
  await assert.rejects(connectDatabase(url, { queueTimeout: -1 }), RangeError);
  await assert.rejects(
    connectDatabase(url, { connectTimeout: Infinity }),
    RangeError,
  );
  await assert.rejects(
    connectDatabase(url, { retry: { retries: 1.5 } }),
    RangeError,
  );
  await assert.rejects(
    connectDatabase(url, { logger: { info() {} } as never }),
    /option "logger" must have/,
  );
  await assert.rejects(
    connectDatabase(url, { slowQueryMs: 50 } as never),
    /option "slowQueryMs" is not known; use "slowQueryThreshold"/,
  );
  await assert.rejects(
    connectDatabase(url, { ssl: "maybe" as never }),
    TypeError,
  );
  await assert.rejects(
    connectDatabase(url, { applicationName: "" }),
    TypeError,
  );
  await assert.rejects(
    connectDatabase("mysql://x/y"),
    /must start with postgres:\/\//,
  );
  await assert.rejects(connectDatabase("not a url"), /not a valid URL/);
  await assert.rejects(connectDatabase({ env: {} }), /no server configured/);
  await assert.rejects(connectDatabase(null as never), TypeError);
  await assert.rejects(connectDatabase(42 as never), /pass a connection URL/);
});

test("connectDatabase() reads DATABASE_URL and answers queries through the typed sql", async (t) => {
  if (!(await needPostgres(t))) return;
  const db = await connectDatabase({
    env: { DATABASE_URL: databaseUrl },
    max: 3,
    logger: quiet(),
  });
  try {
    const [row] = await db.sql<{ n: number }[]>`select ${41}::int + 1 as n`;
    assert.equal(row?.n, 42);
    assert.equal(db.embedded, false);
    assert.match(db.target, /^127\.0\.0\.1:5432\/test$|:\d+\//);
    assert.deepEqual(db.stats(), { open: 3, busy: 0, queued: 0, max: 3 });
    const values = await db.sql`select 1 as a, 2 as b`.values();
    assert.deepEqual([...values], [[1, 2]]);
    const [unsafe] = await db.sql.unsafe("select $1::text as t", ["x"]);
    assert.equal(unsafe?.t, "x");
    const fragment = db.sql`where n > ${1}`;
    const rows = await db
      .sql`select n from (values (1), (2), (3)) as v(n) ${fragment} order by n`;
    assert.deepEqual(rows.map((r) => r.n), [2, 3]);
  } finally {
    await db.close();
  }
});

test("connectDatabase() takes separate parameters and never puts the password in errors", async () => {
  const error = await connectDatabase({
    host: "127.0.0.1",
    port: 1,
    database: "shop",
    user: "app",
    password: "s3cret-pw",
    retry: { retries: 1, baseDelay: 5 },
    connectTimeout: 300,
    logger: quiet(),
  }).then(() => assert.fail("connected"), (e: unknown) => e);
  assert.ok(error instanceof DatabaseError);
  assert.equal(error.code, "connect_failed");
  assert.match(error.message, /127\.0\.0\.1:1\/shop: 2 attempts failed/);
  assert.ok(!error.message.includes("s3cret-pw"));
  assert.ok(!JSON.stringify(error).includes("s3cret-pw"));
});

test("connectDatabase() gives up on a peer that accepts and closes, within connectTimeout per attempt", async () => {
  const sockets: Socket[] = [];
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.push(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const logger = quiet();
  const started = performance.now();
  try {
    await assert.rejects(
      connectDatabase(`postgres://u:pw@127.0.0.1:${port}/db`, {
        retry: { retries: 2, baseDelay: 10, maxDelay: 20 },
        connectTimeout: 400,
        logger,
      }),
      (error: DatabaseError) => {
        assert.equal(error.code, "connect_failed");
        assert.match(
          error.message,
          new RegExp(`127\\.0\\.0\\.1:${port}/db: 3 attempts failed`),
        );
        return true;
      },
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  // Three attempts of at most connectTimeout each, plus backoff, with a generous margin for a
  // loaded machine: what matters is that it does not wait for the driver's own reconnects.
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 3 * 400 + 5_000, `took ${elapsed} ms`);
  assert.ok(accepted >= 3, `accepted ${accepted}`);
  assert.equal(
    logger.lines.filter((l) => l.message.includes("retrying")).length,
    2,
  );
  // The probe instances are gone: no more connection attempts after the failure.
  const before = accepted;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(accepted, before);
});

test("connectDatabase() gives up on a peer that accepts and never answers", async () => {
  const sockets: Socket[] = [];
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    await assert.rejects(
      connectDatabase(`postgres://u@127.0.0.1:${port}/db`, {
        retry: { retries: 1, baseDelay: 10 },
        connectTimeout: 300,
        logger: quiet(),
      }),
      /2 attempts failed/,
    );
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

test("Database serves 100 concurrent queries with max 25 from a prewarmed pool", async (t) => {
  if (!(await needPostgres(t))) return;
  const db = await connectDatabase(databaseUrl, { max: 25, logger: quiet() });
  try {
    assert.equal(db.stats().open, 25, "prewarm opened every connection");
    const started = performance.now();
    const results = await Promise.allSettled(
      Array.from(
        { length: 100 },
        (_, i) => db.sql`select ${i}::int as i, pg_sleep(0.005)`,
      ),
    );
    const elapsed = performance.now() - started;
    assert.equal(results.filter((r) => r.status === "rejected").length, 0);
    assert.deepEqual(
      results.map((r) => r.status === "fulfilled" ? r.value[0]?.i : -1),
      Array.from({ length: 100 }, (_, i) => i),
    );
    assert.equal(
      db.stats().open,
      25,
      "no connection was opened on the query path",
    );
    console.log(
      `100 queries (5 ms each) with max 25, prewarmed: ${elapsed.toFixed(1)} ms`,
    );
  } finally {
    await db.close();
  }
});

test("Database fails queries waiting longer than queueTimeout with a 503 and shows the queue", async (t) => {
  if (!(await needPostgres(t))) return;
  const db = await connectDatabase(databaseUrl, {
    max: 2,
    queueTimeout: 200,
    logger: quiet(),
  });
  try {
    const long = Promise.all([
      db.sql`select pg_sleep(0.6)`,
      db.sql`select pg_sleep(0.6)`,
    ]);
    const waiting = [db.sql`select 1`, db.sql`select 2`, db.sql`select 3`];
    const settled = Promise.allSettled(waiting);
    await until(() => db.stats().queued === 3);
    const stats = db.stats();
    assert.equal(stats.busy, 2);
    assert.equal(stats.queued, 3);
    assert.equal((await checkHealth(db, { timeout: 100 })).ok, false);
    const results = await settled;
    for (const result of results) {
      assert.equal(result.status, "rejected");
      const reason = (result as PromiseRejectedResult).reason;
      assert.ok(reason instanceof AppError);
      assert.equal(reason.status, 503);
      assert.equal(reason.code, "database_busy");
      assert.match(reason.message, /no free connection within 200 ms/);
    }
    await long;
    assert.deepEqual(db.stats(), { open: 2, busy: 0, queued: 0, max: 2 });
    const [row] = await db.sql`select 'after' as s`;
    assert.equal(row?.s, "after");
  } finally {
    await db.close();
  }
});

test("Database transaction() commits, rolls back and holds one connection", async (t) => {
  if (!(await needPostgres(t))) return;
  const db = await connectDatabase(databaseUrl, { max: 2, logger: quiet() });
  const table = uniqueName("tx");
  try {
    await db.sql`create table ${db.sql(table)} (n int)`;
    await db.transaction(async (tx) => {
      await tx`insert into ${tx(table)} values (1)`;
      assert.equal(db.stats().busy, 1);
    });
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx`insert into ${tx(table)} values (2)`;
        throw new Error("undo");
      }),
      /undo/,
    );
    const rows = await db.sql`select n from ${db.sql(table)}`;
    assert.deepEqual(rows.map((r) => r.n), [1]);
    const viaBegin = await db.sql.begin((tx) => tx`select 7 as n`);
    assert.equal(viaBegin[0]?.n, 7);
    const reserved = await db.sql.reserve();
    assert.equal(db.stats().busy, 1);
    await reserved`select 1`;
    reserved.release();
    reserved.release();
    assert.equal(db.stats().busy, 0);
    await assert.rejects(db.transaction("nope" as never), TypeError);
  } finally {
    await db.sql`drop table if exists ${db.sql(table)}`;
    await db.close();
  }
});

test("Database logs slow queries at warn with duration, text and request_id, never values", async (t) => {
  if (!(await needPostgres(t))) return;
  const logger = quiet();
  const db = await connectDatabase(databaseUrl, {
    max: 2,
    slowQueryThreshold: 50,
    logger,
  });
  try {
    await withRequestId("req-slow-1", async () => {
      await db.sql`select pg_sleep(0.1), ${"secret-value"}::text as v`;
      await db.sql`select ${"fast-value"}::text`;
    });
    await db.sql.unsafe("select pg_sleep(0.08)");
    const slow = logger.lines.filter((l) =>
      l.message === "Slow query" && String(l.fields.query).includes("pg_sleep")
    );
    assert.equal(slow.length, 2);
    const [first, second] = slow;
    assert.equal(first?.level, "warn");
    assert.equal(first?.fields.request_id, "req-slow-1");
    assert.equal(first?.fields.query, "select pg_sleep(0.1), $1::text as v");
    assert.ok((first?.fields.duration_ms as number) >= 50);
    assert.ok(!JSON.stringify(logger.lines).includes("secret-value"));
    assert.equal(second?.fields.query, "select pg_sleep(0.08)");
    assert.equal(second?.fields.request_id, undefined);
  } finally {
    await db.close();
  }
});

test("Database times slow queries and health() with the injected now()", async (t) => {
  if (!(await needPostgres(t))) return;
  const logger = quiet();
  let clock = 1_700_000_000_000;
  // Every reading is 700 ms after the one before: any query takes 700 ms by this clock.
  const now = (): number => (clock += 700);
  const db = await connectDatabase(databaseUrl, {
    max: 1,
    slowQueryThreshold: 500,
    now,
    logger,
  });
  try {
    logger.lines.length = 0;
    await db.sql`select 1 as quick`;
    const slow = logger.lines.filter((l) => l.message === "Slow query");
    assert.equal(slow.length, 1);
    assert.equal(slow[0]?.fields.duration_ms, 700);
    assert.equal(slow[0]?.fields.query, "select 1 as quick");
    const report = await db.health();
    assert.equal(report.ok, true);
    assert.ok(report.latency_ms >= 700);
  } finally {
    await db.close();
  }
  await assert.rejects(
    connectDatabase(databaseUrl, { now: 5 as never }),
    { name: "TypeError", message: /option "now" must be a function/ },
  );
});

test("Database sends server notices to the logger, not the console", async (t) => {
  if (!(await needPostgres(t))) return;
  const logger = quiet();
  const db = await connectDatabase(databaseUrl, { max: 1, logger });
  const original = console.log;
  const consoleLines: unknown[] = [];
  console.log = (...args: unknown[]) => void consoleLines.push(args);
  try {
    await db
      .sql`do $$ begin raise notice 'hello from plpgsql'; raise warning 'careful'; end $$`;
  } finally {
    console.log = original;
    await db.close();
  }
  assert.deepEqual(consoleLines, []);
  const notices = logger.lines.filter((l) => l.message === "PostgreSQL notice");
  assert.deepEqual(notices.map((l) => [l.level, l.fields.notice]), [
    ["info", "hello from plpgsql"],
    ["warn", "careful"],
  ]);
});

test("Database close() waits for running queries, refuses new ones and leaves nothing pending", async (t) => {
  if (!(await needPostgres(t))) return;
  const db = await connectDatabase(databaseUrl, { max: 1, logger: quiet() });
  // Queries start when awaited (postgres.js is lazy): execute() starts them now.
  const running = db.sql`select pg_sleep(0.2), 'done' as s`.execute();
  const queued = db.sql`select 'queued' as s`.execute();
  await until(() => db.stats().busy === 1 && db.stats().queued === 1);
  const closing = db.close({ timeout: 5_000 });
  await assert.rejects(db.sql`select 1`, (error: DatabaseError) => {
    assert.equal(error.code, "database_closed");
    assert.match(
      error.message,
      /Cannot run query on .*: the database is closed/,
    );
    return true;
  });
  await assert.rejects(db.transaction(() => 1), { code: "database_closed" });
  await closing;
  assert.equal((await running)[0]?.s, "done");
  assert.equal((await queued)[0]?.s, "queued");
  assert.equal(db.close(), db.close(), "close() is idempotent");
  assert.equal(db.stats().open, 0);
});

test("Database close() terminates queries still running after its timeout", async (t) => {
  if (!(await needPostgres(t))) return;
  const logger = quiet();
  const db = await connectDatabase(databaseUrl, { max: 1, logger });
  const running = db.sql`select pg_sleep(5)`;
  const queued = db.sql`select 1`;
  const results = Promise.allSettled([running, queued]);
  await until(() => db.stats().busy === 1 && db.stats().queued === 1);
  await db.close({ timeout: 100 });
  const [first, second] = await results;
  // Rejected, not answered: pg_sleep(5) was terminated, not waited for.
  assert.equal(first?.status, "rejected");
  assert.equal(second?.status, "rejected");
  assert.equal(
    (second as PromiseRejectedResult).reason.code,
    "database_closed",
  );
  assert.ok(
    logger.lines.some((l) => l.message.includes("terminating queries")),
  );
});

test("Database health() reports ok, latency and the pool; checkHealth() is the same", async (t) => {
  if (!(await needPostgres(t))) return;
  await using db = await connectDatabase(databaseUrl, {
    max: 3,
    prewarm: 2,
    logger: quiet(),
  });
  const report = await db.health();
  assert.equal(report.ok, true);
  assert.equal(report.error, undefined);
  assert.ok(report.latency_ms >= 0);
  assert.deepEqual(report.pool, { open: 2, busy: 0, queued: 0 });
  assert.equal((await checkHealth(db)).ok, true);
  await assert.rejects(db.health({ timeout: -1 }), RangeError);
});

test("Database applies statementTimeout and applicationName to every connection", async (t) => {
  if (!(await needPostgres(t))) return;
  const name = uniqueName("app").slice(0, 60);
  await using db = await connectDatabase(databaseUrl, {
    max: 2,
    statementTimeout: 100,
    applicationName: name,
    prewarm: false,
    logger: quiet(),
  });
  const [row] = await db.sql`select current_setting('application_name') as a,
    current_setting('statement_timeout') as s`;
  assert.deepEqual({ ...row }, { a: name, s: "100ms" });
  await assert.rejects(db.sql`select pg_sleep(1)`, { code: "57014" });
});

/** Backends of `name` (an application_name) as the server sees them, by state. */
async function backends(
  db: { sql: import("postgres").Sql },
  name: string,
): Promise<{ state: string; query: string }[]> {
  return [
    ...(await db.sql<{ state: string; query: string }[]>`
      select state, query from pg_stat_activity where application_name = ${name}`),
  ];
}

test("Database closes idle connections after idleTimeout, with Terminate, and reopens on demand", async (t) => {
  if (!(await needPostgres(t))) return;
  const name = uniqueName("idle");
  const logger = quiet();
  // The observer first: connecting it can take longer than idleTimeout on a loaded machine.
  const observer = await connectDatabase(databaseUrl, { max: 1, logger: quiet() });
  const db = await connectDatabase(databaseUrl, {
    max: 3,
    idleTimeout: 200,
    applicationName: name,
    logger,
  });
  try {
    assert.equal(db.stats().open, 3);
    assert.equal((await backends(observer, name)).length, 3);
    // A query longer than idleTimeout: nothing is closed while it runs, not even the two
    // connections that sit idle meanwhile.
    const long = db.sql`select pg_sleep(0.6) as slept`.execute();
    await sleep(450);
    assert.equal(db.stats().open, 3, "no connection closed while a query runs");
    assert.equal((await backends(observer, name)).length, 3);
    assert.equal((await long).length, 1);
    // Quiet pool: every connection closes between 1 and 1.25 idle timeouts after its last byte.
    const deadline = performance.now() + 2_000;
    while (db.stats().open > 0 && performance.now() < deadline) await sleep(20);
    assert.equal(db.stats().open, 0);
    assert.deepEqual(db.stats(), { open: 0, busy: 0, queued: 0, max: 3 });
    await waitFor(
      async () => (await backends(observer, name)).length === 0,
      5_000,
      "the server to end every backend",
    );
    assert.ok(
      logger.lines.some((l) => l.message === "Closed idle database connections"),
    );
    // The driver opens a connection again on the next query.
    const rows = await Promise.all([1, 2, 3, 4].map((n) => db.sql`select ${n}::int as n`));
    assert.deepEqual(rows.map((r) => r[0]?.n), [1, 2, 3, 4]);
    assert.ok(db.stats().open >= 1);
  } finally {
    await db.close();
    await observer.close();
  }
});

test("Database never closes a connection held by a transaction, a reserved connection or a cursor", async (t) => {
  if (!(await needPostgres(t))) return;
  const name = uniqueName("idlehold");
  const db = await connectDatabase(databaseUrl, {
    max: 3,
    idleTimeout: 100,
    applicationName: name,
    logger: quiet(),
  });
  try {
    // Each holds its connection silent for 3-4 idle timeouts, then uses it again.
    const total = await db.transaction(async (tx) => {
      await tx`select 1`;
      await sleep(400);
      assert.equal(db.stats().open, 3, "nothing closed while a transaction is open");
      const [row] = await tx`select 40 + 2 as total`;
      return row?.total;
    });
    assert.equal(total, 42);
    assert.equal(db.stats().busy, 0);
    const reserved = await db.sql.reserve();
    try {
      await reserved`select 1`;
      await sleep(400);
      assert.equal(db.stats().open, 3, "nothing closed while a connection is reserved");
      const [row] = await reserved`select 'still here' as s`;
      assert.equal(row?.s, "still here");
    } finally {
      reserved.release();
    }
    const seen: number[] = [];
    for await (
      const batch of db.sql`select n from generate_series(1, 3) as n`.cursor(1)
    ) {
      seen.push(batch[0]?.n as number);
      await sleep(300);
      assert.equal(db.stats().busy, 1, "the cursor holds its slot between batches");
    }
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(db.stats().busy, 0, "the cursor freed its slot when it ended");
    assert.equal(db.stats().open, 3);
  } finally {
    await db.close();
  }
});

test("Database keeps the connection of sql.listen() open while the pool closes idle ones", async (t) => {
  if (!(await needPostgres(t))) return;
  const name = uniqueName("idlelisten");
  const channel = uniqueName("chan");
  const db = await connectDatabase(databaseUrl, {
    max: 2,
    idleTimeout: 100,
    applicationName: name,
    logger: quiet(),
  });
  const observer = await connectDatabase(databaseUrl, { max: 1, logger: quiet() });
  try {
    const received: string[] = [];
    await db.sql.listen(channel, (payload) => void received.push(payload));
    // The pool's other connection closes after its idle timeout; the listening one stays.
    await waitFor(
      async () => (await backends(observer, name)).length === 1,
      5_000,
      "only the listening connection to be left",
    );
    const left = await backends(observer, name);
    assert.equal(left.length, 1, "only the listening connection is left");
    assert.match(left[0]?.query ?? "", /^listen /i);
    await db.sql.notify(channel, "after idle");
    await waitFor(() => received.length > 0, 5_000, "the notification");
    assert.deepEqual(received, ["after idle"]);
  } finally {
    await db.close();
    await observer.close();
  }
});

test("connectDatabase() refuses an unknown sslmode in the URL, naming the parameter, instead of connecting in plaintext", async () => {
  for (const mode of ["verify_full", "Require", "REQUIRE", "required", "true", "no-verify", ""]) {
    const url = `${databaseUrl}?sslmode=${encodeURIComponent(mode)}`;
    const error = await connectDatabase(url, {
      retry: { retries: 0 },
      connectTimeout: 1_000,
      logger: quiet(),
    }).then(
      async (db) => {
        await db.close();
        return assert.fail(`sslmode=${mode} connected`);
      },
      (error: unknown) => error,
    );
    assert.ok(error instanceof TypeError, `sslmode=${mode}`);
    assert.equal(
      error.message,
      'Cannot connect to the database: the URL parameter "sslmode" must be one of disable, allow, prefer, require, verify-ca, verify-full',
    );
  }
});

test("connectDatabase() accepts libpq's sslmode values; disable connects in plaintext", async (t) => {
  if (!(await needPostgres(t))) return;
  const db = await connectDatabase(`${databaseUrl}?sslmode=disable`, { max: 1, logger: quiet() });
  try {
    const [row] = await db.sql`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
    assert.equal(row?.ssl, false);
  } finally {
    await db.close();
  }
  for (const mode of ["require", "verify-ca", "verify-full"]) {
    // The shared server has no TLS: each of these must fail to connect, never fall back.
    await assert.rejects(
      connectDatabase(`${databaseUrl}?sslmode=${mode}`, {
        retry: { retries: 0 },
        connectTimeout: 1_000,
        logger: quiet(),
      }),
      { code: "connect_failed" },
      `sslmode=${mode}`,
    );
  }
});

/** Every string reachable from `value`: own properties (symbols too), causes, stacks. */
function reachableText(value: unknown, seen = new Set<unknown>()): string[] {
  if (typeof value === "string") return [value];
  if (typeof value !== "object" || value === null || seen.has(value)) {
    return value === undefined || value === null ? [] : [String(value)];
  }
  seen.add(value);
  const out: string[] = [];
  if (value instanceof Error) out.push(String(value), value.stack ?? "");
  for (const key of Reflect.ownKeys(value)) {
    out.push(String(key));
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor !== undefined && "value" in descriptor) {
      out.push(...reachableText(descriptor.value, seen));
    }
  }
  if (value instanceof Error && !Object.hasOwn(value, "cause")) {
    out.push(...reachableText((value as { cause?: unknown }).cause, seen));
  }
  return out;
}

test("connectDatabase() never carries a malformed URL's text (its password) in the error, its causes or properties", async () => {
  const secret = "Sup3rSecretPw";
  const urls = [
    `postgres://app:${secret}@db.internal:99999/shop`,
    `postgres://app:${secret}@[::1/shop`,
    `postgres://app:${secret}@db internal/shop`,
    `postgres://app:${secret}@db.internal:port/shop`,
    `postgres://app:%ZZ${secret}@db.internal/shop`,
    `postgres://app:${secret}@db.internal/%E0%A4%A`,
    `postgres://a%ZZpp:${secret}@db.internal/shop`,
    `mysql://app:${secret}@db.internal/shop`,
    `postgres://app:${secret}@db.internal/shop?sslmode=verify_full`,
    `app:${secret}@db.internal/shop`,
  ];
  for (const url of urls) {
    const error = await connectDatabase(url, { logger: quiet() }).then(
      () => assert.fail(`connected to ${url.replace(secret, "***")}`),
      (error: unknown) => error,
    );
    assert.ok(error instanceof TypeError, url.replace(secret, "***"));
    assert.match(error.message, /^Cannot connect to the database: /);
    const texts = [
      ...reachableText(error),
      JSON.stringify(serializeError(error)),
      JSON.stringify(error),
      String(error),
    ];
    for (const text of texts) {
      assert.ok(
        !text.includes(secret),
        `${url.replace(secret, "***")} leaked: ${text.replaceAll(secret, "***")}`,
      );
      assert.ok(!text.includes("db.internal"), `${url.replace(secret, "***")} leaked the host`);
    }
  }
});

/** Waits until `condition()` holds, for at most `ms`. */
function until(condition: () => boolean, ms = 2_000): Promise<void> {
  return waitFor(condition, ms, "the condition");
}

test("query.cancel() on a query waiting for a connection frees its place: the pool keeps working (max: 1)", async (t) => {
  if (!(await needPostgres(t))) return;
  const db = await connectDatabase(databaseUrl, { max: 1, queueTimeout: 1_000, logger: quiet() });
  try {
    for (let round = 0; round < 3; round++) {
      const long = db.sql`select pg_sleep(0.1)`.execute();
      const queued = db.sql`select 1 as n`.execute();
      assert.deepEqual(db.stats(), { open: 1, busy: 1, queued: 1, max: 1 });
      queued.cancel();
      await assert.rejects(queued, { code: "57014" });
      assert.equal(db.stats().queued, 0);
      await long;
      assert.equal(db.stats().busy, 0, "no slot is held by the cancelled query");
      // Cancelled before it ever asked for a connection.
      const unsent = db.sql`select 2 as n`;
      unsent.cancel();
      await assert.rejects(unsent, { code: "57014" });
      assert.equal(db.stats().busy, 0);
      const [row] = await db.sql`select ${round}::int as n`;
      assert.equal(row?.n, round);
    }
    // A running query is cancelled on the server, and its slot freed.
    const running = db.sql`select pg_sleep(5)`.execute();
    await until(() => db.stats().busy === 1);
    await sleep(50);
    running.cancel();
    await assert.rejects(running, { code: "57014" });
    // The cancel request's own short connection closes once the server has read it.
    await until(() => db.stats().open === 1);
    assert.deepEqual(db.stats(), { open: 1, busy: 0, queued: 0, max: 1 });
    assert.equal((await db.sql`select 1 as n`)[0]?.n, 1);
  } finally {
    await db.close();
  }
});

test("sql.notify() sends at once, as postgres.js does: a notify nobody awaits reaches the listener", async (t) => {
  if (!(await needPostgres(t))) return;
  const channel = uniqueName("eager");
  const db = await connectDatabase(databaseUrl, { max: 2, logger: quiet() });
  try {
    const received: string[] = [];
    await db.sql.listen(channel, (payload) => void received.push(payload));
    void db.sql.notify(channel, "fire and forget");
    await until(() => received.length === 1);
    assert.deepEqual(received, ["fire and forget"]);
  } finally {
    await db.close();
  }
});

test("Database keeps the caller's file in the stack of a failed query, as raw postgres.js does", async (t) => {
  if (!(await needPostgres(t))) return;
  const db = await connectDatabase(databaseUrl, { max: 1, logger: quiet() });
  try {
    const error = await db.sql`select 1/0 as boom`.then(
      () => assert.fail("divided by zero"),
      (error: Error) => error,
    );
    assert.equal((error as { code?: string }).code, "22012");
    assert.match(error.stack ?? "", /connect_database_test\.ts/);
  } finally {
    await db.close();
  }
});

test("Database end({ timeout: 0 }) and close({ timeout: 0 }) reject a query issued just before", async (t) => {
  if (!(await needPostgres(t))) return;
  for (const how of ["end", "close"] as const) {
    for (let i = 0; i < 5; i++) {
      const db = await connectDatabase(databaseUrl, { max: 2, logger: quiet() });
      const quick = db.sql`select 1 as n`.execute();
      const slow = db.sql`select pg_sleep(0.2)`.execute();
      const queued = db.sql`select 3 as n`.execute();
      const closed = how === "end" ? db.sql.end({ timeout: 0 }) : db.close({ timeout: 0 });
      await assert.rejects(quick, { code: "CONNECTION_DESTROYED" }, how);
      await assert.rejects(slow, { code: "CONNECTION_DESTROYED" }, how);
      await assert.rejects(queued, { code: "database_closed" }, how);
      await closed;
      assert.equal(db.stats().busy, 0);
    }
  }
});

test("Database sql.options and sql.parameters follow the driver's pool when it is replaced", async (t) => {
  if (!(await needPostgres(t))) return;
  const name = uniqueName("replaced");
  const { observer, db } = await namedPools(name, 1);
  try {
    const before = db.sql.options;
    assert.equal(typeof db.sql.parameters.server_version, "string");
    // The rejection is caught at once: it can arrive before pg_terminate_backend() returns.
    const running = db.sql`select pg_sleep(5)`.execute().then(
      () => "resolved",
      (error: { code?: string }) => error.code ?? "",
    );
    await until(() => db.stats().busy === 1);
    let pids: number[] = [];
    const deadline = performance.now() + 2_000;
    while (pids.length === 0 && performance.now() < deadline) {
      pids = (await observer.sql`select pid from pg_stat_activity
        where application_name = ${name} and state = 'active'`).map((r) => r.pid as number);
    }
    await observer.sql`select pg_terminate_backend(${pids[0] ?? 0}::int)`;
    assert.ok(["57P01", "CONNECTION_CLOSED"].includes(await running));
    await until(() => db.sql.options !== before);
    const [row] = await db.sql`select 1 as n`;
    assert.equal(row?.n, 1);
    assert.equal(typeof db.sql.parameters.server_version, "string");
  } finally {
    await db.close();
    await observer.close();
  }
});

/**
 * An observer pool and a pool of `max` connections named `name` (so its backends can be found),
 * whose `connectTimeout` bounds how long close() waits for a replaced driver (on Bun, its whole
 * bound).
 */
async function namedPools(name: string, max: number) {
  const observer = await connectDatabase(databaseUrl, { max: 1, logger: quiet() });
  const db = await connectDatabase(databaseUrl, {
    max,
    applicationName: name,
    connectTimeout: 1_000,
    logger: quiet(),
  });
  return { observer, db };
}

/** Terminates the backend of `db`'s running query (found by `applicationName`) and waits for the recycle. */
async function forceRecycle(
  observer: Awaited<ReturnType<typeof connectDatabase>>,
  db: Awaited<ReturnType<typeof connectDatabase>>,
  name: string,
): Promise<void> {
  const before = db.sql.options;
  // Settled handlers attached at once: the terminated query can reject before the
  // pg_terminate_backend() call below returns, which would otherwise be an unhandled rejection.
  const running = db.sql`select pg_sleep(5)`.execute().then(() => "resolved", () => "rejected");
  await until(() => db.stats().busy === 1);
  let pids: number[] = [];
  const deadline = performance.now() + 2_000;
  while (pids.length === 0 && performance.now() < deadline) {
    pids = (await observer.sql`select pid from pg_stat_activity
      where application_name = ${name} and state = 'active' and query like '%pg_sleep(5)%'`)
      .map((r) => r.pid as number);
  }
  assert.ok(pids.length > 0, "the running query's backend was not found");
  await observer.sql`select pg_terminate_backend(${pids[0] ?? 0}::int)`;
  assert.equal(await running, "rejected", "the terminated query resolved");
  await until(() => db.sql.options !== before, 5_000);
}

test("Database sql.listen() after a recycle listens on the current driver and receives a notify", async (t) => {
  if (!(await needPostgres(t))) return;
  const name = uniqueName("listen_recycle");
  const { observer, db } = await namedPools(name, 2);
  try {
    await forceRecycle(observer, db, name);
    const received: string[] = [];
    const channel = uniqueName("chan");
    const listening = await db.sql.listen(channel, (payload) => received.push(payload));
    await observer.sql.notify(channel, "after-recycle");
    await until(() => received.length > 0, 5_000);
    assert.deepEqual(received, ["after-recycle"]);
    await listening.unlisten();
  } finally {
    await db.close();
    await observer.close();
  }
});

test("Database sql.listen() set up before a recycle keeps receiving on the new driver; unlisten() stops it", async (t) => {
  if (!(await needPostgres(t))) return;
  const name = uniqueName("listen_kept");
  const { observer, db } = await namedPools(name, 2);
  try {
    const channel = uniqueName("kept");
    const received: string[] = [];
    let listened = 0;
    const listening = await db.sql.listen(
      channel,
      (payload) => void received.push(payload),
      () => void listened++,
    );
    assert.equal(listened, 1);
    await observer.sql.notify(channel, "before");
    await until(() => received.includes("before"));
    await forceRecycle(observer, db, name);
    // Once the old driver's LISTEN connection is gone, the channel's listener is the new one's.
    await until(() => listened === 2, 5_000);
    const listeners = async () =>
      (await observer.sql`select count(*)::int as n from pg_stat_activity
        where application_name = ${name} and query ilike ${`listen%${channel}%`}`)[0]?.n;
    await waitFor(async () => (await listeners()) === 1, 5_000, "one LISTEN connection");
    await observer.sql.notify(channel, "after");
    await until(() => received.includes("after"), 5_000);
    await listening.unlisten();
    await observer.sql.notify(channel, "unlistened");
    await db.sql`select 1`; // a round trip on the database after the notify
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(!received.includes("unlistened"), "a notify arrived after unlisten()");
    assert.equal(received.filter((p) => p === "after").length, 1, "one delivery per notify");
  } finally {
    await db.close();
    await observer.close();
  }
});

test("Database sql.close() runs plinth's close: later queries fail with database_closed", async (t) => {
  if (!(await needPostgres(t))) return;
  const db = await connectDatabase(databaseUrl, { max: 1, logger: quiet() });
  const running = db.sql`select 1 as n`.execute();
  // Untyped in postgres.js, but there: it closes the connections.
  await (db.sql as unknown as { close(): Promise<void> }).close();
  const [row] = await running;
  assert.equal(row?.n, 1);
  await assert.rejects(db.sql`select 1`, { code: "database_closed", status: 503 });
  assert.equal(db.stats().open, 0);
});
