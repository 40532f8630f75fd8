import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { listDirectory, nodeFs, readFileFromDisk } from "./_read.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..");

/** The repository's Deno, else the Deno running this test, else none. */
function denoBinary(): string | undefined {
  const local = join(root, "node_modules", ".bin", "deno");
  if (existsSync(local)) return local;
  const versions = process.versions as Record<string, string | undefined>;
  return versions.deno !== undefined ? process.execPath : undefined;
}

interface Outcome {
  ok: boolean;
  text: string;
  code?: string;
}

/**
 * Runs `attempts` (source of an array of functions returning a loadConfig promise) in a Deno
 * process with the given permission flags and environment, in `dir`; each outcome is the
 * values as JSON, or the error's message and code.
 */
async function runUnderDeno(
  deno: string,
  dir: string,
  flags: string[],
  schema: string,
  attempts: string,
  env: Record<string, string> = {},
): Promise<Outcome[]> {
  const script = join(dir, "load.ts");
  writeFileSync(
    script,
    `import { loadConfig } from ${JSON.stringify(pathToFileURL(join(here, "mod.ts")).href)};
import { z } from "zod";
const schema = ${schema};
const attempts = ${attempts};
const outcomes = [];
for (const attempt of attempts) {
  try {
    const config = await attempt();
    outcomes.push({ ok: true, text: JSON.stringify(config.values) });
  } catch (error) {
    outcomes.push({ ok: false, text: error.message, code: error.code });
  }
}
console.log(JSON.stringify(outcomes));
`,
  );
  const args = ["run", "--no-prompt", "--no-lock", "--config", join(root, "deno.json"), ...flags];
  const child = spawn(deno, [...args, script], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.on("close", resolve));
  assert.equal(code, 0, stderr);
  // Default warning lines (a .env key the schema lacks) come first; the outcomes are last.
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Outcome[];
}

/** Runs five loads in a Deno process with the given permission flags, in a directory holding config.yaml. */
async function loadUnderDeno(deno: string, dir: string, flags: string[]): Promise<Outcome[]> {
  const script = join(dir, "load.ts");
  writeFileSync(
    script,
    `import { loadConfig } from ${JSON.stringify(pathToFileURL(join(here, "mod.ts")).href)};
import { z } from "zod";
const schema = z.object({ REGION: z.string().optional() });
const attempts = [
  () => loadConfig(schema, { env: {} }),
  () => loadConfig(schema, { env: {}, dir: ${JSON.stringify(dir)} }),
  () => loadConfig(schema, { dir: null }),
  () => loadConfig(schema, {
    env: {},
    files: [{ name: "config.yaml", content: "region: in-memory" }],
    dotenv: false,
  }),
  () => loadConfig(schema, {
    env: {},
    files: [{ name: "config.json", content: '{ "region": "json" }' }],
    dotenv: false,
  }),
];
const outcomes = [];
for (const attempt of attempts) {
  try {
    const config = await attempt();
    outcomes.push({ ok: true, text: String(config.values.REGION) });
  } catch (error) {
    outcomes.push({ ok: false, text: error.message, code: error.code });
  }
}
console.log(JSON.stringify(outcomes));
`,
  );
  const args = ["run", "--no-prompt", "--no-lock", "--config", join(root, "deno.json"), ...flags];
  const child = spawn(deno, [...args, script], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.on("close", resolve));
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as Outcome[];
}

test("loadConfig() on Deno names the missing --allow-read and --allow-env permissions", async (t) => {
  const deno = denoBinary();
  if (deno === undefined) {
    t.skip("no Deno binary: node_modules/.bin/deno is not installed");
    console.log("skipped: no Deno binary at node_modules/.bin/deno");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "plinth-config-perm-"));
  try {
    writeFileSync(join(dir, "config.yaml"), "region: eu-west-1\n");

    const denied = await loadUnderDeno(deno, dir, []);
    assert.equal(denied[0]?.ok, false);
    assert.equal(denied[0]?.code, "config_file_unreadable");
    assert.equal(
      denied[0]?.text,
      "Cannot load config file ./: read permission is missing for this directory: " +
        "run Deno with --allow-read=., or pass dir: null to read no files",
    );
    assert.equal(denied[1]?.ok, false);
    assert.equal(
      denied[1]?.text,
      `Cannot load config file ${dir}: read permission is missing for this directory: ` +
        `run Deno with --allow-read=${dir}, or pass dir: null to read no files`,
    );
    assert.equal(denied[2]?.ok, false);
    assert.deepEqual(denied[2], {
      ok: false,
      text: "Cannot read environment variable APP_ENV: env permission is missing: run Deno with " +
        "--allow-env=APP_ENV,NODE_ENV,REGION, or pass `env`",
      code: "config_env_unreadable",
    });
    // The yaml package reads two variables while it parses; JSON needs no permission at all.
    assert.deepEqual(denied[3], {
      ok: false,
      text: "Cannot load config file config.yaml: cannot parse YAML: the yaml package reads the " +
        "LOG_TOKENS and LOG_STREAM variables: run Deno with --allow-env=LOG_TOKENS,LOG_STREAM " +
        "(or --allow-env), or use a JSON file",
      code: "config_file_unreadable",
    });
    assert.deepEqual(denied[4], { ok: true, text: "json" });
    const narrow = await loadUnderDeno(deno, dir, ["--allow-env=LOG_TOKENS,LOG_STREAM"]);
    assert.deepEqual(narrow[3], { ok: true, text: "in-memory" }, "in-memory files need no read");

    const allowed = await loadUnderDeno(deno, dir, [`--allow-read=${dir}`, "--allow-env"]);
    assert.deepEqual(allowed, [
      { ok: true, text: "eu-west-1" },
      { ok: true, text: "eu-west-1" },
      { ok: true, text: "undefined" },
      { ok: true, text: "in-memory" },
      { ok: true, text: "json" },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("loadConfig() on Deno runs under --allow-env listing only the schema's names, and names a refused one", async (t) => {
  const deno = denoBinary();
  if (deno === undefined) {
    t.skip("no Deno binary: node_modules/.bin/deno is not installed");
    console.log("skipped: no Deno binary at node_modules/.bin/deno");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "plinth-config-env-"));
  try {
    writeFileSync(join(dir, "config.json"), '{ "region": "eu-west-1" }');
    writeFileSync(join(dir, ".env"), "DATABASE_URL=postgres://app@${DB_HOST}/app\n");
    const secret = "postgres://app:s3cret-value@db/app";
    const env = { PORT: "8080", DATABASE_URL: secret, SVC_PORT: "9090", DB_HOST: "db.internal" };
    const schema = "z.object({ PORT: z.number(), DATABASE_URL: z.string(), REGION: z.string() })";
    const attempts = `[
      () => loadConfig(schema, { dir: null, environment: "production", files: [{ name: "config.json", content: '{ "region": "mem" }' }] }),
      () => loadConfig(schema, { dir: null, files: [{ name: "config.json", content: '{ "region": "mem" }' }] }),
      () => loadConfig(z.object({ PORT: z.number() }), { dir: null, environment: "production", envPrefix: "SVC_" }),
      () => loadConfig(z.object({ PORT: z.number() }), { dir: ${
      JSON.stringify(dir)
    }, environment: "production", files: ["config.json"] }),
    ]`;
    const reads = `--allow-read=${dir}`;

    // Exactly the schema's names (prefixed with envPrefix), plus APP_ENV and NODE_ENV when
    // `environment` is not passed.
    const narrow = await runUnderDeno(
      deno,
      dir,
      [reads, "--allow-env=PORT,DATABASE_URL,REGION,SVC_PORT,DB_HOST"],
      schema,
      attempts,
      env,
    );
    const values = JSON.stringify({ PORT: 8080, DATABASE_URL: secret, REGION: "mem" });
    assert.deepEqual(narrow[0], { ok: true, text: values });
    assert.deepEqual(narrow[1], {
      ok: false,
      text: "Cannot read environment variable APP_ENV: env permission is missing: run Deno with " +
        "--allow-env=APP_ENV,NODE_ENV,PORT,DATABASE_URL,REGION, or pass `env`",
      code: "config_env_unreadable",
    });
    assert.deepEqual(narrow[2], { ok: true, text: JSON.stringify({ PORT: 9090 }) });
    // Files in dir and a .env reference: the referenced name is read from the environment.
    assert.deepEqual(narrow[3], { ok: true, text: JSON.stringify({ PORT: 8080 }) });

    const withEnvName = await runUnderDeno(
      deno,
      dir,
      ["--allow-env=APP_ENV,NODE_ENV,PORT,DATABASE_URL,REGION"],
      schema,
      attempts,
      env,
    );
    assert.deepEqual(withEnvName[1], { ok: true, text: values });

    // A schema name left out, and a .env reference left out: named, with the full list, no value.
    const refused = await runUnderDeno(
      deno,
      dir,
      [reads, "--allow-env=PORT,REGION"],
      schema,
      attempts,
      env,
    );
    assert.deepEqual(refused[0], {
      ok: false,
      text: "Cannot read environment variable DATABASE_URL: env permission is missing: run Deno " +
        "with --allow-env=PORT,DATABASE_URL,REGION, or pass `env`",
      code: "config_env_unreadable",
    });
    assert.deepEqual(refused[3], {
      ok: false,
      text: "Cannot read environment variable DB_HOST: env permission is missing: run Deno " +
        "with --allow-env=PORT,DB_HOST, or pass `env`",
      code: "config_env_unreadable",
    });
    for (const outcome of [...narrow, ...withEnvName, ...refused]) {
      if (!outcome.ok) assert.ok(!outcome.text.includes("s3cret"), outcome.text);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("nodeFs() finds node:fs through process.getBuiltinModule, with no import", () => {
  const fs = nodeFs();
  assert.equal(typeof fs?.readFileSync, "function");
  assert.equal(fs?.existsSync(join(here, "_read.ts")), true);
  const fake = { readFileSync: () => "text", existsSync: () => true, readdirSync: () => [] };
  const asked: unknown[] = [];
  const scope = {
    process: {
      getBuiltinModule: (name: string) => {
        asked.push(name);
        return fake;
      },
    },
  };
  assert.equal(nodeFs(scope), fake);
  assert.deepEqual(asked, ["node:fs"]);
});

test("nodeFs() is undefined where the runtime has no process, no getBuiltinModule or no node:fs", () => {
  assert.equal(nodeFs({}), undefined);
  assert.equal(nodeFs({ process: null }), undefined);
  assert.equal(nodeFs({ process: {} }), undefined);
  assert.equal(nodeFs({ process: { getBuiltinModule: () => undefined } }), undefined);
  assert.equal(nodeFs({ process: { getBuiltinModule: () => ({}) } }), undefined);
  const throwing = {
    getBuiltinModule: () => {
      throw new Error("No such built-in module: node:fs");
    },
  };
  assert.equal(nodeFs({ process: throwing }), undefined);
});

test("readFileFromDisk() and listDirectory() say no file system is available where node:fs is not", () => {
  const process = globalThis.process as { getBuiltinModule?: unknown };
  const original = Object.getOwnPropertyDescriptor(process, "getBuiltinModule");
  Object.defineProperty(process, "getBuiltinModule", {
    value: undefined,
    configurable: true,
    writable: true,
  });
  try {
    for (const attempt of [() => readFileFromDisk("config.yaml"), () => listDirectory(".")]) {
      assert.throws(attempt, (error: { code?: string; message?: string }) => {
        assert.equal(error.code, "config_file_unreadable");
        assert.match(error.message ?? "", /no file system is available here/);
        return true;
      });
    }
  } finally {
    if (original === undefined) delete process.getBuiltinModule;
    else Object.defineProperty(process, "getBuiltinModule", original);
  }
  assert.equal(typeof nodeFs()?.readFileSync, "function");
});
