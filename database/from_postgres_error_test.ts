import { test } from "node:test";
import assert from "node:assert/strict";
import { internalError } from "@plinth/errors";
import { connectDatabase } from "./connect_database.ts";
import { DatabaseError } from "./database_error.ts";
import { fromPostgresError } from "./from_postgres_error.ts";
import { CONNECTION_ERROR_CODES, isConnectionError } from "./_connection_codes.ts";
import { captureLogger, databaseUrl, uniqueName } from "@plinth/testing";
import { needPostgres } from "@plinth/testing/postgres";

test("fromPostgresError() maps real constraint violations to 409 and 422 naming only the constraint", async (t) => {
  if (!(await needPostgres(t))) return;
  const db = await connectDatabase(databaseUrl, {
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
    const fail = (q: Promise<unknown>) => q.then(() => assert.fail("no error"), fromPostgresError);
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

test("fromPostgresError() maps connection failures, shutdowns and too_many_connections to 503", () => {
  const pg = (code: string) => Object.assign(new Error("x"), { name: "PostgresError", code });
  for (const code of ["53300", "57P01", "08006", "57014", "40001"]) {
    assert.equal(fromPostgresError(pg(code)).status, 503, code);
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
    const mapped = fromPostgresError(error);
    assert.equal(mapped.status, 503, code);
    assert.equal(mapped.code, "database_unavailable");
    assert.equal(mapped.cause, error);
  }
  const closed = new DatabaseError("closed", { code: "database_closed" });
  assert.equal(fromPostgresError(closed).status, 503);
  assert.equal(
    fromPostgresError(new DatabaseError("lost", { code: "connection_lost" })).status,
    503,
  );
  assert.equal(
    fromPostgresError(new DatabaseError("bad", { code: "migration_failed" })).status,
    500,
  );
  const wrapped = new Error("repository failed", { cause: pg("23505") });
  assert.equal(fromPostgresError(wrapped).status, 409);
  assert.equal(fromPostgresError(wrapped).cause, wrapped);
});

test("fromPostgresError() keeps AppErrors and turns anything else into a 500 with the chain", () => {
  const app = internalError("already mapped");
  assert.equal(fromPostgresError(app), app);
  assert.equal(fromPostgresError(new Error("outer", { cause: app })), app);
  const other = new Error("boom");
  const mapped = fromPostgresError(other);
  assert.equal(mapped.status, 500);
  assert.equal(mapped.cause, other);
  assert.equal(fromPostgresError("text").status, 500);
  assert.equal(fromPostgresError(null).status, 500);
  assert.equal(
    fromPostgresError(Object.assign(new Error("x"), { code: 7 })).status,
    500,
  );
});

test("fromPostgresError() and the pool's recycle share one list of connection-error codes", () => {
  for (const code of ["ENOTFOUND", "CONNECTION_ENDED", "ECONNABORTED", "EAI_AGAIN", "57P01"]) {
    assert.ok(CONNECTION_ERROR_CODES.has(code), code);
  }
  for (const code of CONNECTION_ERROR_CODES) {
    const error = Object.assign(new Error("lost"), { code });
    assert.equal(isConnectionError(error), true, code);
    assert.equal(fromPostgresError(error).status, 503, code);
  }
  assert.equal(isConnectionError(Object.assign(new Error("x"), { code: "23505" })), false);
  assert.equal(isConnectionError(null), false);
});

test("fromPostgresError() returns the pool's own DatabaseErrors as they are", () => {
  const closed = new DatabaseError("closed", { code: "database_closed" });
  assert.equal(fromPostgresError(closed), closed);
  assert.equal(fromPostgresError(new Error("outer", { cause: closed })), closed);
});
