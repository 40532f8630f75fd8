import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

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
    assert.equal(denied[2]?.code, "config_env_unreadable");
    assert.match(denied[2]?.text ?? "", /^Cannot read the environment: .*--allow-env.*pass `env`/);
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
