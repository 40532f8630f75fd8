import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import {
  CONFIG_ERROR_CODES,
  ConfigError,
  type ConfigErrorCode,
  ConfigParseError,
  type ConfigParseErrorCode,
} from "./errors.ts";

const ERROR_OWN_CODES = new Set(["config_invalid", "config_env_unreadable"]);

/** An error of the class that owns `code`. */
function errorWith(code: ConfigErrorCode): ConfigError | ConfigParseError {
  return ERROR_OWN_CODES.has(code)
    ? new ConfigError("Invalid configuration", {
      code: code as "config_invalid" | "config_env_unreadable",
    })
    : new ConfigParseError("r", { code: code as ConfigParseErrorCode, file: "config.yaml" });
}

test("ConfigParseError names file, line and column, keeps the cause and has status 500", () => {
  const cause = new SyntaxError("bad");
  const error = new ConfigParseError("invalid JSON: trailing comma", {
    code: "config_invalid_json",
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
  assert.equal(error.status, 500);
  assert.deepEqual([error.code, error.file, error.line, error.column], [
    "config_invalid_json",
    "config.json",
    3,
    1,
  ]);
  assert.equal(
    new ConfigParseError("the file does not exist", {
      code: "config_file_unreadable",
      file: "x.yaml",
    }).message,
    "Cannot load config file x.yaml: the file does not exist",
  );
  assert.equal(
    new ConfigParseError("r", { code: "config_invalid_dotenv", file: ".env", line: 2 }).message,
    "Cannot load config file .env:2: r",
  );
  assert.equal(
    "cause" in new ConfigParseError("r", { code: "config_invalid_dotenv", file: ".env" }),
    false,
  );
});

test("ConfigError takes its message first and lists every issue, one Error each, frozen", () => {
  const cause = new Error("inner");
  const error = new ConfigError("Invalid configuration (2 problems)", {
    code: "config_invalid",
    issues: [
      { key: "DATABASE_URL", source: "unset", rule: "required" },
      { key: "PORT", source: ".env:3", rule: "must be an integer" },
    ],
    cause,
  });
  assert.ok(error instanceof AggregateError);
  assert.equal(error.name, "ConfigError");
  assert.equal(error.message, "Invalid configuration (2 problems)");
  assert.equal(error.code, "config_invalid");
  assert.equal(error.status, 500);
  assert.equal(error.cause, cause);
  assert.deepEqual(error.errors.map((e: Error) => e.message), [
    "Missing required config: DATABASE_URL",
    "Invalid config PORT (from .env:3): must be an integer",
  ]);
  assert.ok(Object.isFrozen(error.issues));
  assert.ok(Object.isFrozen(error.issues[0]));

  const bare = new ConfigError("Cannot read the environment", { code: "config_env_unreadable" });
  assert.deepEqual([bare.issues, bare.errors, "cause" in bare], [[], [], false]);
});

test("ConfigError and ConfigParseError refuse a code that is not theirs with a TypeError", () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => new ConfigError("x", { code: "config_invalid_yaml" as never }),
      /^Cannot create ConfigError: options.code must be one of config_invalid, config_env_unreadable$/,
    ],
    [
      () => new ConfigError("x", { code: "nope" as never }),
      /^Cannot create ConfigError: options.code/,
    ],
    [() => new ConfigError("x", undefined as never), /^Cannot create ConfigError: options.code/],
    [
      () => new ConfigParseError("x", { code: "config_invalid" as never, file: "a" }),
      /^Cannot create ConfigParseError: options.code must be one of config_file_unreadable, config_invalid_yaml, config_invalid_json, config_invalid_dotenv, config_unsafe_key$/,
    ],
    [
      () => new ConfigParseError("x", { code: "toString" as never, file: "a" }),
      /^Cannot create ConfigParseError: options.code/,
    ],
  ];
  for (const [create, message] of cases) assert.throws(create, { name: "TypeError", message });
});

test("CONFIG_ERROR_CODES is frozen, has no duplicates, and every code has status 500", () => {
  assert.ok(Object.isFrozen(CONFIG_ERROR_CODES));
  assert.equal(new Set(CONFIG_ERROR_CODES).size, CONFIG_ERROR_CODES.length);
  assert.ok(CONFIG_ERROR_CODES.length >= 7);
  for (const code of CONFIG_ERROR_CODES) {
    const error = errorWith(code);
    assert.equal(error.code, code);
    assert.equal(error.status, 500, code);
  }
});

/** The package's own source files (no tests), as `[name, text]`. */
function sourceFiles(): [string, string][] {
  const dir = new URL(".", import.meta.url);
  return readdirSync(dir)
    .filter((name) => name.endsWith(".ts") && !name.endsWith("_test.ts"))
    .map((name) => [name, readFileSync(new URL(name, dir), "utf8")]);
}

test("CONFIG_ERROR_CODES lists every code the package's source uses, and only those", () => {
  const known = new Set<string>(CONFIG_ERROR_CODES);
  const used = new Map<string, string>();
  const files = sourceFiles();
  assert.ok(files.some(([name]) => name === "load_config.ts"), "the source files were found");
  for (const [name, text] of files) {
    // `code: "…"` in any constructor call, and every "config_…" literal (ternaries included).
    for (const match of text.matchAll(/code: "([a-z_]+)"|"(config_[a-z_]+)"/g)) {
      used.set(match[1] ?? match[2] ?? "", name);
    }
  }
  for (const [code, name] of used) {
    assert.ok(known.has(code), `${name} uses code "${code}", missing from CONFIG_ERROR_CODES`);
  }
  // And each listed code is thrown somewhere outside errors.ts, which only declares them.
  const thrown = files.filter(([name]) => name !== "errors.ts").map(([, text]) => text).join("\n");
  for (const code of CONFIG_ERROR_CODES) {
    assert.ok(thrown.includes(`"${code}"`), `${code} is listed but never thrown`);
  }
});

test("ConfigError and ConfigParseError are not branded as AppError (no problem rendering)", () => {
  // @plinth/errors' isAppError() trusts this brand and then calls toProblem()/getResponse() and
  // reads AppError's `errors` as field errors; a ConfigError's `errors` are AggregateError's.
  // Unbranded, an HTTP error handler renders these as a generic 500.
  const brand = Symbol.for("plinth.AppError");
  for (const code of CONFIG_ERROR_CODES) {
    assert.equal((errorWith(code) as unknown as Record<symbol, unknown>)[brand], undefined, code);
  }
});
