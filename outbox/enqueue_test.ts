import { test } from "node:test";
import assert from "node:assert/strict";
import { connectDatabase } from "@plinth/database";
import { withRequestId } from "@plinth/logging";
import { withSpan } from "@plinth/tracing";
import { databaseUrl, needServer, uniqueName, waitFor } from "@plinth/testing";
import { enqueue, enqueueMany, type OutboxSql } from "./enqueue.ts";
import { migrateOutbox } from "./outbox_schema.ts";
import type { OutboxError } from "./outbox_error.ts";

const never: OutboxSql = {
  unsafe: () => {
    throw new Error("must not be called");
  },
};

test("enqueue() refuses an unpublishable subject before sending anything", async () => {
  for (const subject of ["", "a..b", ".a", "a.", "a b", "a.*", "a.>", "$JS.API.x", "a\tb", 7]) {
    await assert.rejects(
      enqueue(never, { subject: subject as string, payload: 1 }),
      (error: OutboxError) => {
        assert.equal(error.code, "invalid_subject", String(subject));
        assert.equal(error.status, 400);
        return true;
      },
    );
  }
  await assert.rejects(enqueue(never, { subject: "a".repeat(1025), payload: 1 }), /longer than/);
});

test("enqueue() refuses reserved or malformed headers and a bad id", async () => {
  const cases: Record<string, string>[] = [
    { "ce-id": "x" },
    { "Nats-Msg-Id": "x" },
    { "content-type": "text/plain" },
    { "bad name": "x" },
    { tenant: "a\r\nb" },
    { tenant: 5 as unknown as string },
  ];
  for (const headers of cases) {
    await assert.rejects(enqueue(never, { subject: "a.b", payload: 1, headers }), {
      name: "OutboxError",
      code: "invalid_header",
    });
  }
  await assert.rejects(enqueue(never, { subject: "a.b", payload: 1, headers: 3 as never }), {
    message: /headers must be an object/,
  });
  for (const id of ["", "a\nb", "x".repeat(257)]) {
    await assert.rejects(enqueue(never, { subject: "a.b", payload: 1, id }), {
      code: "invalid_header",
    });
  }
});

test("enqueue() refuses a payload JSON cannot hold", async () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  for (const payload of [undefined, () => 1, NaN, { n: Infinity }, 1n, cycle]) {
    await assert.rejects(enqueue(never, { subject: "a.b", payload }), (error: OutboxError) => {
      assert.equal(error.code, "invalid_payload");
      assert.equal(error.status, 422);
      return true;
    });
  }
});

test("enqueue() refuses bad arguments with a TypeError", async () => {
  await assert.rejects(enqueue({} as never, { subject: "a.b", payload: 1 }), TypeError);
  await assert.rejects(enqueue(null as never, { subject: "a.b", payload: 1 }), TypeError);
  await assert.rejects(enqueue(never, null as never), /event must be an object/);
  await assert.rejects(enqueue(never, { subject: "a.b", payload: 1 }, { table: "X" }), {
    name: "TypeError",
    message: /table/,
  });
});

test(
  "enqueue() stores the event, trace and request id in the transaction, and notifies only on commit",
  {
    timeout: 20_000,
  },
  async (t) => {
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
    await using db = await connectDatabase(databaseUrl, { max: 3 });
    const table = uniqueName("outbox_enqueue");
    await migrateOutbox(db, { table });
    const notes: string[] = [];
    const listener = await db.sql.listen(table, (payload) => void notes.push(payload));
    try {
      let traceparent = "";
      const id = await withRequestId("req-7", () =>
        withSpan("record usage", (span) => {
          traceparent = span.traceparent;
          return db.transaction((sql) =>
            enqueue(sql, {
              subject: "usage.recorded",
              payload: { org: "acme", tokens: 12, at: new Date(0) },
              headers: { Tenant: "acme" },
            }, { table })
          );
        }));
      assert.match(id, /^[0-9a-f-]{36}$/);
      await assert.rejects(
        db.transaction(async (sql) => {
          await enqueue(sql, { subject: "usage.recorded", payload: 2, id: "rolled" }, { table });
          throw new Error("business rule failed");
        }),
        /business rule failed/,
      );
      const rows = await db.sql.unsafe(`select * from ${table}`);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.event_id, id);
      assert.equal(rows[0]?.subject, "usage.recorded");
      assert.deepEqual(rows[0]?.data, { org: "acme", tokens: 12, at: "1970-01-01T00:00:00.000Z" });
      assert.deepEqual(rows[0]?.headers, {
        "x-request-id": "req-7",
        traceparent,
        tenant: "acme",
      });
      assert.equal(rows[0]?.published_at, null);
      await waitFor(() => notes.length >= 1, 5000, "the NOTIFY of the commit");
      assert.equal(notes.length, 1, "the rolled-back insert sent no notification");

      await assert.rejects(
        db.transaction((sql) => enqueue(sql, { subject: "a.b", payload: 1, id }, { table })),
        (error: OutboxError) => {
          assert.equal(error.code, "enqueue_failed");
          assert.equal(error.status, 503);
          assert.match(String((error.cause as Error).message), /duplicate key/);
          return true;
        },
      );
      await assert.rejects(
        db.transaction((sql) =>
          enqueue(sql, { subject: "a.b", payload: 1 }, { table: "no_such_outbox" })
        ),
        { code: "enqueue_failed" },
      );
    } finally {
      await listener.unlisten();
      await db.sql.unsafe(`drop table if exists ${table}`);
    }
  },
);

test(
  "enqueueMany() checks every event before sending, keeps their order, and sends nothing for none",
  {
    timeout: 20_000,
  },
  async (t) => {
    await assert.rejects(
      enqueueMany(never, [{ subject: "a.b", payload: 1 }, { subject: "a.*", payload: 2 }]),
      { code: "invalid_subject" },
    );
    await assert.rejects(enqueueMany(never, "x" as never), /events must be an array/);
    assert.deepEqual(await enqueueMany(never, []), []);
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
    await using db = await connectDatabase(databaseUrl, { max: 2 });
    const table = uniqueName("outbox_many");
    await migrateOutbox(db, { table });
    try {
      const ids = await withRequestId("req-9", () =>
        db.transaction((sql) =>
          enqueueMany(
            sql,
            Array.from({ length: 50 }, (_, n) => ({
              subject: `usage.org${n % 3}`,
              payload: { n },
              id: `m-${n}`,
            })),
            { table },
          )
        ));
      assert.deepEqual(ids, Array.from({ length: 50 }, (_, n) => `m-${n}`));
      const rows = await db.sql.unsafe(`select event_id, data, headers from ${table} order by id`);
      assert.deepEqual(rows.map((r) => r.event_id), ids);
      assert.deepEqual(rows.map((r) => r.data.n), Array.from({ length: 50 }, (_, n) => n));
      assert.equal(rows[49]?.headers["x-request-id"], "req-9");
      await assert.rejects(
        db.transaction((sql) =>
          enqueueMany(sql, [{ subject: "a.b", payload: 1, id: "dup" }, {
            subject: "a.b",
            payload: 2,
            id: "dup",
          }], { table })
        ),
        { code: "enqueue_failed" },
      );
    } finally {
      await db.sql.unsafe(`drop table if exists ${table}`);
    }
  },
);
