import { test } from "node:test";
import assert from "node:assert/strict";
import { internalError } from "@plinth/errors";
import { connectDatabase } from "./connect_database.ts";
import { DatabaseError } from "./database_error.ts";
import { toAppError } from "./to_app_error.ts";
import { captureLogger, DATABASE_URL, needServer, uniqueName } from "./_testing.ts";

test("toAppError() maps real constraint violations to 409 and 422 naming only the constraint", async (t) => {
  if (!(await needServer(t))) return;
  const db = await connectDatabase(DATABASE_URL, {
    max: 1,
    logger: captureLogger(),
  });
  const p = uniqueName("parent");
  const c = uniqueName("child");
  try {
    await db.sql.unsafe(
      `create table ${p} (id int primary key, email text constraint ${p}_email unique);
      create table ${c} (id int, parent int constraint ${c}_fk references ${p}(id),
        name text not null, age int constraint ${c}_age check (age >= 0))`,
    ).simple();
    await db.sql`insert into ${db.sql(p)} values (1, ${"secret@example.com"})`;
    const fail = (q: Promise<unknown>) => q.then(() => assert.fail("no error"), toAppError);
    const unique = await fail(
      db.sql`insert into ${db.sql(p)} values (2, ${"secret@example.com"})`,
    );
    assert.equal(unique.status, 409);
    assert.equal(unique.code, "unique_violation");
    assert.equal(unique.extensions.constraint, `${p}_email`);
    const fk = await fail(
      db.sql`insert into ${db.sql(c)} values (1, 99, 'x', 1)`,
    );
    assert.deepEqual([fk.status, fk.code, fk.extensions.constraint], [
      422,
      "foreign_key_violation",
      `${c}_fk`,
    ]);
    const nn = await fail(
      db.sql`insert into ${db.sql(c)} values (1, 1, null, 1)`,
    );
    assert.deepEqual([nn.status, nn.code, nn.extensions.column], [
      422,
      "not_null_violation",
      "name",
    ]);
    const check = await fail(
      db.sql`insert into ${db.sql(c)} values (1, 1, 'x', ${-5})`,
    );
    assert.deepEqual([check.status, check.code], [422, "check_violation"]);
    assert.match(check.message, new RegExp(`check constraint "${c}_age"`));
    for (const error of [unique, fk, nn, check]) {
      assert.ok(
        !JSON.stringify(error.toProblem()).includes("secret@example.com"),
      );
      assert.ok(
        !error.message.includes("secret@example.com") &&
          !error.message.includes("-5"),
      );
      assert.equal((error.cause as Error).name, "PostgresError");
    }
    const syntax = await fail(db.sql`selec 1`);
    assert.equal(syntax.status, 500);
    assert.equal((syntax.cause as Error).name, "PostgresError");
  } finally {
    await db.sql.unsafe(`drop table if exists ${c}; drop table if exists ${p}`)
      .simple();
    await db.close();
  }
});

test("toAppError() maps connection failures, shutdowns and too_many_connections to 503", () => {
  const pg = (code: string) => Object.assign(new Error("x"), { name: "PostgresError", code });
  for (const code of ["53300", "57P01", "08006", "57014", "40001"]) {
    assert.equal(toAppError(pg(code)).status, 503, code);
  }
  for (
    const code of [
      "ECONNREFUSED",
      "CONNECTION_CLOSED",
      "CONNECT_TIMEOUT",
      "EPIPE",
    ]
  ) {
    const error = Object.assign(new Error("connect failed"), { code });
    const mapped = toAppError(error);
    assert.equal(mapped.status, 503, code);
    assert.equal(mapped.code, "database_unavailable");
    assert.equal(mapped.cause, error);
  }
  const closed = new DatabaseError("database_closed", "closed");
  assert.equal(toAppError(closed).status, 503);
  assert.equal(
    toAppError(new DatabaseError("connection_lost", "lost")).status,
    503,
  );
  assert.equal(
    toAppError(new DatabaseError("migration_failed", "bad")).status,
    500,
  );
  const wrapped = new Error("repository failed", { cause: pg("23505") });
  assert.equal(toAppError(wrapped).status, 409);
  assert.equal(toAppError(wrapped).cause, wrapped);
});

test("toAppError() keeps AppErrors and turns anything else into a 500 with the chain", () => {
  const app = internalError("already mapped");
  assert.equal(toAppError(app), app);
  assert.equal(toAppError(new Error("outer", { cause: app })), app);
  const other = new Error("boom");
  const mapped = toAppError(other);
  assert.equal(mapped.status, 500);
  assert.equal(mapped.cause, other);
  assert.equal(toAppError("text").status, 500);
  assert.equal(toAppError(null).status, 500);
  assert.equal(
    toAppError(Object.assign(new Error("x"), { code: 7 })).status,
    500,
  );
});
