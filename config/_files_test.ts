import { test } from "node:test";
import assert from "node:assert/strict";
import { isJsonFile, parseConfigFile, toEnvKey } from "./_files.ts";
import { ConfigParseError } from "./errors.ts";

test("toEnvKey() turns file keys into environment-style names", () => {
  assert.equal(toEnvKey("databaseUrl"), "DATABASE_URL");
  assert.equal(toEnvKey("database-url"), "DATABASE_URL");
  assert.equal(toEnvKey("log level"), "LOG_LEVEL");
  assert.equal(toEnvKey("_x_"), "X");
  assert.equal(toEnvKey("--"), "");
});

test("isJsonFile() goes by the extension", () => {
  assert.equal(isJsonFile("config.JSON"), true);
  assert.equal(isJsonFile("config.yaml"), false);
});

test("parseConfigFile() flattens nested YAML and keeps arrays, dates and object fields whole", () => {
  const text =
    "\ufeffdatabase:\n  url: postgres://db\n  pool:\n    max: 5\nhosts: [a, b]\nfeatures:\n  beta: true\nwhen: 2026-11-22\n";
  const entries = parseConfigFile("config.yaml", text, (key) => key === "FEATURES");
  assert.deepEqual([...entries.keys()], [
    "DATABASE_URL",
    "DATABASE_POOL_MAX",
    "HOSTS",
    "FEATURES",
    "WHEN",
  ]);
  assert.deepEqual(entries.get("DATABASE_POOL_MAX"), { value: 5, line: 4 });
  assert.deepEqual(entries.get("HOSTS")?.value, ["a", "b"]);
  assert.deepEqual(entries.get("FEATURES")?.value, { beta: true });
  assert.equal(
    entries.get("WHEN")?.value,
    "2026-11-22",
    "YAML 1.2 core schema keeps dates as strings",
  );
});

test("parseConfigFile() reads empty documents as empty", () => {
  assert.equal(parseConfigFile("config.yaml", "", () => false).size, 0);
  assert.equal(parseConfigFile("config.yaml", "# only a comment\n", () => false).size, 0);
  assert.equal(parseConfigFile("config.json", "null", () => false).size, 0);
});

test("parseConfigFile() rejects keys without letters, complex keys and bad aliases", () => {
  const bad: [string, string, RegExp][] = [
    ["config.yaml", '"--": 1\n', /has no letters or digits/],
    ["config.yaml", "? [a, b]\n: 1\n", /keys must be plain scalars/],
    ["config.yaml", "a: *missing\n", /invalid YAML/],
    ["config.json", '{"prototype": 1}', /"prototype" is not allowed/],
  ];
  for (const [name, text, message] of bad) {
    assert.throws(() => parseConfigFile(name, text, () => false), (error: unknown) => {
      assert.ok(error instanceof ConfigParseError, text);
      assert.match(error.message, message, text);
      return true;
    });
  }
});
