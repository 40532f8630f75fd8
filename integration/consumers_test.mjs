// The npm artefact as its users get it. Builds and packs every package (`scripts/build.mjs`),
// then, in temporary folders outside the workspace, installs the tarballs the way a Node 20 or a
// Bun project would (their dependencies from the npm registry), imports every export of every
// entry point by name, type-checks a consumer with `tsc` against the shipped `.d.ts`, and serves a
// small service over real HTTP. The Node project installs the oldest Hono that every package's
// peer range accepts, the Bun project the newest: never the workspace's pinned copy.
// `@plinth/database` and `@plinth/events` talk to the real PostgreSQL and NATS.
//
// Run by the machine's Node: `node --test integration/consumers_test.mjs` (in `npm test`).
// PLINTH_PACKAGES=errors,logging narrows the build while developing; CI builds every member.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect } from "node:net";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const fixtures = join(root, "integration", "consumers");
const dist = join(root, "dist");
const ts = createRequire(import.meta.url)("typescript");
const inCI = process.env.CI === "true" || process.env.CI === "1";

const NODE_SERVER = "2.1.8";
const TYPES_NODE = "20.19.43";
const INSTALL_TIMEOUT = 240_000;

const base = mkdtempSync(join(tmpdir(), "plinth-consumers-"));
after(() => rmSync(base, { recursive: true, force: true }));

// Children get the user's environment without the workspace: no node_modules/.bin on PATH and
// no npm_* variables from an enclosing `npm test`.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)),
);
cleanEnv.PATH = (process.env.PATH ?? "").split(delimiter)
  .filter((dir) => !dir.includes("node_modules")).join(delimiter);
cleanEnv.NO_COLOR = "1";
cleanEnv.DATABASE_URL ??= "postgres://postgres@127.0.0.1:5432/test";
cleanEnv.NATS_URL ??= "nats://127.0.0.1:4222";

/** Runs a command to completion; resolves with its exit code and output. Never reads stdin. */
function run(command, args, { cwd, timeout = 120_000, env = cleanEnv } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolvePromise({ code: 127, stdout, stderr: `${stderr}${error.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

function assertRan(result, what) {
  assert.equal(
    result.code,
    0,
    `${what} exited ${result.code}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${
      result.stderr.slice(-4000)
    }`,
  );
}

/** The last line of output that parses as JSON. */
function lastJson(output) {
  const lines = output.trim().split("\n").reverse();
  for (const line of lines) {
    try {
      return JSON.parse(line);
    } catch {
      // not the report line
    }
  }
  throw new Error(`no JSON line in:\n${output.slice(-2000)}`);
}

/** Lazily computed, shared between the tests that need it; a failure fails each of them. */
function once(fn) {
  let promise;
  return () => (promise ??= fn());
}

function reachable(url, defaultPort) {
  const { hostname, port } = new URL(url);
  return new Promise((resolvePromise) => {
    const socket = connect({ host: hostname, port: Number(port || defaultPort) });
    const done = (ok) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

// --- The build --------------------------------------------------------------------------------

const workspace = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).workspace
  .map((m) => m.replace(/^\.\//, ""));
const chosen = process.env.PLINTH_PACKAGES?.split(",").map((s) => s.trim()).filter(Boolean);
const packages = chosen?.length ? chosen : workspace;

/** Each package: name, version, entry points (subpath → source file) and tarball path. */
const described = packages.map((dir) => {
  const deno = JSON.parse(readFileSync(join(root, dir, "deno.json"), "utf8"));
  const npm = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
  const exports = typeof deno.exports === "string" ? { ".": deno.exports } : deno.exports;
  return {
    dir,
    name: deno.name,
    version: deno.version,
    npm,
    exports,
    tarball: join(dist, `${deno.name.slice(1).replace("/", "-")}-${deno.version}.tgz`),
  };
});
/** `^4.8.0` → [4, 8, 0]. */
function caretMinimum(range) {
  const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range ?? "");
  assert.ok(m, `"${range}" is a caret range`);
  return m.slice(1).map(Number);
}
const honoFloors = described
  .map((p) => p.npm.peerDependencies?.hono)
  .filter(Boolean)
  .map(caretMinimum)
  .sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
/**
 * The Hono of the Node project: the oldest version every package's peer range accepts (not the
 * workspace's). The Bun project takes the newest in that range from the registry.
 */
const HONO = (honoFloors.at(-1) ?? [4, 6, 20]).join(".");

/**
 * The peer dependencies besides Hono (PGlite for `@plinth/database/embedded`, OpenTelemetry for
 * tracing…), at the declared ranges: a project importing every entry point installs them all.
 */
const peers = Object.fromEntries(
  described.flatMap((p) => Object.entries(p.npm.peerDependencies ?? {}))
    .filter(([name]) => name !== "hono" && !name.startsWith("@plinth/")),
);

/** Whether the package in folder `dir` is part of this run. */
function built(dir) {
  return described.some((p) => p.dir === dir);
}

/** Every import specifier of the installed packages: `@plinth/errors`, `@plinth/errors/hono`… */
const specifiers = described.flatMap((p) =>
  Object.keys(p.exports).map((sub) => ({
    pkg: p,
    specifier: sub === "." ? p.name : `${p.name}/${sub.replace(/^\.\//, "")}`,
    source: join(root, p.dir, p.exports[sub]),
  }))
);

const build = once(async () => {
  const result = await run(process.execPath, [join(root, "scripts", "build.mjs"), ...packages], {
    cwd: root,
    env: { ...cleanEnv, PATH: process.env.PATH ?? "" },
    timeout: 300_000,
  });
  assertRan(result, "npm run build");
  return result;
});

/** The package.json inside a tarball. */
async function packedManifest(tarball) {
  const result = await run("tar", ["-xzOf", tarball, "package/package.json"]);
  assertRan(result, `tar ${tarball}`);
  return JSON.parse(result.stdout);
}

test("npm run build packs every package: JS, .d.ts and a package.json, no tests, no TypeScript source", async () => {
  await build();
  for (const p of described) {
    assert.ok(existsSync(p.tarball), `${p.tarball} exists`);
    const list = await run("tar", ["-tzf", p.tarball]);
    assertRan(list, `tar -tzf ${p.tarball}`);
    const files = list.stdout.trim().split("\n").map((f) => f.replace(/^package\//, ""));
    assert.deepEqual(
      files.filter((f) => /_test\.|_testing|(?<!\.d)\.ts$/.test(f)),
      [],
      `${p.name} ships no test and no .ts source`,
    );
    for (const file of ["package.json", "README.md", "LICENSE"]) {
      assert.ok(files.includes(file), `${p.name} ships ${file}`);
    }
    const manifest = await packedManifest(p.tarball);
    assert.equal(manifest.name, p.name);
    assert.equal(manifest.version, p.version);
    assert.equal(manifest.type, "module");
    assert.equal(manifest.private, undefined, `${p.name}'s built package.json is publishable`);
    assert.deepEqual(Object.keys(manifest.exports), Object.keys(p.exports));
    for (const [sub, { types, default: js }] of Object.entries(manifest.exports)) {
      assert.ok(files.includes(types.slice(2)), `${p.name} ${sub}: ${types} is in the tarball`);
      assert.ok(files.includes(js.slice(2)), `${p.name} ${sub}: ${js} is in the tarball`);
    }
    assert.deepEqual(manifest.dependencies, p.npm.dependencies, `${p.name} dependencies`);
    assert.deepEqual(manifest.peerDependencies, p.npm.peerDependencies, `${p.name} peers`);
    for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
      assert.match(range, /^\^\d/, `${p.name}: ${dep} is a caret range`);
    }
  }
});

/** package.json dependencies naming every tarball, so no @plinth/* comes from the registry. */
async function tarballDependencies(pkgs = described) {
  await build();
  const names = new Set(pkgs.map((p) => p.name));
  for (const p of pkgs) {
    const manifest = await packedManifest(p.tarball);
    const wanted = { ...manifest.dependencies };
    for (const [dep, meta] of Object.entries(manifest.peerDependenciesMeta ?? {})) {
      if (!meta.optional) wanted[dep] = manifest.peerDependencies[dep];
    }
    for (const dep of Object.keys(wanted)) {
      if (dep.startsWith("@plinth/")) {
        assert.ok(names.has(dep), `${p.name} needs ${dep}, which was not built (PLINTH_PACKAGES)`);
      }
    }
  }
  return Object.fromEntries(pkgs.map((p) => [p.name, `file:${p.tarball}`]));
}

function npmInstall(cwd) {
  return run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], {
    cwd,
    timeout: INSTALL_TIMEOUT,
  });
}

// --- Node 20 project --------------------------------------------------------------------------

const nodeDir = join(base, "node-app");

const nodeProject = once(async () => {
  const deps = await tarballDependencies();
  cpSync(fixtures, nodeDir, { recursive: true });
  rmSync(join(nodeDir, "bun_main.ts"));
  for (const dir of ["database", "events"]) {
    // Only while developing with PLINTH_PACKAGES: a package that was not built.
    if (!built(dir)) rmSync(join(nodeDir, `${dir}_main.ts`));
  }
  writeFileSync(
    join(nodeDir, "package.json"),
    JSON.stringify(
      {
        name: "node-consumer",
        private: true,
        type: "module",
        dependencies: {
          ...peers,
          ...deps,
          hono: HONO,
          "@hono/node-server": NODE_SERVER,
        },
        devDependencies: { "@types/node": TYPES_NODE },
      },
      null,
      2,
    ),
  );
  const result = await npmInstall(nodeDir);
  assertRan(result, "npm install (Node project)");
  return result;
});

test(`npm install puts the tarballs and their registry dependencies in a Node ${process.version} project`, async () => {
  await nodeProject();
  for (const p of described) {
    const installed = JSON.parse(
      readFileSync(join(nodeDir, "node_modules", p.name, "package.json"), "utf8"),
    );
    assert.equal(installed.version, p.version);
  }
  for (const dep of ["zod", "jose", "postgres", "yaml"]) {
    if (described.some((p) => dep in (p.npm.dependencies ?? {}))) {
      assert.ok(existsSync(join(nodeDir, "node_modules", dep)), `${dep} came from the registry`);
    }
  }
});

test(`the Node project has one Hono, its own ${HONO}: plinth's peer dependency brings no copy`, async () => {
  await nodeProject();
  const hono = JSON.parse(readFileSync(join(nodeDir, "node_modules/hono/package.json"), "utf8"));
  assert.equal(hono.version, HONO);
  const ls = await run("npm", ["ls", "hono", "--all", "--parseable"], { cwd: nodeDir });
  assertRan(ls, "npm ls hono");
  const copies = new Set(ls.stdout.trim().split("\n").filter((l) => l.endsWith("/hono")));
  assert.deepEqual([...copies], [join(nodeDir, "node_modules", "hono")]);
  for (const p of described) {
    assert.ok(
      !existsSync(join(nodeDir, "node_modules", p.name, "node_modules")),
      `${p.name} nests nothing`,
    );
  }
});

/** Every exported name of each specifier, split into values and types, from the given files. */
function exportsOf(files, options) {
  const program = ts.createProgram({ rootNames: files.map((f) => f.file), options });
  const checker = program.getTypeChecker();
  const result = new Map();
  for (const { key, file } of files) {
    const sourceFile = program.getSourceFile(file);
    assert.ok(sourceFile, `TypeScript loads ${file}`);
    const values = [];
    const types = [];
    for (const symbol of checker.getExportsOfModule(checker.getSymbolAtLocation(sourceFile))) {
      const target = symbol.flags & ts.SymbolFlags.Alias
        ? checker.getAliasedSymbol(symbol)
        : symbol;
      (target.flags & ts.SymbolFlags.Value ? values : types).push(symbol.name);
    }
    result.set(key, { values: values.sort(), types: types.sort() });
  }
  return result;
}

const installedExports = once(async () => {
  await nodeProject();
  // What a consumer's TypeScript sees: the module each specifier resolves to in the project.
  const probe = join(nodeDir, "probe.ts");
  writeFileSync(
    probe,
    specifiers.map((s, i) => `import * as m${i} from "${s.specifier}";\n`).join(""),
  );
  const options = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: ["node"],
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const files = specifiers.map((s) => {
    const resolved = ts.resolveModuleName(
      s.specifier,
      probe,
      options,
      host,
      undefined,
      undefined,
      ts.ModuleKind.ESNext,
    );
    assert.ok(resolved.resolvedModule, `${s.specifier} resolves in the Node project`);
    assert.match(
      resolved.resolvedModule.resolvedFileName,
      /\.d\.ts$/,
      `${s.specifier} resolves to .d.ts`,
    );
    return { key: s.specifier, file: resolved.resolvedModule.resolvedFileName };
  });
  rmSync(probe);
  return exportsOf(files, options);
});

test("every entry point of the artefact exports the same names as the source", async () => {
  const installed = await installedExports();
  const source = exportsOf(
    specifiers.map((s) => ({ key: s.specifier, file: s.source })),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      allowImportingTsExtensions: true,
      noEmit: true,
      types: ["node"],
    },
  );
  for (const { specifier } of specifiers) {
    assert.ok(installed.get(specifier).values.length > 0, `${specifier} exports values`);
    assert.deepEqual(installed.get(specifier), source.get(specifier), specifier);
  }
});

/** `imports.ts`: every value and type of every entry point imported by name. */
async function writeImports(dir) {
  const installed = await installedExports();
  const lines = [];
  const table = [];
  specifiers.forEach(({ specifier }, i) => {
    const { values, types } = installed.get(specifier);
    const local = values.map((name) => `${name} as v${i}_${name}`);
    lines.push(`import { ${local.join(", ")} } from "${specifier}";`);
    if (types.length > 0) {
      lines.push(
        `import type { ${types.map((n) => `${n} as t${i}_${n}`).join(", ")} } from "${specifier}";`,
      );
    }
    table.push(
      `  "${specifier}": { ${values.map((name) => `${name}: typeof v${i}_${name}`).join(", ")} },`,
    );
  });
  const source = `${lines.join("\n")}\n\nconsole.log(JSON.stringify({\n${table.join("\n")}\n}));\n`;
  writeFileSync(join(dir, "imports.ts"), source);
  return installed;
}

const typeCheck = once(async () => {
  await writeImports(nodeDir);
  return run(process.execPath, [
    join(root, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    "tsconfig.json",
  ], {
    cwd: nodeDir,
  });
});

test("tsc --strict (NodeNext, no skipLibCheck) accepts a consumer of every export against the shipped .d.ts", async () => {
  const result = await typeCheck();
  assertRan(result, "tsc -p tsconfig.json");
});

/** Runs a compiled file of the Node project with this Node. */
async function runNode(file) {
  const compiled = await typeCheck();
  assertRan(compiled, "tsc -p tsconfig.json");
  const result = await run(process.execPath, [join(nodeDir, "build", file)], { cwd: nodeDir });
  assertRan(result, `node build/${file}`);
  return lastJson(result.stdout);
}

function assertImports(report, installed, runtime) {
  for (const { specifier } of specifiers) {
    const loaded = report[specifier];
    assert.ok(loaded, `${runtime} loaded ${specifier}`);
    const { values } = installed.get(specifier);
    assert.deepEqual(Object.keys(loaded).sort(), values);
    for (const name of values) {
      assert.notEqual(
        loaded[name],
        "undefined",
        `${runtime}: ${specifier} exports ${name} at run time`,
      );
    }
  }
}

test(`Node ${process.version} imports every value export of every entry point by name`, async () => {
  const installed = await installedExports();
  assertImports(await runNode("imports.js"), installed, "Node");
});

// --- The service, on Node and on Bun ----------------------------------------------------------

/** The same assertions for each runtime's report, one test each. */
function serviceTests(runtime, report) {
  const problem = (answer, status, code) => {
    assert.equal(answer.status, status);
    assert.equal(answer.headers["content-type"], "application/problem+json");
    assert.equal(answer.body.status, status);
    assert.equal(answer.body.code, code);
  };
  test(`${runtime}: an AppError answers 404 problem+json carrying the request id`, async () => {
    const { answers } = await report();
    problem(answers.notFound, 404, "not_found");
    assert.equal(answers.notFound.body.detail, "No organisation globex");
    assert.equal(answers.notFound.body.instance, "/orgs/globex");
    assert.equal(answers.notFound.body.request_id, "consumer-req-1");
    assert.equal(answers.notFound.headers["x-request-id"], "consumer-req-1");
  });
  test(`${runtime}: an unknown route answers 404 problem+json with a generated request id`, async () => {
    const { answers } = await report();
    problem(answers.unknownRoute, 404, "not_found");
    assert.match(answers.unknownRoute.headers["x-request-id"], /^[0-9a-f-]{36}$/);
    assert.equal(
      answers.unknownRoute.body.request_id,
      answers.unknownRoute.headers["x-request-id"],
    );
  });
  test(`${runtime}: an HTTPException of the project's own Hono answers 403 problem+json`, async () => {
    const { answers } = await report();
    problem(answers.httpException, 403, "forbidden");
    assert.equal(answers.httpException.body.detail, "Admins only");
  });
  test(`${runtime}: Hono's bodyLimit() answers 413 problem+json`, async () => {
    const { answers } = await report();
    problem(answers.tooLarge, 413, "content_too_large");
  });
  test(`${runtime}: authenticate() answers 401 without a token and with a bad one`, async () => {
    const { answers } = await report();
    problem(answers.noToken, 401, "credentials_missing");
    assert.match(answers.noToken.headers["www-authenticate"], /^Bearer/);
    problem(answers.badToken, 401, "token_malformed");
    assert.match(answers.badToken.headers["www-authenticate"], /error="invalid_token"/);
  });
  test(`${runtime}: authenticate() lets a valid access token through (200)`, async () => {
    const { answers } = await report();
    assert.equal(answers.me.status, 200);
    assert.deepEqual(answers.me.body, { user: "user", org: "acme" });
  });
  test(`${runtime}: requirePermission() denies an org_user (403) and lets an org_admin through (201)`, async () => {
    const { answers, canCreateKey } = await report();
    assert.deepEqual(canCreateKey, { orgAdmin: true, orgUser: false });
    problem(answers.denied, 403, "permission_denied");
    assert.equal(answers.allowed.status, 201);
    assert.deepEqual(answers.allowed.body, { ok: true });
  });
  test(`${runtime}: requestLogger() writes one access line per request with its request id`, async () => {
    const { logs } = await report();
    const access = logs.filter((l) => l.message === "Request completed");
    assert.equal(access.length, 9);
    const first = access.find((l) => l.request_id === "consumer-req-1");
    assert.ok(first, "the access line of the first request carries its request id");
    assert.equal(first.status, 404);
    assert.equal(first.route, "/orgs/:id");
    assert.equal(first.service_name, "consumer");
  });
}

serviceTests(`Node ${process.version} + @hono/node-server`, once(() => runNode("node_main.js")));

// --- Database and events from the tarballs, on Node -------------------------------------------

/** Whether the server answers; outside CI a test may skip without it, in CI it fails. */
async function needServer(t, name, url, port) {
  if (await reachable(url, port)) return true;
  assert.ok(!inCI, `${name} at ${url} is not reachable (CI needs it)`);
  t.skip(`${name} is not reachable: start it with scripts/services.sh`);
  return false;
}

test("@plinth/database from its tarball runs select 1 on the real PostgreSQL and maps a 409", async (t) => {
  if (!built("database")) return t.skip("database not built (PLINTH_PACKAGES)");
  if (!(await needServer(t, "PostgreSQL", cleanEnv.DATABASE_URL, 5432))) return;
  const { selectOne, duplicate } = await runNode("database_main.js");
  assert.equal(selectOne, 1);
  assert.deepEqual(duplicate, { status: 409, code: "unique_violation" });
});

test("@plinth/events from its tarball publishes and receives an event on the real NATS JetStream", async (t) => {
  if (!built("events")) return t.skip("events not built (PLINTH_PACKAGES)");
  if (!(await needServer(t, "NATS", cleanEnv.NATS_URL, 4222))) return;
  const { ack, received } = await runNode("events_main.js");
  assert.deepEqual(received, { id: "o1", name: "Acme" });
  assert.equal(ack.duplicate, false);
  assert.match(ack.stream, /^CONSUMER_/);
});

// --- A project without Hono -------------------------------------------------------------------

test("a project that installs @plinth/errors and @plinth/logging alone gets no Hono and loads both", async () => {
  const dir = join(base, "core-only");
  const core = described.filter((p) => p.dir === "errors" || p.dir === "logging");
  const deps = await tarballDependencies(core);
  mkdirSync(dir);
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "core-only", private: true, type: "module", dependencies: deps }),
  );
  assertRan(await npmInstall(dir), "npm install (core only)");
  assert.ok(!existsSync(join(dir, "node_modules", "hono")), "no Hono installed");
  const script = 'import { notFound } from "@plinth/errors"; import { createLogger } from ' +
    '"@plinth/logging"; console.log(JSON.stringify({ status: notFound("x").status, ' +
    "logger: typeof createLogger({ destination: { write() {} } }).info }));";
  const result = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: dir });
  assertRan(result, "node -e (core only)");
  assert.deepEqual(lastJson(result.stdout), { status: 404, logger: "function" });
});

// --- Bun project ------------------------------------------------------------------------------

const bunDir = join(base, "bun-app");
const bun = join(root, "node_modules", ".bin", "bun");

const bunProject = once(async () => {
  const deps = await tarballDependencies();
  cpSync(fixtures, bunDir, { recursive: true });
  rmSync(join(bunDir, "node_main.ts"));
  rmSync(join(bunDir, "database_main.ts"));
  rmSync(join(bunDir, "events_main.ts"));
  await writeImports(bunDir);
  writeFileSync(
    join(bunDir, "package.json"),
    JSON.stringify(
      {
        name: "bun-consumer",
        private: true,
        type: "module",
        dependencies: { ...peers, ...deps, hono: `^${HONO}` },
        // Bun resolves a tarball's own @plinth/* dependencies from these, not the registry.
        overrides: deps,
      },
      null,
      2,
    ),
  );
  const result = await run(bun, ["install", "--no-progress"], {
    cwd: bunDir,
    timeout: INSTALL_TIMEOUT,
  });
  assertRan(result, "bun install");
  return result;
});

async function runBun(file) {
  await bunProject();
  const result = await run(bun, ["run", file], { cwd: bunDir });
  assertRan(result, `bun run ${file}`);
  return lastJson(result.stdout);
}

test(`bun install puts the tarballs in a Bun project with the newest Hono of ^${HONO}`, async (t) => {
  await bunProject();
  for (const p of described) {
    assert.ok(
      existsSync(join(bunDir, "node_modules", p.name, "package.json")),
      `${p.name} installed`,
    );
  }
  const hono = JSON.parse(readFileSync(join(bunDir, "node_modules/hono/package.json"), "utf8"));
  t.diagnostic(`Hono ${hono.version}`);
  const [major, minor, patch] = hono.version.split(".").map(Number);
  const [floorMajor, floorMinor, floorPatch] = HONO.split(".").map(Number);
  assert.equal(major, floorMajor);
  assert.ok(
    minor > floorMinor || (minor === floorMinor && patch >= floorPatch),
    `${hono.version} ≥ ${HONO}`,
  );
  const nested = readdirSync(join(bunDir, "node_modules", "@plinth"))
    .filter((name) =>
      existsSync(join(bunDir, "node_modules", "@plinth", name, "node_modules", "hono"))
    );
  assert.deepEqual(nested, [], "no package brought its own Hono");
});

test("Bun imports every value export of every entry point by name", async () => {
  const installed = await installedExports();
  assertImports(await runBun("imports.ts"), installed, "Bun");
});

serviceTests("Bun + Bun.serve", once(() => runBun("bun_main.ts")));
