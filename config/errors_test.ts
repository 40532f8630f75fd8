import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, ConfigParseError } from "./errors.ts";

test("ConfigParseError names file, line and column and keeps the cause", () => {
  const cause = new SyntaxError("bad");
  const error = new ConfigParseError("invalid JSON: trailing comma", {
    code: "invalid_json",
    file: "config.json",
    line: 3,
    column: 1,
    cause,
  });
  assert.equal(error.name, "ConfigParseError");
  assert.equal(
    error.message,
    "Cannot load config file config.json:3:1: invalid JSON: trailing comma",
  );
  assert.equal(error.cause, cause);
  assert.deepEqual([error.code, error.file, error.line, error.column], [
    "invalid_json",
    "config.json",
    3,
    1,
  ]);
  assert.equal(
    new ConfigParseError("the file does not exist", { code: "unreadable_file", file: "x.yaml" })
      .message,
    "Cannot load config file x.yaml: the file does not exist",
  );
  assert.equal(
    new ConfigParseError("r", { code: "invalid_dotenv", file: ".env", line: 2 }).message,
    "Cannot load config file .env:2: r",
  );
  assert.equal(
    "cause" in new ConfigParseError("r", { code: "invalid_dotenv", file: ".env" }),
    false,
  );
});

test("ConfigError lists every issue, one Error each, in a frozen list", () => {
  const error = new ConfigError([
    { key: "DATABASE_URL", source: "unset", rule: "required" },
    { key: "PORT", source: ".env:3", rule: "must be an integer" },
    { key: "MODE", source: "unset", rule: "invalid option" },
  ]);
  assert.ok(error instanceof AggregateError);
  assert.equal(error.name, "ConfigError");
  assert.equal(
    error.message,
    "Invalid configuration (3 problems):\n  - Missing required config: DATABASE_URL\n  - Invalid config PORT (from .env:3): must be an integer\n  - Invalid config MODE: invalid option",
  );
  assert.deepEqual(error.errors.map((e: Error) => e.message), [
    "Missing required config: DATABASE_URL",
    "Invalid config PORT (from .env:3): must be an integer",
    "Invalid config MODE: invalid option",
  ]);
  assert.ok(Object.isFrozen(error.issues));
  assert.match(
    new ConfigError([{ key: "A", source: "env", rule: "required" }]).message,
    /\(1 problem\)/,
  );
});
