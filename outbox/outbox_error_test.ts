import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { isAppError } from "@plinth/errors";
import { OUTBOX_ERROR_CODES, OutboxError, type OutboxErrorCode } from "./outbox_error.ts";

test("OutboxError() is an AppError with the status of its code and its cause", () => {
  const cause = new Error("connection refused");
  const error = new OutboxError("Cannot enqueue event", { code: "enqueue_failed", cause });
  assert.equal(error.name, "OutboxError");
  assert.equal(error.status, 503);
  assert.equal(error.code, "enqueue_failed");
  assert.equal(error.cause, cause);
  assert.equal(isAppError(error), true);
  const statuses = OUTBOX_ERROR_CODES.map((code) => new OutboxError("x", { code }).status);
  assert.deepEqual(statuses, [400, 400, 422, 503, 500]);
});

test("OutboxError() refuses an unknown code, a missing options bag and a non-string message", () => {
  assert.throws(() => new OutboxError("x", { code: "nope" as never }), {
    name: "TypeError",
    message: /OUTBOX_ERROR_CODES/,
  });
  assert.throws(() => new OutboxError("x", undefined as never), /options must be an object/);
  assert.throws(() => new OutboxError(1 as never, { code: "invalid_subject" }), /message/);
});

test("OUTBOX_ERROR_CODES is frozen, unique, and lists every code the package's source uses", () => {
  assert.ok(Object.isFrozen(OUTBOX_ERROR_CODES));
  assert.equal(new Set(OUTBOX_ERROR_CODES).size, OUTBOX_ERROR_CODES.length);
  const dir = new URL("./", import.meta.url);
  const known = new Set<string>(OUTBOX_ERROR_CODES);
  const used = new Map<string, string>();
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith("_test.ts"));
  assert.ok(files.includes("enqueue.ts"));
  for (const file of files) {
    const text = readFileSync(new URL(file, dir), "utf8");
    for (const match of text.matchAll(/\bcode: "([a-z_]+)"/g)) used.set(match[1] as string, file);
  }
  for (const code of OUTBOX_ERROR_CODES) {
    assert.ok(used.has(code), `expected to find code: "${code}" in the source`);
  }
  for (const [code, file] of used) {
    assert.ok(known.has(code), `${file} uses code "${code}", which OUTBOX_ERROR_CODES lacks`);
  }
  const typed: readonly OutboxErrorCode[] = OUTBOX_ERROR_CODES;
  assert.equal(typed.length, 5);
});
