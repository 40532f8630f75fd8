import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { isAppError } from "@plinth/errors";
import { TRACING_ERROR_CODES, TracingError, type TracingErrorCode } from "./tracing_error.ts";

test("TracingError() is a 500 AppError with its code and cause", () => {
  const cause = new Error("module not found");
  const error = new TracingError("Cannot register tracing", { code: "sdk_missing", cause });
  assert.equal(error.name, "TracingError");
  assert.equal(error.status, 500);
  assert.equal(error.code, "sdk_missing");
  assert.equal(error.cause, cause);
  assert.equal(isAppError(error), true);
});

test("TracingError() refuses an unknown code, a missing options bag and a non-string message", () => {
  assert.throws(() => new TracingError("x", { code: "nope" as never }), {
    name: "TypeError",
    message: /TRACING_ERROR_CODES/,
  });
  assert.throws(() => new TracingError("x", undefined as never), /options must be an object/);
  assert.throws(() => new TracingError(1 as never, { code: "sdk_missing" }), /message/);
});

test("TRACING_ERROR_CODES is frozen, unique, and lists every code the package's source uses", () => {
  assert.ok(Object.isFrozen(TRACING_ERROR_CODES));
  assert.equal(new Set(TRACING_ERROR_CODES).size, TRACING_ERROR_CODES.length);
  const dir = new URL("./", import.meta.url);
  const known = new Set<string>(TRACING_ERROR_CODES);
  const used = new Map<string, string>();
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith("_test.ts"));
  assert.ok(files.includes("register_tracing.ts"));
  for (const file of files) {
    const text = readFileSync(new URL(file, dir), "utf8");
    for (const match of text.matchAll(/\bcode: "([a-z_]+)"/g)) used.set(match[1] as string, file);
  }
  for (const code of ["sdk_missing", "unsupported_runtime", "already_registered"]) {
    assert.ok(used.has(code), `expected to find code: "${code}" in the source`);
  }
  for (const [code, file] of used) {
    assert.ok(known.has(code), `${file} uses code "${code}", which TRACING_ERROR_CODES lacks`);
  }
  const typed: readonly TracingErrorCode[] = TRACING_ERROR_CODES;
  assert.equal(typed.length, 3);
});
