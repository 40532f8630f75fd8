// The service's settings: `.env.example` lists every key with a value the schema accepts, and a
// bad value fails at start with an error that names the key and never echoes the value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseDotenv } from "@plinth/config";
import { loadSettings, SettingsSchema } from "./settings.ts";

const example = readFileSync(new URL("./.env.example", import.meta.url), "utf8");

test(".env.example lists every setting, and its values load", async () => {
  // Commented-out lines are settings too: uncomment them all.
  const uncommented = example.split("\n").map((l) => l.replace(/^# ?(?=[A-Z_]+=)/, "")).join("\n");
  const values = parseDotenv(uncommented);
  const listed = Object.keys(values).filter((k) => k in SettingsSchema.shape);
  assert.deepEqual(listed.sort(), Object.keys(SettingsSchema.shape).sort());
  const { JWT_SECRET: _unset, ...rest } = values;
  const config = await loadSettings({
    env: { ...rest, JWT_SECRET: "x".repeat(32), UPSTREAM_URL: "https://api.example.com/v1" },
  });
  assert.equal(config.values.PORT, 8000);
  assert.equal(config.values.DEV_SIGN_IN, true); // listed commented out: uncommented above
  assert.equal(config.values.DATABASE_URL, "postgres://postgres@127.0.0.1:5432/test");
});

test("a bad setting names its key, not its value", async () => {
  const secret = "short-secret";
  const error = await loadSettings({ env: { PORT: "eighty", JWT_SECRET: secret } }).then(
    () => undefined,
    (e: Error & { issues?: { key: string }[] }) => e,
  );
  assert.ok(error instanceof Error);
  const keys = (error.issues ?? []).map((i) => i.key).sort();
  assert.deepEqual(keys, ["JWT_SECRET", "PORT"]);
  assert.match(error.message, /PORT/);
  assert.doesNotMatch(`${error.message} ${JSON.stringify(error.issues)}`, new RegExp(secret));
});

test("defaults: the embedded development set-up", async () => {
  const config = await loadSettings({ env: {} });
  assert.equal(config.values.DATABASE_URL, undefined);
  assert.equal(config.values.NATS_URL, undefined);
  assert.equal(config.values.JWT_SECRET, undefined);
  assert.equal(config.values.REFRESH_REUSE_GRACE_MS, 0);
  assert.equal(config.values.EMBEDDED_DATA_DIR, ".data/pglite");
  assert.equal(config.values.DEV_SIGN_IN, undefined); // on, except in production
});

test("production refuses the embedded defaults, naming what is missing", async () => {
  const { startService } = await import("./service.ts");
  const config = await loadSettings({ env: { JWT_SECRET: "x".repeat(40) } });
  await assert.rejects(
    startService(config.values, { environment: "production", listen: false }),
    {
      code: "config_invalid",
      message: /Cannot start in production without DATABASE_URL, NATS_URL, UPSTREAM_URL$/,
    },
  );
});

test("production refuses DEV_SIGN_IN", async () => {
  const { startService } = await import("./service.ts");
  const full = {
    JWT_SECRET: "x".repeat(40),
    DATABASE_URL: "postgres://127.0.0.1:1/none",
    NATS_URL: "nats://127.0.0.1:1",
    UPSTREAM_URL: "https://api.example.com/v1",
  };
  const on = await loadSettings({ env: { ...full, DEV_SIGN_IN: "true" } });
  await assert.rejects(
    startService(on.values, { environment: "production", listen: false }),
    { code: "config_invalid", message: /Cannot start in production with DEV_SIGN_IN/ },
  );
});
