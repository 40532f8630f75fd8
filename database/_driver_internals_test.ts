import { test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { driverOf, postgresVersion } from "./_driver_internals.ts";

test("postgresVersion() reads the installed postgres.js version", () => {
  assert.equal(postgresVersion(), "3.4.9");
});

test("driverOf() accepts the installed postgres.js and reads its query class, dispatcher and cancel", async () => {
  // No query is run: the instance never connects.
  const sql = postgres("postgres://u@127.0.0.1:1/x", { max: 1 });
  try {
    const driver = driverOf(sql);
    assert.equal(driver.sql, sql);
    assert.equal(typeof driver.Query, "function");
    assert.equal(typeof driver.handler, "function");
    assert.equal(typeof driver.cancel, "function");
  } finally {
    await sql.end({ timeout: 0 });
  }
});

test("driverOf() refuses a driver of another shape with driver_unsupported naming the version and the member", async () => {
  const sql = postgres("postgres://u@127.0.0.1:1/x", { max: 1 });
  try {
    // A postgres.js whose queries have no `handler`, and one whose options lost `parsers`.
    const noHandler = Object.assign(
      (strings: TemplateStringsArray) => Object.assign(sql(strings), { handler: undefined }),
      { options: sql.options },
    ) as unknown as postgres.Sql;
    assert.throws(
      () => driverOf(noHandler),
      (error: Error & { code?: string; status?: number }) => {
        assert.equal(error.name, "DatabaseError");
        assert.equal(error.code, "driver_unsupported");
        assert.match(error.message, /^Cannot use postgres\.js 3\.4\.9: its query\.handler is not/);
        return true;
      },
    );
    const noParsers = Object.assign((strings: TemplateStringsArray) => sql(strings), {
      options: { ...sql.options, parsers: undefined },
    }) as unknown as postgres.Sql;
    assert.throws(() => driverOf(noParsers), {
      code: "driver_unsupported",
      message: /its options\.parsers is not/,
    });
  } finally {
    await sql.end({ timeout: 0 });
  }
});
