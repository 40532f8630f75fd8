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
  await db.transaction(async (sql) => {
    await sql`select 2`;
  });
  assert.deepEqual(seen[0], { duration: 5, ok: true });
  assert.deepEqual(seen[1], { duration: 5, ok: false, code: "42P01" });
  // A transaction holds one connection for its whole body: its queries are not reported.
  assert.equal(seen.length, 2);
  remove();
  const before = seen.length;
  await db.sql`select 3`;
  assert.equal(seen.length, before);
});
