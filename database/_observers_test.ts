import { test } from "node:test";
import assert from "node:assert/strict";
import { captureLogger, databaseUrl } from "@plinth/testing";
import { needPostgres } from "@plinth/testing/postgres";
import { connectDatabase } from "./connect_database.ts";
import type { QueryObservation } from "./database.ts";
import { QueryObservers } from "./_observers.ts";

test("QueryObservers tells every listener, survives a throwing one, and removes once", () => {
  const observers = new QueryObservers();
  assert.equal(observers.active, false);
  const seen: QueryObservation[] = [];
  const remove = observers.add((o) => void seen.push(o));
  const removeThrowing = observers.add(() => {
    throw new Error("observer bug");
  });
  assert.equal(observers.active, true);
  observers.emit(1.5, undefined);
  observers.emit(2, Object.assign(new Error("dup"), { code: "23505" }));
  observers.emit(3, "not an error");
  assert.deepEqual(seen, [
    { duration: 1.5, ok: true },
    { duration: 2, ok: false, code: "23505" },
    { duration: 3, ok: false, code: "unknown" },
  ]);
  remove();
  remove();
  removeThrowing();
  assert.equal(observers.active, false);
  observers.emit(4, undefined);
  assert.equal(seen.length, 3);
  assert.throws(() => observers.add("no" as never), /argument listener/);
});

test("db.onQuery() reports each pool query's duration and SQLSTATE, until removed", async (t) => {
  if (!(await needPostgres(t))) return;
  let clock = 0;
  await using db = await connectDatabase(databaseUrl, {
    max: 2,
    prewarm: false,
    logger: captureLogger(),
    now: () => (clock += 5),
  });
  const seen: QueryObservation[] = [];
  const remove = db.onQuery((o) => void seen.push(o));
  await db.sql`select 1`;
  await assert.rejects(db.sql`select * from plinth_no_such_table_anywhere`);
  assert.deepEqual(seen[0], { duration: 5, ok: true });
  assert.deepEqual(seen[1], { duration: 5, ok: false, code: "42P01" });
  assert.equal(seen.length, 2);
  remove();
  const before = seen.length;
  await db.sql`select 3`;
  assert.equal(seen.length, before);
});

test("db.onQuery() reports the queries of transaction() and sql.begin, savepoints included", async (t) => {
  if (!(await needPostgres(t))) return;
  let clock = 0;
  await using db = await connectDatabase(databaseUrl, {
    max: 2,
    prewarm: false,
    logger: captureLogger(),
    now: () => (clock += 5),
  });
  const seen: QueryObservation[] = [];
  using _listener = { [Symbol.dispose]: db.onQuery((o) => void seen.push(o)) };
  const answer = await db.transaction(async (sql) => {
    const [row] = await sql`select ${sql.unsafe("2")}::int as n`; // a fragment: not a query run
    await sql.unsafe("select 3");
    await sql.savepoint(async (inner) => {
      await inner`select 4`;
      await assert.rejects(inner`select * from plinth_no_such_table_in_savepoint`);
      throw new Error("roll the savepoint back");
    }).catch(() => {});
    // The one-query form postgres.js has and its types leave out.
    const oneQuery = sql.savepoint as unknown as (s: TemplateStringsArray) => Promise<unknown>;
    await oneQuery`select 5`;
    await sql.savepoint("named", async (inner) => {
      await inner`select 6`;
    });
    return row?.n;
  });
  assert.equal(answer, 2);
  assert.deepEqual(seen, [
    { duration: 5, ok: true },
    { duration: 5, ok: true },
    { duration: 5, ok: true },
    { duration: 5, ok: false, code: "42P01" },
    { duration: 5, ok: true },
    { duration: 5, ok: true },
  ]);
  seen.length = 0;
  await assert.rejects(
    db.sql.begin("read write", async (sql) => {
      await sql`select 1`;
      await sql`insert into plinth_no_such_table_in_begin values (1)`;
    }),
    (error: unknown) => (error as { code?: string }).code === "42P01",
  );
  assert.deepEqual(seen.map((o) => o.ok), [true, false]);
});

test("db.onQuery(): a transaction begun with no listener is not observed", async (t) => {
  if (!(await needPostgres(t))) return;
  await using db = await connectDatabase(databaseUrl, {
    max: 1,
    prewarm: false,
    logger: captureLogger(),
  });
  const seen: QueryObservation[] = [];
  await db.transaction(async (sql) => {
    db.onQuery((o) => void seen.push(o));
    await sql`select 1`;
  });
  assert.equal(seen.length, 0);
  await db.sql`select 1`;
  assert.equal(seen.length, 1);
});
