import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { AppError, isAppError } from "@plinth/errors";
import { DATABASE_ERROR_CODES, DatabaseError, type DatabaseErrorCode } from "./database_error.ts";

const here = new URL(".", import.meta.url);

test("DATABASE_ERROR_CODES gives every code a status: 503 for a lost connection, a closed pool and the queue timeout", () => {
  assert.ok(Object.isFrozen(DATABASE_ERROR_CODES));
  for (const code of DATABASE_ERROR_CODES) {
    const error = new DatabaseError("x", { code });
    assert.ok(Number.isInteger(error.status) && error.status >= 400 && error.status < 600, code);
    assert.equal(error.code, code);
  }
  const status = (code: DatabaseErrorCode): number => new DatabaseError("x", { code }).status;
  assert.deepEqual(
    ["connection_lost", "database_closed", "database_busy", "connect_failed"].map((code) =>
      status(code as DatabaseErrorCode)
    ),
    [503, 503, 503, 503],
  );
  assert.equal(status("unique_violation"), 409);
  assert.equal(status("check_violation"), 422);
  assert.equal(status("migration_failed"), 500);
});

test("DATABASE_ERROR_CODES lists every code the package's source throws", () => {
  const used = new Set<string>();
  for (const file of readdirSync(here)) {
    if (!file.endsWith(".ts") || file.endsWith("_test.ts")) continue;
    const source = readFileSync(new URL(file, here), "utf8");
    for (const match of source.matchAll(/code: "([a-z_]+)"/g)) used.add(match[1]!);
  }
  assert.ok(used.size >= 10, `found only ${[...used].join(", ")}`);
  const missing = [...used].filter((code) => !DATABASE_ERROR_CODES.includes(code as never));
  assert.deepEqual(missing, []);
});

test("DatabaseError is an AppError that isAppError() recognises, with message first and code, cause, extensions", () => {
  const cause = new Error("socket closed");
  const error = new DatabaseError("Cannot run query: its connection was lost", {
    code: "connection_lost",
    cause,
    extensions: { pool: { open: 1 } },
  });
  assert.ok(error instanceof AppError);
  assert.ok(isAppError(error));
  assert.equal(error.name, "DatabaseError");
  assert.equal(error.message, "Cannot run query: its connection was lost");
  assert.equal(error.cause, cause);
  assert.equal(error.status, 503);
  assert.deepEqual(error.extensions, { pool: { open: 1 } });
  // A 5xx problem shows neither the message nor the extensions to clients.
  const problem = error.toProblem();
  assert.equal(problem.code, "connection_lost");
  assert.ok(!JSON.stringify(problem).includes("pool"));
  assert.equal(new DatabaseError("x", { code: "database_busy", status: 504 }).status, 504);
});

test("DatabaseError refuses a code outside DATABASE_ERROR_CODES", () => {
  assert.throws(
    () => new DatabaseError("x", { code: "not_a_code" as DatabaseErrorCode }),
    { name: "TypeError", message: /options\.code must be a DatabaseErrorCode/ },
  );
});
