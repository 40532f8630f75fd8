import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isAppError } from "@plinth/errors";
import { LOGGING_ERROR_CODES, LoggingError } from "./logging_error.ts";
import { fileDestination } from "./destination.ts";
import { createLogger } from "./logger.ts";

test("LOGGING_ERROR_CODES gives every code a status", () => {
  assert.ok(Object.isFrozen(LOGGING_ERROR_CODES));
  assert.ok(LOGGING_ERROR_CODES.length > 0);
  for (const code of LOGGING_ERROR_CODES) {
    const error = new LoggingError("x", { code });
    assert.equal(error.code, code);
    assert.ok(error.status >= 400 && error.status <= 599, `status of ${code}`);
  }
});

test("LOGGING_ERROR_CODES holds every code literal in the package's source", () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const known = new Set<string>(LOGGING_ERROR_CODES);
  const found = new Set<string>();
  for (const file of readdirSync(here)) {
    if (!file.endsWith(".ts") || file.endsWith("_test.ts")) continue;
    const source = readFileSync(join(here, file), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "") // JSDoc examples are not thrown codes
      .replace(/^\s*\/\/.*$/gm, "");
    for (const match of source.matchAll(/\bcode\s*(?::|\?\?)\s*"([a-z0-9_.]+)"/g)) {
      found.add(match[1]!);
    }
  }
  assert.ok(found.has("log_file_unavailable"), "the scan finds codes");
  for (const code of found) assert.ok(known.has(code), `code "${code}" is in LOGGING_ERROR_CODES`);
});

test("LoggingError is an AppError that isAppError() recognises, and refuses unknown codes", () => {
  const cause = new Error("EACCES");
  const error = new LoggingError("Cannot open log file", { code: "log_file_unavailable", cause });
  assert.equal(error.name, "LoggingError");
  assert.equal(error.status, 500);
  assert.equal(error.cause, cause);
  assert.equal(isAppError(error), true);
  assert.equal(error.toProblem().detail, "An unexpected error occurred");
  assert.equal(new LoggingError("x", { code: "log_file_unavailable", status: 503 }).status, 503);
  assert.throws(
    () => new LoggingError("x", { code: "nope" as never }),
    /code must be one of LOGGING_ERROR_CODES/,
  );
  assert.throws(() => new LoggingError("x", undefined as never), TypeError);
});

test("fileDestination() and createLogger() throw LoggingError log_file_unavailable for a file that cannot be opened", () => {
  const path = join(tmpdir(), "no-such-dir-plinth", "x", "app.log");
  for (const open of [() => fileDestination(path), () => createLogger({ destination: path })]) {
    assert.throws(
      open,
      (error: unknown) =>
        error instanceof LoggingError && error.code === "log_file_unavailable" &&
        error.cause !== undefined,
    );
  }
});
