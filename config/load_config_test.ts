import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { type ConfigWarning, loadConfig } from "./load_config.ts";
import { ConfigError, ConfigParseError } from "./errors.ts";

function tempDir(files: Record<string, string>): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), "plinth-config-"));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

const quiet = { onWarning: () => {} };

const Layered = z.object({
  L_DEFAULT: z.string().default("default"),
  L_YAML: z.string().default("default"),
  L_YAML_ENV: z.string().default("default"),
  L_DOTENV: z.string().default("default"),
  L_DOTENV_ENV: z.string().default("default"),
  L_DOTENV_LOCAL: z.string().default("default"),
  L_OS: z.string().default("default"),
  L_OVERRIDE: z.string().default("default"),
});

test("loadConfig() applies every layer in precedence order, reading real files", async () => {
  // Each key is set by its own layer and by every layer below it.
  const keys = Object.keys(Layered.shape);
  const setFrom = (index: number, layer: string): string =>
    keys.slice(index).map((k) => `${k}=${layer}`).join("\n");
  using tmp = tempDir({
    "config.yaml": keys.slice(1).map((k) => `${k.toLowerCase()}: yaml`).join("\n"),
    "config.staging.yaml": keys.slice(2).map((k) => `${k}: yaml-env`).join("\n"),
    ".env": setFrom(3, "dotenv"),
    ".env.staging": setFrom(4, "dotenv-env"),
    ".env.local": setFrom(5, "dotenv-local"),
  });
  const config = await loadConfig(Layered, {
    ...quiet,
    dir: tmp.dir,
    env: { APP_ENV: "staging", L_OS: "os", L_OVERRIDE: "os" },
    overrides: { "l.override": "override" },
  });
  assert.equal(config.environment, "staging");
  assert.deepEqual({ ...config.values }, {
    L_DEFAULT: "default",
    L_YAML: "yaml",
    L_YAML_ENV: "yaml-env",
    L_DOTENV: "dotenv",
    L_DOTENV_ENV: "dotenv-env",
    L_DOTENV_LOCAL: "dotenv-local",
    L_OS: "os",
    L_OVERRIDE: "override",
  });
  assert.equal(config.explain("L_DEFAULT")?.source, "default");
  assert.equal(config.explain("L_YAML")?.source, "config.yaml:1");
  assert.equal(config.explain("L_YAML_ENV")?.source, "config.staging.yaml:1");
  assert.equal(config.explain("L_DOTENV")?.source, ".env:1");
  assert.equal(config.explain("L_DOTENV_ENV")?.source, ".env.staging:1");
  assert.equal(config.explain("L_DOTENV_LOCAL")?.source, ".env.local:1");
  assert.equal(config.explain("L_OS")?.source, "env");
  assert.deepEqual(config.explain("L_OVERRIDE")?.layers.map((l) => l.source), [
    "override",
    "env",
    ".env.local:3",
    ".env.staging:4",
    ".env:5",
    "config.staging.yaml:6",
    "config.yaml:7",
  ]);
});

test("loadConfig() lets the OS environment beat .env", async () => {
  const schema = z.object({ DATABASE_URL: z.string() });
  const config = await loadConfig(schema, {
    ...quiet,
    dir: null,
    dotenv: [{ name: ".env", content: "DATABASE_URL=postgres://from-dotenv/app" }],
    env: { DATABASE_URL: "postgres://from-os/app" },
  });
  assert.equal(config.values.DATABASE_URL, "postgres://from-os/app");
  assert.equal(config.explain("database.url")?.source, "env");
});

test("loadConfig() picks the environment from APP_ENV, then NODE_ENV, then development", async () => {
  const schema = z.object({ NAME: z.string() });
  const files = [{ name: "config.yaml", content: "name: base" }];
  const dotenv = [
    { name: ".env.production", content: "NAME=prod" },
    { name: ".env.test", content: "NAME=test" },
  ];
  const load = (env: Record<string, string>, environment?: string) =>
    loadConfig(schema, { ...quiet, dir: null, files, dotenv: [], env, environment }).then((c) =>
      c.environment
    );
  assert.equal(await load({ APP_ENV: "production", NODE_ENV: "test" }), "production");
  assert.equal(await load({ NODE_ENV: "test" }), "test");
  assert.equal(await load({}), "development");
  assert.equal(await load({ APP_ENV: "", NODE_ENV: "test" }), "test");
  assert.equal(await load({ APP_ENV: "production" }, "qa"), "qa");
  await assert.rejects(load({ APP_ENV: "../../etc" }), /Invalid environment name/);
  assert.ok(dotenv.length === 2);
});

test("loadConfig() reads config.<environment>.json after config.json from disk", async () => {
  using tmp = tempDir({
    "config.json": '{ "server": { "port": 80, "host": "0.0.0.0" } }',
    "config.production.json": '{\n  "server": {\n    "port": 443\n  }\n}',
  });
  const schema = z.object({ SERVER_PORT: z.number().int(), SERVER_HOST: z.string() });
  const config = await loadConfig(schema, {
    ...quiet,
    dir: tmp.dir,
    environment: "production",
    env: {},
  });
  assert.equal(config.values.SERVER_PORT, 443);
  assert.equal(config.values.SERVER_HOST, "0.0.0.0");
  assert.equal(config.explain("SERVER_PORT")?.source, "config.production.json:3");
});

test("loadConfig() names every missing and invalid key, with its source, and no value", async () => {
  const schema = z.object({
    DATABASE_URL: z.string(),
    PORT: z.number().int(),
    DEBUG: z.boolean(),
    API_KEY: z.string().min(20),
    LOG_LEVEL: z.enum(["debug", "info"]),
    RATIO: z.number(),
    OK: z.string(),
  });
  const error = await loadConfig(schema, {
    ...quiet,
    dir: null,
    dotenv: [{ name: ".env", content: "PORT=12abc\nDEBUG=yesno\nAPI_KEY=short-secret-value\n" }],
    env: { LOG_LEVEL: "verbose-secret", RATIO: "0x10", OK: "fine" },
  }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ConfigError);
  assert.ok(error instanceof AggregateError);
  assert.equal(error.code, "config_invalid");
  assert.equal(error.status, 500);
  assert.match(error.message, /^Invalid configuration \(6 problems\):\n/);
  assert.deepEqual(error.issues.map((i) => [i.key, i.source]), [
    ["DATABASE_URL", "unset"],
    ["PORT", ".env:1"],
    ["DEBUG", ".env:2"],
    ["API_KEY", ".env:3"],
    ["LOG_LEVEL", "env"],
    ["RATIO", "env"],
  ]);
  assert.equal(error.errors.length, 6);
  assert.match(error.message, /Missing required config: DATABASE_URL/);
  assert.match(error.message, /Invalid config PORT \(from \.env:1\): must be an integer/);
  assert.match(error.message, /Invalid config DEBUG \(from \.env:2\): must be a boolean/);
  assert.match(error.message, /Invalid config API_KEY \(from \.env:3\): too small/);
  assert.match(error.message, /Invalid config LOG_LEVEL \(from env\): invalid option/);
  for (const leaked of ["12abc", "yesno", "short-secret-value", "verbose-secret", "0x10", "fine"]) {
    assert.ok(!error.message.includes(leaked), `message leaks ${leaked}`);
  }
});

test("loadConfig() coerces environment strings strictly", async () => {
  const schema = z.object({
    INT: z.number().int(),
    NUM: z.number(),
    NEG: z.int(),
    BOOL_T: z.boolean(),
    BOOL_F: z.boolean(),
    BIG: z.bigint(),
    LIST: z.array(z.string()),
    PORTS: z.array(z.number().int()),
    JSON_LIST: z.array(z.number()),
    OBJ: z.object({ a: z.number() }),
    LIT: z.literal(3),
    WHEN: z.date(),
    OPT: z.number().optional(),
    PIPED: z.string().pipe(z.transform((s) => s.toUpperCase())),
  });
  const config = await loadConfig(schema, {
    ...quiet,
    dir: null,
    env: {
      INT: "42",
      NUM: "1.5e3",
      NEG: "-7",
      BOOL_T: "YES",
      BOOL_F: "false",
      BIG: "9007199254740993",
      LIST: "a, b ,c",
      PORTS: "80,443",
      JSON_LIST: "[1, 2.5]",
      OBJ: '{"a": 1}',
      LIT: "3",
      WHEN: "2026-11-22T00:00:00Z",
      OPT: "",
      PIPED: "abc",
    },
  });
  assert.deepEqual({ ...config.values }, {
    INT: 42,
    NUM: 1500,
    NEG: -7,
    BOOL_T: true,
    BOOL_F: false,
    BIG: 9007199254740993n,
    LIST: ["a", "b", "c"],
    PORTS: [80, 443],
    JSON_LIST: [1, 2.5],
    OBJ: { a: 1 },
    LIT: 3,
    WHEN: new Date("2026-11-22T00:00:00Z"),
    PIPED: "ABC",
  });
  assert.equal(config.has("OPT"), false, "an empty string counts as unset");

  const bad = async (key: keyof typeof schema.shape, value: string): Promise<string> => {
    const source: Record<string, string> = {
      INT: "1",
      NUM: "1",
      NEG: "1",
      BOOL_T: "true",
      BOOL_F: "true",
      BIG: "1",
      LIST: "a",
      PORTS: "1",
      JSON_LIST: "[1]",
      OBJ: '{"a":1}',
      LIT: "3",
      WHEN: "2026-01-01",
      PIPED: "x",
      [key]: value,
    };
    const error = await loadConfig(schema, { ...quiet, dir: null, env: source }).catch((
      e: unknown,
    ) => e);
    assert.ok(error instanceof ConfigError, `${key}=${value} should fail`);
    return error.issues[0]?.rule ?? "";
  };
  assert.match(await bad("INT", "12abc"), /integer/);
  assert.match(await bad("INT", "0x1F"), /integer/);
  assert.match(await bad("INT", "1.5"), /integer/);
  assert.match(await bad("NUM", "1,5"), /number/);
  assert.match(await bad("BOOL_T", "fals"), /boolean/);
  assert.match(await bad("BOOL_T", "2"), /boolean/);
  assert.match(await bad("BIG", "1e3"), /integer/);
  assert.match(await bad("PORTS", "80,http"), /item 2 must be an integer/);
  assert.match(await bad("JSON_LIST", "[1,"), /JSON array/);
  assert.match(await bad("OBJ", "a=1"), /JSON object/);
  assert.match(await bad("OBJ", '{"__proto__": {"x": 1}}'), /__proto__/);
  assert.match(await bad("WHEN", "yesterday"), /ISO 8601/);
  assert.match(await bad("LIT", "4"), /invalid input/i);
});

test("loadConfig() gives string fields the text of typed YAML and JSON scalars", async () => {
  const schema = z.object({ VERSION: z.string(), FLAG: z.string(), PORT: z.number() });
  const config = await loadConfig(schema, {
    ...quiet,
    dir: null,
    files: [{ name: "config.yaml", content: "version: 2.5\nflag: true\nport: 8080\n" }],
  });
  assert.deepEqual({ ...config.values }, { VERSION: "2.5", FLAG: "true", PORT: 8080 });
});

test("loadConfig() treats empty strings as unset so defaults and required rules apply", async () => {
  const schema = z.object({ PORT: z.number().default(8080), HOST: z.string() });
  const error = await loadConfig(schema, { ...quiet, dir: null, env: { PORT: "", HOST: "" } })
    .catch((e: unknown) => e);
  assert.ok(error instanceof ConfigError);
  assert.deepEqual(error.issues, [{ key: "HOST", source: "unset", rule: "required" }]);
});

test("loadConfig() strips envPrefix and reads only prefixed variables", async () => {
  const schema = z.object({ PORT: z.number(), HOST: z.string().default("localhost") });
  const config = await loadConfig(schema, {
    ...quiet,
    dir: null,
    envPrefix: "APP_",
    env: { APP_PORT: "81", PORT: "82", HOST: "ignored.example" },
  });
  assert.equal(config.values.PORT, 81);
  assert.equal(config.values.HOST, "localhost");
});

test("loadConfig() reports malformed YAML and JSON with file, line and column", async () => {
  const schema = z.object({ A: z.string().optional() });
  const cases: [string, string, string, number, number][] = [
    ["config.yaml", "a: 1\nb:\n  c: 2\n d: 3\n", "config_invalid_yaml", 4, 1],
    ["config.yaml", "port: 1\nport: 2\n", "config_invalid_yaml", 2, 1],
    ["config.yml", "password: 'unterminated", "config_invalid_yaml", 1, 24],
    ["config.json", '{\n  "a": 1,\n  "b": [1, 2,]\n}', "config_invalid_json", 3, 14],
    ["config.json", '{\n  "a": 1\n  "b": 2\n}', "config_invalid_json", 3, 3],
    ["config.json", '{"a": 1, "a": 2}', "config_invalid_json", 1, 10],
    ["config.json", '{"a": "x', "config_invalid_json", 1, 7],
    ["config.json", "[1, 2]", "config_invalid_json", 1, 1],
    ["config.yaml", "- a\n- b\n", "config_invalid_yaml", 1, 1],
  ];
  for (const [name, content, code, line, column] of cases) {
    const error = await loadConfig(schema, { ...quiet, dir: null, files: [{ name, content }] })
      .catch((e: unknown) => e);
    assert.ok(error instanceof ConfigParseError, `${name}: ${content}`);
    assert.equal(error.code, code, content);
    assert.deepEqual([error.line, error.column], [line, column], content);
    assert.ok(
      error.message.startsWith(`Cannot load config file ${name}:${line}:${column}: `),
      error.message,
    );
  }
  const duplicate = await loadConfig(schema, {
    ...quiet,
    dir: null,
    files: [{ name: "config.yaml", content: "port: 1\nport: 2\n" }],
  }).catch((e: unknown) => e);
  assert.match(String((duplicate as Error).message), /duplicate key/);
  const password = await loadConfig(schema, {
    ...quiet,
    dir: null,
    files: [{ name: "config.yml", content: "password: 'hunter2-secret" }],
  }).catch((e: unknown) => e);
  assert.ok(!String((password as Error).message).includes("hunter2"));
});

test("loadConfig() rejects prototype-polluting keys from every source", async () => {
  const schema = z.object({ A: z.string().optional() });
  const sources = [
    { files: [{ name: "config.yaml", content: "__proto__:\n  polluted: yes\n" }] },
    { files: [{ name: "config.yaml", content: "a:\n  constructor:\n    prototype: 1\n" }] },
    { files: [{ name: "config.json", content: '{"a": {"__proto__": {"polluted": true}}}' }] },
    { dotenv: [{ name: ".env", content: "__proto__=x" }] },
  ];
  for (const extra of sources) {
    await assert.rejects(loadConfig(schema, { ...quiet, dir: null, ...extra }), ConfigParseError);
  }
  await assert.rejects(
    loadConfig(schema, { ...quiet, dir: null, overrides: JSON.parse('{"__proto__": {"x": 1}}') }),
    TypeError,
  );
  const config = await loadConfig(schema, {
    ...quiet,
    dir: null,
    env: { __proto__: "x" } as never,
  });
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  assert.equal(config.has("A"), false);
});

test("loadConfig() freezes the values deeply", async () => {
  const schema = z.object({ FEATURES: z.object({ beta: z.boolean() }), LIST: z.array(z.string()) });
  const config = await loadConfig(schema, {
    ...quiet,
    dir: null,
    files: [{ name: "config.yaml", content: "features:\n  beta: true\nlist: [a, b]\n" }],
  });
  assert.equal(config.values.FEATURES.beta, true, "object-typed fields are not flattened");
  assert.ok(Object.isFrozen(config.values));
  assert.ok(Object.isFrozen(config.values.FEATURES));
  assert.ok(Object.isFrozen(config.values.LIST));
  assert.ok(Object.isFrozen(config));
  assert.throws(() => {
    (config.values.LIST as string[]).push("c");
  }, TypeError);
});

test("Config getters read dotted keys and convert like Viper", async () => {
  const schema = z.object({
    DATABASE_URL: z.string(),
    DB_POOL_MAX: z.number().int(),
    RATE: z.number(),
    DEBUG: z.boolean(),
    LABEL: z.string(),
    BIG: z.bigint(),
    LIST: z.array(z.string()),
    NUMERIC_TEXT: z.string(),
    BOOL_TEXT: z.string(),
  });
  const config = await loadConfig(schema, {
    ...quiet,
    dir: null,
    env: {
      DATABASE_URL: "postgres://db/app",
      DB_POOL_MAX: "25",
      RATE: "0.5",
      DEBUG: "on",
      LABEL: "x",
      BIG: "12",
      LIST: "a,b",
      NUMERIC_TEXT: "17",
      BOOL_TEXT: "yes",
    },
  });
  assert.equal(config.get("database.url"), "postgres://db/app");
  assert.equal(config.get("DATABASE_URL"), "postgres://db/app");
  assert.equal(config.get("databaseUrl"), "postgres://db/app");
  assert.equal(config.getInt("db.pool.max"), 25);
  assert.equal(config.getInt("NUMERIC_TEXT"), 17);
  assert.equal(config.getInt("BIG"), 12);
  assert.equal(config.getNumber("rate"), 0.5);
  assert.equal(config.getNumber("NUMERIC_TEXT"), 17);
  assert.equal(config.getBool("debug"), true);
  assert.equal(config.getBool("BOOL_TEXT"), true);
  assert.equal(config.getString("DB_POOL_MAX"), "25");
  assert.equal(config.getString("BIG"), "12");
  assert.equal(config.has("LABEL"), true);
  assert.equal(config.has("NOT_IN_SCHEMA"), false);
  assert.equal(config.get("NOT_IN_SCHEMA"), undefined);
  assert.throws(() => config.getInt("LABEL"), /Cannot read config LABEL as an integer/);
  assert.throws(() => config.getNumber("LABEL"), TypeError);
  assert.throws(() => config.getBool("LABEL"), TypeError);
  assert.throws(() => config.getString("LIST"), /as a string/);
  assert.throws(() => config.getString("missing.key"), /MISSING_KEY: it is not set/);
});

test("Config.explain() and toJSON() redact keys named like nested secrets: PASS, PWD, PASSWD, APIKEY", async () => {
  const names = ["SMTP_PASS", "DB_PWD", "REDIS_PASSWD", "MAPS_APIKEY", "AWS_SECRET_ACCESS_KEY"];
  const shape: Record<string, z.ZodString> = {};
  const source: Record<string, string> = {};
  names.forEach((name, i) => {
    shape[name] = z.string();
    source[name] = `s3cret-${i}`;
  });
  const config = await loadConfig(z.object({ ...shape, PASSENGER_LIMIT: z.string() }), {
    ...quiet,
    dir: null,
    env: { ...source, PASSENGER_LIMIT: "12" },
  });
  for (const name of names) {
    assert.deepEqual(
      [config.explain(name)?.secret, config.explain(name)?.value],
      [true, "[REDACTED]"],
      name,
    );
  }
  assert.ok(!JSON.stringify(config).includes("s3cret"), JSON.stringify(config));
  assert.equal(config.explain("PASSENGER_LIMIT")?.value, "12", "PASS must be a whole segment");
});

test("Config.explain() and toJSON() redact secrets and URL passwords", async () => {
  const schema = z.object({
    DB_PASSWORD: z.string(),
    STRIPE_API_KEY: z.string(),
    JWT_SECRET: z.string(),
    SESSION_TOKEN: z.string(),
    TLS_PRIVATE_KEY: z.string(),
    CUSTOM: z.string(),
    MARKED: z.string().meta({ secret: true }).optional(),
    DATABASE_URL: z.string(),
    PORT: z.number(),
  });
  const values = {
    DB_PASSWORD: "pw-1",
    STRIPE_API_KEY: "sk-2",
    JWT_SECRET: "js-3",
    SESSION_TOKEN: "st-4",
    TLS_PRIVATE_KEY: "pk-5",
    CUSTOM: "cu-6",
    MARKED: "mk-7",
    DATABASE_URL: "postgres://app:dbpass-8@db:5432/app",
    PORT: "80",
  };
  const config = await loadConfig(schema, {
    ...quiet,
    dir: null,
    secrets: ["custom"],
    env: values,
    dotenv: [{ name: ".env", content: "JWT_SECRET=dotenv-9" }],
  });
  for (
    const key of [
      "DB_PASSWORD",
      "STRIPE_API_KEY",
      "JWT_SECRET",
      "SESSION_TOKEN",
      "TLS_PRIVATE_KEY",
      "CUSTOM",
      "MARKED",
    ]
  ) {
    const why = config.explain(key);
    assert.equal(why?.secret, true, key);
    assert.equal(why?.value, "[REDACTED]", key);
  }
  assert.deepEqual(config.explain("JWT_SECRET")?.layers, [
    { source: "env", value: "[REDACTED]" },
    { source: ".env:1", value: "[REDACTED]" },
  ]);
  assert.equal(config.explain("DATABASE_URL")?.value, "postgres://app:[REDACTED]@db:5432/app");
  assert.equal(config.explain("PORT")?.value, "80");
  assert.equal(config.explain("NOT_IN_SCHEMA"), undefined);
  const printed = JSON.stringify(config);
  for (
    const secret of ["pw-1", "sk-2", "js-3", "st-4", "pk-5", "cu-6", "mk-7", "dbpass-8", "dotenv-9"]
  ) {
    assert.ok(!printed.includes(secret), `toJSON leaks ${secret}`);
  }
  assert.equal(JSON.parse(printed).PORT, 80);
  assert.equal(config.values.DB_PASSWORD, "pw-1", "values themselves are intact");
});

test("Config.explain() and toJSON() mask passwords in URL, query and keyword DSN forms", async () => {
  const values: Record<string, string> = {
    SPACE_URL: "postgres://app:pw one@db/app",
    HASH_URL: "postgres://app:pw#two@db/app",
    QUERY_MARK_URL: "postgres://app:pw?three@db/app",
    SLASH_URL: "postgres://app:pw/four@db/app",
    LEADING_URL: "  postgres://app:pw-five@db/app",
    QUERY_URL: "postgres://app@db/app?password=pw-six",
    AMP_URL: "postgres://db/app?sslmode=require&password=pw-seven",
    KEYWORD_DSN: "host=db user=app password=pw-eight dbname=app",
    QUOTED_DSN: "host=db password='pw nine' dbname=app",
    UNPARSABLE_DSN: "host=db password='pw-ten",
  };
  const schema = z.object({
    ...Object.fromEntries(Object.keys(values).map((key) => [key, z.string()])),
    REPLICAS: z.array(z.string()),
    POOL: z.record(z.string(), z.string()),
  });
  const config = await loadConfig(schema, {
    ...quiet,
    dir: null,
    env: { ...values, REPLICAS: "postgres://r:pw-eleven@r1/app, postgres://r2/app" },
    dotenv: [{ name: ".env", content: "SPACE_URL='postgres://app:pw twelve@db/app'" }],
    files: [{
      name: "config.yaml",
      content: "pool:\n  dsn: 'host=db password=pw-13'\n  password: pw-14\n",
    }],
  });
  const secrets = [
    "pw one",
    "pw#two",
    "pw?three",
    "pw/four",
    "pw-five",
    "pw-six",
    "pw-seven",
    "pw-eight",
    "pw nine",
    "pw-ten",
    "pw-eleven",
    "pw twelve",
    "pw-13",
    "pw-14",
  ];
  const printed = [
    JSON.stringify(config),
    ...Object.keys(schema.shape).map((key) => JSON.stringify(config.explain(key))),
  ].join("\n");
  for (const secret of secrets) assert.ok(!printed.includes(secret), `leaks ${secret}`);
  assert.equal(config.explain("QUOTED_DSN")?.value, "host=db password='[REDACTED]' dbname=app");
  assert.equal(config.explain("UNPARSABLE_DSN")?.value, "[REDACTED]");
  assert.equal(config.explain("LEADING_URL")?.value, "  postgres://app:[REDACTED]@db/app");
  assert.deepEqual(config.toJSON().REPLICAS, [
    "postgres://r:[REDACTED]@r1/app",
    "postgres://r2/app",
  ]);
  assert.deepEqual(config.toJSON().POOL, {
    dsn: "host=db password=[REDACTED]",
    password: "[REDACTED]",
  });
  assert.equal(config.get("QUOTED_DSN"), values.QUOTED_DSN, "values themselves are intact");
});

test("loadConfig() warns about unknown file keys, .env duplicates and unset references", async () => {
  const warnings: ConfigWarning[] = [];
  await loadConfig(z.object({ DATABASE_URL: z.string() }), {
    dir: null,
    onWarning: (w) => warnings.push(w),
    files: [{ name: "config.yaml", content: "database:\n  url: x\ndatabse_url: typo\n" }],
    dotenv: [{ name: ".env", content: "A=1\nA=2\nB=${NOT_SET}\n" }],
  });
  assert.deepEqual(warnings.map((w) => w.source), [
    ".env:2",
    ".env:3",
    "config.yaml:3",
    ".env:2",
    ".env:3",
  ]);
  assert.match(warnings[2]?.message ?? "", /DATABSE_URL is not in the schema/);
});

/** Runs `fn` with console.log captured. */
async function capturingStdout(fn: () => Promise<unknown>): Promise<string[]> {
  const original = console.log;
  const lines: string[] = [];
  console.log = (line: string) => lines.push(line);
  try {
    await fn().catch(() => {});
  } finally {
    console.log = original;
  }
  return lines;
}

test("loadConfig() writes warnings by default as JSON lines shaped like @plinth/logging's", async () => {
  const lines = await capturingStdout(() =>
    loadConfig(z.object({ A: z.string().optional(), SERVICE_NAME: z.string().optional() }), {
      dir: null,
      env: {},
      dotenv: [{ name: ".env", content: "A=${NOPE}\nSERVICE_NAME=billing" }],
    })
  );
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0] as string);
  assert.deepEqual(Object.keys(line), [
    "timestamp",
    "level",
    "service_name",
    "message",
    "config_source",
  ]);
  assert.match(line.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual({ ...line, timestamp: "" }, {
    timestamp: "",
    level: "warn",
    service_name: "billing", // from .env, as the service's logger would be told
    message: 'A references ${NOPE}, which is not set; it expands to ""',
    config_source: ".env:1",
  });
});

test("loadConfig() writes its default warning lines even when loading fails, and honours LOG_LEVEL", async () => {
  const schema = z.object({ PORT: z.number() });
  const failed = await capturingStdout(() =>
    loadConfig(schema, {
      dir: null,
      env: { SERVICE_NAME: "api" },
      files: [{ name: "config.yaml", content: "prot: 80" }],
    })
  );
  assert.equal(failed.length, 1);
  assert.equal(JSON.parse(failed[0] as string).service_name, "api");
  assert.equal(JSON.parse(failed[0] as string).config_source, "config.yaml:1");
  const unnamed = await capturingStdout(() =>
    loadConfig(schema, {
      dir: null,
      env: { PORT: "1" },
      dotenv: [{ name: ".env", content: "X=1" }],
    })
  );
  assert.equal(JSON.parse(unnamed[0] as string).service_name, "unknown_service");
  for (const level of ["error", " FATAL ", "silent"]) {
    const quiet = await capturingStdout(() =>
      loadConfig(schema, {
        dir: null,
        env: { PORT: "1", LOG_LEVEL: level },
        dotenv: [{ name: ".env", content: "X=1" }],
      })
    );
    assert.deepEqual(quiet, [], level);
  }
});

test("loadConfig() sends warnings to a logger option and to onWarning instead of stdout", async () => {
  const calls: unknown[][] = [];
  const hooked: ConfigWarning[] = [];
  const lines = await capturingStdout(() =>
    loadConfig(z.object({ PORT: z.number() }), {
      dir: null,
      env: { PORT: "1" },
      files: [{ name: "config.yaml", content: "prot: 80" }],
      logger: { warn: (...args: unknown[]) => calls.push(args) },
      onWarning: (warning) => hooked.push(warning),
    })
  );
  assert.deepEqual(lines, []);
  assert.deepEqual(calls, [[
    "PROT is not in the schema and is ignored",
    { config_source: "config.yaml:1" },
  ]]);
  assert.deepEqual(hooked, [{
    source: "config.yaml:1",
    message: "PROT is not in the schema and is ignored",
  }]);
  await assert.rejects(
    loadConfig(z.object({}), { dir: null, logger: {} as never }),
    /Invalid loadConfig option logger/,
  );
  await assert.rejects(
    loadConfig(z.object({}), { dir: null, onWarning: "warn" as never }),
    /Invalid loadConfig option onWarning/,
  );
});

test("loadConfig() expands .env references across files and from the OS environment", async () => {
  const schema = z.object({ BASE: z.string(), URL: z.string(), HOME_DIR: z.string() });
  const config = await loadConfig(schema, {
    ...quiet,
    dir: null,
    env: { HOME: "/home/app" },
    dotenv: [
      { name: ".env", content: "BASE=http://base" },
      { name: ".env.local", content: "URL=${BASE}/v1\nHOME_DIR=${HOME}" },
    ],
  });
  assert.equal(config.values.URL, "http://base/v1");
  assert.equal(config.values.HOME_DIR, "/home/app");
});

test("loadConfig() fails clearly for a named file that is missing, and reads through readFile", async () => {
  const schema = z.object({ A: z.string().optional() });
  using tmp = tempDir({});
  await assert.rejects(
    loadConfig(schema, { ...quiet, dir: tmp.dir, files: ["settings.yaml"], env: {} }),
    /Cannot load config file settings\.yaml: the file does not exist/,
  );
  const read: string[] = [];
  const config = await loadConfig(schema, {
    ...quiet,
    dir: "/etc/app/",
    env: {},
    readFile: (path) => {
      read.push(path);
      return path === "/etc/app/config.yaml" ? "a: from-reader" : undefined;
    },
  });
  assert.equal(config.values.A, "from-reader");
  assert.ok(read.includes("/etc/app/.env.development"));
  await assert.rejects(
    loadConfig(schema, {
      ...quiet,
      env: {},
      readFile: () => {
        throw new ConfigParseError("cannot read the file (EACCES)", {
          code: "config_file_unreadable",
          file: "config.yaml",
        });
      },
    }),
    /EACCES/,
  );
});

test("loadConfig() reports an unreadable file with its code", async () => {
  using tmp = tempDir({});
  // A directory where a file is expected cannot be read as text.
  const { mkdirSync } = await import("node:fs");
  mkdirSync(join(tmp.dir, "config.yaml"));
  const error = await loadConfig(z.object({}), { ...quiet, dir: tmp.dir, env: {} }).catch((
    e: unknown,
  ) => e);
  assert.ok(error instanceof ConfigParseError);
  assert.equal(error.code, "config_file_unreadable");
  assert.match(error.message, /EISDIR/);
});

test("loadConfig() checks its schema and options", async () => {
  await assert.rejects(loadConfig(z.string() as never), /must be a zod object/);
  await assert.rejects(
    loadConfig(z.object({ port: z.number() }), { dir: null }),
    /environment-style/,
  );
  const schema = z.object({ A: z.string().optional() });
  await assert.rejects(loadConfig(schema, { dir: null, environment: "a/b" }), TypeError);
  await assert.rejects(loadConfig(schema, { dir: null, envPrefix: "A-" }), /envPrefix/);
  await assert.rejects(loadConfig(schema, { dir: 5 as never }), /dir/);
  await assert.rejects(loadConfig(schema, { dir: null, files: "config.yaml" as never }), /files/);
});

test("loadConfig() reads variables from the env option and refuses the old source option", async () => {
  const schema = z.object({ PORT: z.number() });
  const config = await loadConfig(schema, { ...quiet, dir: null, env: { PORT: "81" } });
  assert.equal(config.values.PORT, 81);
  assert.equal(config.explain("PORT")?.source, "env");
  await assert.rejects(
    loadConfig(schema, { ...quiet, dir: null, source: { PORT: "81" } } as never),
    {
      name: "TypeError",
      message: "Invalid loadConfig option source: the environment record is passed as env",
    },
  );
  for (const env of [null, "PORT=81", ["PORT=81"]]) {
    await assert.rejects(
      loadConfig(schema, { ...quiet, dir: null, env: env as never }),
      {
        name: "TypeError",
        message: "Invalid loadConfig option env: must be a record of variable names to strings",
      },
    );
  }
});

test("loadConfig() reads the process environment by default", async () => {
  const config = await loadConfig(z.object({ PATH: z.string() }), { ...quiet, dir: null });
  assert.ok(config.values.PATH.length > 0);
  assert.equal(config.explain("PATH")?.source, "env");
});

test("loadConfig() looks up only the schema's variables, APP_ENV/NODE_ENV and .env references, never listing env", async () => {
  const asked: string[] = [];
  const values: Record<string, string> = { SVC_PORT: "81", SVC_HOST: "h", HOME: "/home/app" };
  const env = new Proxy(values, {
    get: (target, name) => {
      if (typeof name === "string") asked.push(name);
      return Reflect.get(target, name);
    },
    getOwnPropertyDescriptor: (target, name) => {
      if (typeof name === "string") asked.push(name);
      return Reflect.getOwnPropertyDescriptor(target, name);
    },
    ownKeys: () => {
      throw new Error("the environment was listed");
    },
  });
  const config = await loadConfig(z.object({ PORT: z.number(), DATA: z.string() }), {
    ...quiet,
    dir: null,
    envPrefix: "SVC_",
    env,
    dotenv: [{ name: ".env", content: "DATA=${HOME}/data" }],
  });
  assert.equal(config.values.PORT, 81);
  assert.equal(config.values.DATA, "/home/app/data");
  assert.deepEqual(
    [...new Set(asked)].sort(),
    ["APP_ENV", "HOME", "NODE_ENV", "SVC_DATA", "SVC_PORT"],
  );
});
