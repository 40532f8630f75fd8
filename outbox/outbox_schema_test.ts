import { test } from "node:test";
import assert from "node:assert/strict";
import { connectDatabase } from "@plinth/database";
import { databaseUrl, needServer, uniqueName } from "@plinth/testing";
import { migrateOutbox, outboxSchema } from "./outbox_schema.ts";
import { outboxLag } from "./outbox_lag.ts";

test("outboxSchema() names the table and its indexes, and refuses a bad table name", () => {
  const ddl = outboxSchema({ table: "billing_outbox" });
  assert.match(ddl, /create table if not exists billing_outbox \(/);
  assert.match(ddl, /create index if not exists billing_outbox_pending on billing_outbox/);
  assert.match(outboxSchema(), /create table if not exists plinth_outbox \(/);
  for (const table of ["Bad", "a-b", "1abc", "x".repeat(49), "a; drop table users", 3]) {
    assert.throws(() => outboxSchema({ table: table as string }), {
      name: "TypeError",
      message: /table must be a lower-case SQL identifier/,
    });
  }
  assert.throws(() => outboxSchema(5 as never), /options must be an object/);
});

test(
  "migrateOutbox() creates the table once when replicas race, and hashes subjects into partitions",
  {
    timeout: 20_000,
  },
  async (t) => {
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
    await using db = await connectDatabase(databaseUrl, { max: 4 });
    const table = uniqueName("outbox_schema");
    try {
      const created = await Promise.all([1, 2, 3].map(() => migrateOutbox(db, { table })));
      assert.deepEqual(created.filter(Boolean).length, 1);
      assert.equal(await migrateOutbox(db, { table }), false);
      await db.sql.unsafe(
        `insert into ${table} (event_id, subject, data) values ('a', 'usage.recorded', '1'), ('b', 'user.created', '2')`,
      );
      const rows = await db.sql.unsafe(`select subject, partition from ${table} order by id`);
      for (const row of rows) {
        assert.ok(row.partition >= 0 && row.partition < 16, `partition ${row.partition}`);
      }
      const [again] = await db.sql.unsafe(
        `select (hashtext('usage.recorded') & 15) as p`,
      );
      assert.equal(rows[0]?.partition, again?.p);
      await assert.rejects(
        db.sql.unsafe(`insert into ${table} (event_id, subject, data) values ('a', 'x', '1')`),
        /duplicate key/,
      );
    } finally {
      await db.sql.unsafe(`drop table if exists ${table}`);
    }
    await assert.rejects(migrateOutbox({} as never), /db must be a Database/);
  },
);

test("outboxLag() refuses a bad table and a missing database", async () => {
  await assert.rejects(outboxLag({} as never), /db must be a Database/);
  await assert.rejects(outboxLag({} as never, { table: "Bad" }), /table/);
  await assert.rejects(outboxLag({} as never, 7 as never), /options must be an object/);
});
