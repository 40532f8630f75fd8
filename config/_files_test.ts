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
    ["config.yaml", '"--": 1\n', /a key has no letters or digits/],
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

test("parseConfigFile() names the kind and position of a YAML error, never the file's text", () => {
  const bomb = `a: &a [s3cr3t, s3cr3t]\n${
    Array.from({ length: 12 }, (_, i) =>
      `${"bcdefghijklm"[i]}: &${"bcdefghijklm"[i]} [*${i === 0 ? "a" : "bcdefghijklm"[i - 1]}, *${
        i === 0 ? "a" : "bcdefghijklm"[i - 1]
      }]`).join("\n")
  }\n`;
  const cases: [string, string][] = [
    ["db_password: *s3cr3t\n", "config.yaml:1:14: invalid YAML: an alias refers to an anchor"],
    ["a:\n  b: *s3cr3t-anchor\n", "config.yaml:2:6: invalid YAML: an alias refers to an anchor"],
    ["  a: 1\nb: s3cr3t\n", "config.yaml:2:1: invalid YAML: unexpected token (UNEXPECTED_TOKEN)"],
    ["s3cr3t: 1\ns3cr3t: 2\n", "config.yaml:2:1: invalid YAML: duplicate key (DUPLICATE_KEY)"],
    ['password: "\\s3cr3t"\n', "config.yaml:1:12: invalid YAML: invalid escape sequence"],
    ["password: 's3cr3t\n", "config.yaml:2:1: invalid YAML: a closing quote or bracket"],
    ["a: !!timestamp s3cr3t\n", "config.yaml:1:4: invalid YAML: a value does not match its tag"],
    ["? [s3cr3t]\n: 1\n", "config.yaml:1:3: invalid YAML: keys must be plain scalars"],
    [bomb, "config.yaml: invalid YAML: too many alias expansions (RESOURCE_EXHAUSTION)"],
  ];
  for (const [text, prefix] of cases) {
    assert.throws(() => parseConfigFile("config.yaml", text, () => false), (error: unknown) => {
      assert.ok(error instanceof ConfigParseError, text);
      assert.equal(error.code, "config_invalid_yaml");
      assert.ok(error.message.startsWith(`Cannot load config file ${prefix}`), error.message);
      assert.ok(!error.message.includes("s3cr3t"), error.message);
      assert.equal(error.cause, undefined, "the parser's error can quote the file");
      return true;
    });
  }
});
