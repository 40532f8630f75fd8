import { test } from "node:test";
import assert from "node:assert/strict";
import { connectDatabase, type Database } from "@plinth/database";
import { captureLogger, databaseUrl } from "@plinth/testing";
import { needPostgres } from "@plinth/testing/postgres";
import { createMetrics, type InstrumentableDatabase, instrumentDatabase } from "./mod.ts";

function value(body: string, series: string): number | undefined {
  const line = body.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("instrumentDatabase() checks its arguments", () => {
  using metrics = createMetrics({ service: "svc", defaultMetrics: false });
  assert.throws(() => instrumentDatabase({} as never, {} as never), /argument metrics/);
  assert.throws(() => instrumentDatabase(metrics, {} as never), /argument db/);
  assert.throws(() => instrumentDatabase(metrics, { stats: () => ({}) } as never), /argument db/);
});

test("instrumentDatabase() reads the pool at scrape time and stops listening on close()", async () => {
  let stats = { open: 1, busy: 0, queued: 0, max: 5 };
  let reads = 0;
  let listener: Parameters<InstrumentableDatabase["onQuery"]>[0] | undefined;
  const db: InstrumentableDatabase = {
    stats: () => (reads++, stats),
    onQuery: (l) => {
      listener = l;
      return () => void (listener = undefined);
    },
  };
  using metrics = createMetrics({ service: "svc", defaultMetrics: false, prefix: "app_" });
  const instrumentation = instrumentDatabase(metrics, db);
  assert.equal(reads, 0, "nothing is polled");
  stats = { open: 4, busy: 3, queued: 7, max: 5 };
  listener!({ duration: 30, ok: true });
  listener!({ duration: 2, ok: false, code: "40001" });
  listener!({ duration: 1, ok: false });
  const { body } = await metrics.render();
  assert.equal(value(body, 'app_db_pool_max_connections{service="svc"}'), 5);
  assert.equal(value(body, 'app_db_pool_open_connections{service="svc"}'), 4);
  assert.equal(value(body, 'app_db_pool_busy_connections{service="svc"}'), 3);
  assert.equal(value(body, 'app_db_pool_idle_connections{service="svc"}'), 1);
  assert.equal(value(body, 'app_db_pool_waiting_queries{service="svc"}'), 7);
  assert.equal(value(body, 'app_db_query_duration_seconds_count{service="svc"}'), 3);
  assert.equal(value(body, 'app_db_query_duration_seconds_sum{service="svc"}'), 0.033);
  assert.equal(value(body, 'app_db_query_errors_total{code="40001",service="svc"}'), 1);
  assert.equal(value(body, 'app_db_query_errors_total{code="unknown",service="svc"}'), 1);
  instrumentation.close();
  instrumentation[Symbol.dispose]();
  assert.equal(listener, undefined);
  // One database per Metrics: the names are taken.
  assert.throws(() => instrumentDatabase(metrics, db), /already registered/);
});

test("instrumentDatabase() measures a real @plinth/database pool", async (t) => {
  if (!(await needPostgres(t))) return;
  await using db: Database = await connectDatabase(databaseUrl, {
    max: 3,
    prewarm: false,
    logger: captureLogger(),
  });
  using metrics = createMetrics({ service: "svc", defaultMetrics: false });
  using _instrumentation = instrumentDatabase(metrics, db);
  await db.sql`select 1`;
  await db.sql`select pg_sleep(0.02)`;
  await assert.rejects(db.sql`insert into plinth_metrics_no_such_table values (1)`);
  // The queries inside a transaction are measured too.
  await db.transaction(async (sql) => {
    await sql`select 2`;
    await assert.rejects(sql`select * from plinth_metrics_no_such_table`);
  }).catch(() => {});
  const { body } = await metrics.render();
  assert.equal(value(body, 'db_pool_max_connections{service="svc"}'), 3);
  assert.ok((value(body, 'db_pool_open_connections{service="svc"}') ?? 0) >= 1);
  assert.equal(value(body, 'db_pool_busy_connections{service="svc"}'), 0);
  assert.equal(value(body, 'db_query_duration_seconds_count{service="svc"}'), 5);
  assert.ok((value(body, 'db_query_duration_seconds_sum{service="svc"}') ?? 0) >= 0.02);
  assert.equal(value(body, 'db_query_errors_total{code="42P01",service="svc"}'), 2);
});
