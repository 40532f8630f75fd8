// The edge packages in a real edge runtime: esbuild bundles integration/edge/worker.ts (errors,
// logging, auth, rbac and config with their ./hono middleware), Cloudflare's workerd serves the
// bundle without Node.js compatibility, with only `nodejs_als`, and with `nodejs_compat`, and
// every check goes over real HTTP. workerd listens on a port the OS picks and is always stopped.
// Run with the machine's Node: `node --test integration/edge_test.mjs`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const WORKERD = join(root, "node_modules", ".bin", "workerd");
const EDGE = join(root, "integration", "edge");
const { build } = await import(
  pathToFileURL(join(root, "node_modules", "esbuild", "lib", "main.js")).href
);

/** A compatibility date inside the pinned workerd's range (it prints its newest one). */
const COMPATIBILITY_DATE = "2026-11-01";
const START_TIMEOUT = 20_000;
const STOP_TIMEOUT = 5_000;

const SECRET = "edge-test-secret-of-at-least-32-bytes!";
const JWT = { secret: SECRET, issuer: "https://auth.edge.test", audience: "edge-api" };

/**
 * The esbuild options a Worker bundle needs: one ES module for a neutral platform, resolving
 * the `workerd`/`worker`/`browser` conditions first. `external` is what may stay an import:
 * nothing without nodejs_compat, the `node:` built-ins with it (as wrangler does).
 */
function bundleOptions(entry, outfile, external) {
  return {
    entryPoints: [join(EDGE, entry)],
    absWorkingDir: root,
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external,
    metafile: true,
    logLevel: "silent",
  };
}

/**
 * The runs. Since 2026-08-04 nodejs_compat is on by default, and `no_nodejs_compat` alone
 * leaves nodejs_compat_v2's `process` and built-ins on, so "without" switches both off.
 * `builtins`: the runtime has `process.getBuiltinModule` (node:crypto, node:fs, node:async_hooks);
 * `als`: plinth's logging finds an AsyncLocalStorage, so the request context survives awaits.
 */
const MODES = [
  {
    name: "workerd without nodejs_compat",
    key: "plain",
    entry: "worker.ts",
    flags: ["no_nodejs_compat", "no_nodejs_compat_v2"],
    external: [],
    builtins: false,
    als: false,
  },
  {
    name: "workerd with only nodejs_als",
    key: "als",
    entry: "worker_als.ts",
    flags: ["no_nodejs_compat", "no_nodejs_compat_v2", "nodejs_als"],
    external: ["node:async_hooks"],
    builtins: false,
    als: true,
  },
  {
    name: "workerd with nodejs_compat",
    key: "compat",
    entry: "worker.ts",
    flags: ["nodejs_compat"],
    external: ["node:*"],
    builtins: true,
    als: true,
  },
];

const tmp = mkdtempSync(join(tmpdir(), "plinth-edge-"));
/** Node-side @plinth/auth (bundled for Node, so this plain .mjs runs on Node 20). */
let auth;
/** The API key the worker knows (its id and hash are text bindings). */
let apiKey;
/** mode key → { url, output(), stop(), bundle, metafile, buildError } */
const servers = new Map();

function capnpText(value) {
  return JSON.stringify(value);
}

function configFor(bundleName, flags, bindings) {
  const list = Object.entries(bindings)
    .map(([name, text]) => `    (name = ${capnpText(name)}, text = ${capnpText(text)}),`)
    .join("\n");
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .edgeWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const edgeWorker :Workerd.Worker = (
  modules = [ (name = "worker.mjs", esModule = embed ${capnpText(bundleName)}) ],
  compatibilityDate = ${capnpText(COMPATIBILITY_DATE)},
  compatibilityFlags = [${flags.map(capnpText).join(", ")}],
  bindings = [
${list}
  ],
);
`;
}

/**
 * Starts workerd on `config` with a port the OS picks (reported on `--control-fd`), and
 * resolves once it listens; stdout and stderr are collected.
 */
function startWorkerd(dir, configName) {
  const child = spawn(WORKERD, ["serve", configName, "--control-fd=3"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let control = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal }))
  );
  // Should this process end without after() (a runner's timeout), workerd ends with it.
  const killNow = () => child.kill("SIGKILL");
  process.once("exit", killNow);
  child.once("exit", () => process.off("exit", killNow));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT);
    await exited;
    clearTimeout(timer);
  };
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`workerd did not listen within ${START_TIMEOUT} ms: ${stderr}`)),
      START_TIMEOUT,
    );
    child.stdio[3].setEncoding("utf8").on("data", (chunk) => {
      control += chunk;
      for (const line of control.split("\n")) {
        try {
          const event = JSON.parse(line);
          if (event.event === "listen" && event.socket === "http") {
            clearTimeout(timer);
            resolve(event.port);
          }
        } catch {
          // an incomplete line
        }
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`workerd exited (${code ?? signal}) before listening: ${stderr}`));
    });
  });
  return listening.then(
    (port) => ({
      url: `http://127.0.0.1:${port}`,
      output: () => ({ stdout, stderr }),
      stop,
    }),
    async (error) => {
      await stop();
      throw error;
    },
  );
}

before(async () => {
  const helper = join(tmp, "auth_helper.mjs");
  await build({
    stdin: {
      contents: 'export { createTokenIssuer, generateApiKey, hashApiKey } from "@plinth/auth";',
      resolveDir: root,
      loader: "ts",
    },
    absWorkingDir: root,
    outfile: helper,
    bundle: true,
    format: "esm",
    platform: "node",
    logLevel: "silent",
  });
  auth = await import(pathToFileURL(helper).href);
  apiKey = auth.generateApiKey({ prefix: "plk" });
  const bindings = {
    SERVICE_NAME: "edge-test",
    LOG_LEVEL: "info",
    JWT_SECRET: SECRET,
    JWT_ISSUER: JWT.issuer,
    JWT_AUDIENCE: JWT.audience,
    API_KEY_ID: apiKey.id,
    API_KEY_HASH: apiKey.hash,
    API_KEY_ORG: "acme",
    BODY_LIMIT: "64",
  };

  await Promise.all(MODES.map(async (mode) => {
    const dir = join(tmp, mode.key);
    const bundleName = "worker.mjs";
    const entry = {
      bundle: join(dir, bundleName),
      metafile: undefined,
      buildError: undefined,
      startError: undefined,
    };
    servers.set(mode.key, entry);
    try {
      const result = await build(bundleOptions(mode.entry, entry.bundle, mode.external));
      entry.metafile = result.metafile;
    } catch (error) {
      entry.buildError = error;
      return;
    }
    writeFileSync(join(dir, "config.capnp"), configFor(bundleName, mode.flags, bindings));
    try {
      Object.assign(entry, await startWorkerd(dir, "config.capnp"));
    } catch (error) {
      entry.startError = error; // this mode's tests fail with it; the others still run
    }
  }));
});

after(async () => {
  await Promise.all([...servers.values()].map((server) => server.stop?.()));
  rmSync(tmp, { recursive: true, force: true });
});

/** The running server of `mode` (fails the test if its bundle did not build or start). */
function server(mode) {
  const entry = servers.get(mode.key);
  if (entry?.buildError !== undefined) {
    assert.fail(`the bundle did not build: ${entry.buildError.message}`);
  }
  if (entry.startError !== undefined) assert.fail(entry.startError.message);
  return entry;
}

function request(mode, path, init = {}) {
  return fetch(`${server(mode).url}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
}

/** The JSON lines the worker logged (workerd prefixes process.stdout writes with "stdout: "). */
function logLines(mode) {
  const lines = [];
  for (const raw of server(mode).output().stdout.split("\n")) {
    const text = raw.startsWith("stdout: ") ? raw.slice("stdout: ".length) : raw;
    if (!text.startsWith("{")) continue;
    try {
      lines.push({ raw, line: JSON.parse(text) });
    } catch {
      // not one of ours
    }
  }
  return lines;
}

/** Waits (bounded) for a log line matching `predicate`. */
async function logLine(mode, predicate, timeout = 3_000) {
  const until = Date.now() + timeout;
  for (;;) {
    const found = logLines(mode).find(({ line }) => predicate(line));
    if (found !== undefined) return found;
    if (Date.now() > until) {
      assert.fail(`no such log line in workerd's stdout:\n${server(mode).output().stdout}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function problem(res, status) {
  assert.equal(res.status, status);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = await res.json();
  assert.equal(body.status, status);
  return body;
}

async function issue(subject) {
  const issuer = auth.createTokenIssuer({ ...JWT, kid: "node-1", logger: { warn() {} } });
  return (await issuer.generateTokenPair(subject)).accessToken;
}

function bearer(token) {
  return { authorization: `Bearer ${token}` };
}

for (const mode of MODES) {
  test(`${mode.name}: the bundle builds with ${mode.external.length === 0 ? "nothing" : mode.external.join(", ")} external, and plinth imports no node: module`, () => {
    const { metafile } = server(mode);
    const imports = Object.values(metafile.outputs).flatMap((output) => output.imports);
    const external = imports.filter((entry) => entry.external).map((entry) => entry.path);
    // Only the entry's own node:async_hooks (worker_als.ts) may stay an import.
    assert.deepEqual(external, mode.key === "als" ? ["node:async_hooks"] : []);
    // Each edge package's sources are in the bundle.
    const inputs = Object.keys(metafile.inputs);
    for (const pkg of ["errors", "logging", "auth", "rbac", "config", "tracing"]) {
      assert.ok(inputs.some((path) => path.startsWith(`${pkg}/`)), `${pkg} is bundled`);
    }
  });

  test(`${mode.name}: the runtime offers ${mode.builtins ? "process.getBuiltinModule" : "no process"} to plinth's feature detection`, async () => {
    const res = await request(mode, "/probe");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      process: mode.builtins,
      getBuiltinModule: mode.builtins,
      globalAsyncLocalStorage: mode.key === "als",
      processEnvBindings: mode.builtins,
    });
  });

  test(`${mode.name}: tracing() continues the caller's trace into log lines and outgoing headers`, async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await request(mode, "/trace", {
      headers: {
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        "x-request-id": `tr-${mode.key}`,
      },
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.traceId, traceId);
    assert.match(body.outgoing, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    assert.ok(!body.outgoing.includes("00f067aa0ba902b7"), "a new span id, not the caller's");
    const { line } = await logLine(
      mode,
      (l) => l.message === "Trace probed" && l.request_id === `tr-${mode.key}`,
    );
    assert.equal(line.trace_id, traceId);
    assert.match(line.span_id, /^[0-9a-f]{16}$/);
  });

  test(`${mode.name}: an unknown route is a 404 problem with a generated request id`, async () => {
    const res = await request(mode, "/nowhere");
    const body = await problem(res, 404);
    const id = res.headers.get("x-request-id");
    assert.match(id ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(body.code, "not_found");
    assert.equal(body.instance, "/nowhere");
    assert.equal(body.request_id, id);
  });

  test(`${mode.name}: a thrown AppError is its problem, with the incoming request id echoed`, async () => {
    const res = await request(mode, "/boom", { headers: { "x-request-id": `boom-${mode.key}` } });
    assert.equal(res.headers.get("x-request-id"), `boom-${mode.key}`);
    const body = await problem(res, 409);
    assert.equal(body.code, "org_migrating");
    assert.equal(body.detail, "The organisation is being migrated");
    assert.equal(body.request_id, `boom-${mode.key}`);

    const custom = await request(mode, "/custom");
    assert.equal((await problem(custom, 429)).code, "quota_exhausted");
    assert.equal(custom.headers.get("retry-after"), "60");
  });

  test(`${mode.name}: a bad incoming request id is replaced, not echoed`, async () => {
    const res = await request(mode, "/nowhere", { headers: { "x-request-id": "bad id!" } });
    await problem(res, 404);
    assert.notEqual(res.headers.get("x-request-id"), "bad id!");
    assert.match(res.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  });

  test(`${mode.name}: Hono's HTTPException 403 and bodyLimit's 413 are problems`, async () => {
    const forbidden = await problem(await request(mode, "/forbidden"), 403);
    assert.equal(forbidden.code, "forbidden");
    const tooLarge = await problem(
      await request(mode, "/upload", { method: "POST", body: "x".repeat(65) }),
      413,
    );
    assert.equal(tooLarge.code, "content_too_large");
    const fits = await request(mode, "/upload", { method: "POST", body: "x".repeat(64) });
    assert.deepEqual(await fits.json(), { bytes: 64 });
  });

  test(`${mode.name}: validate() answers malformed JSON with 400 and an invalid body with 422`, async () => {
    const post = (body) =>
      request(mode, "/orgs", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    assert.equal((await problem(await post('{"id":'), 400)).code, "invalid_json");
    const invalid = await problem(await post('{"id":"A!","name":"x"}'), 422);
    assert.equal(invalid.code, "validation_failed");
    assert.equal(invalid.errors[0].pointer, "/id");
    assert.equal((await post('{"id":"initech","name":"Initech"}')).status, 201);
  });

  test(`${mode.name}: an unexpected throw is a generic 500 and one error line with the request id`, async () => {
    const id = `crash-${mode.key}`;
    const body = await problem(
      await request(mode, "/crash", { headers: { "x-request-id": id } }),
      500,
    );
    assert.equal(body.code, "internal_error");
    assert.doesNotMatch(JSON.stringify(body), /ECONNREFUSED|10\.0\.0\.7/);
    const { line } = await logLine(
      mode,
      (l) => l.message === "Request failed" && l.request_id === id,
    );
    assert.equal(line.level, "error");
    assert.equal(line.service_name, "edge-test");
    assert.match(line.err.message, /ECONNREFUSED/);
  });

  test(`${mode.name}: requestLogger() writes one access line carrying the request id`, async () => {
    const id = `access-${mode.key}`;
    const res = await request(mode, "/boom?token=hunter2", { headers: { "x-request-id": id } });
    await res.arrayBuffer();
    const { line, raw } = await logLine(
      mode,
      (l) =>
        l.message === "Request completed" && l.path === "/boom" && l.query?.startsWith("token="),
    );
    assert.equal(line.request_id, id);
    assert.equal(line.status, 409);
    assert.equal(line.method, "GET");
    assert.equal(line.query, "token=[REDACTED]");
    assert.equal(line.service_name, "edge-test");
    // Without node:fs the default destination is console.log; with it, descriptor 1, which
    // workerd prints with its "stdout: " prefix.
    assert.equal(raw.startsWith("stdout: "), mode.builtins);
  });

  test(`${mode.name}: the request context ${mode.als ? "survives" : "does not survive"} an await`, async () => {
    const id = `ctx-${mode.key}`;
    const res = await request(mode, "/context", { headers: { "x-request-id": id } });
    assert.deepEqual(await res.json(), {
      before: id,
      after: mode.als ? id : null,
      requestId: id,
    });
    const { line } = await logLine(mode, (l) => l.message === "Context probed" && l.before === id);
    assert.equal(line.request_id, mode.als ? id : undefined);
  });

  test(`${mode.name}: concurrent requests never see each other's context`, async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `conc-${mode.key}-${i}`);
    const answers = await Promise.all(ids.map(async (id, i) => {
      const res = await request(mode, `/context?wait=${(i % 3) * 5 + 1}`, {
        headers: { "x-request-id": id },
      });
      return { id, body: await res.json() };
    }));
    for (const { id, body } of answers) {
      assert.equal(body.before, id);
      assert.equal(body.after, mode.als ? id : null);
    }
    for (const id of ids) {
      const { line } = await logLine(
        mode,
        (l) => l.message === "Context probed" && l.before === id,
      );
      assert.equal(line.request_id, mode.als ? id : undefined);
    }
  });

  test(`${mode.name}: a JWT-protected route answers 401 without a token and 200 with one issued on Node`, async () => {
    const missing = await request(mode, "/api/me");
    assert.equal((await problem(missing, 401)).code, "credentials_missing");
    assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
    const garbage = await request(mode, "/api/me", {
      headers: { ...bearer("not.a.jwt"), "x-request-id": `jwt-${mode.key}` },
    });
    assert.equal((await problem(garbage, 401)).code, "token_malformed");
    const { line: warning } = await logLine(
      mode,
      (l) => l.message === "Authentication failed" && l.reason === "token_malformed",
    );
    assert.equal(warning.level, "warn");
    // Logged after the verifier's await: without AsyncLocalStorage the context is gone there.
    assert.equal(warning.request_id, mode.als ? `jwt-${mode.key}` : undefined);

    const token = await issue({ userId: "u-1", orgId: "acme", role: "org_user" });
    const ok = await request(mode, "/api/me", { headers: bearer(token) });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { kind: "user", id: "u-1", org: "acme", role: "org_user" });

    const wrongKey = auth.createTokenIssuer({
      ...JWT,
      secret: "another-secret-of-at-least-32-bytes!!",
      kid: "node-1",
      logger: { warn() {} },
    });
    const forged =
      (await wrongKey.generateTokenPair({ userId: "u-1", orgId: "acme", role: "org_admin" }))
        .accessToken;
    assert.equal(
      (await problem(await request(mode, "/api/me", { headers: bearer(forged) }), 401)).code,
      "token_invalid",
    );
  });

  test(`${mode.name}: a token issued inside the worker is accepted there`, async () => {
    const res = await request(mode, "/tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId: "u-2", orgId: "globex", role: "org_admin" }),
    });
    assert.equal(res.status, 200);
    const { accessToken } = await res.json();
    const me = await request(mode, "/api/me", { headers: bearer(accessToken) });
    assert.deepEqual(await me.json(), {
      kind: "user",
      id: "u-2",
      org: "globex",
      role: "org_admin",
    });
  });

  test(`${mode.name}: rbac denies a missing permission and another organisation with 403`, async () => {
    const token = await issue({ userId: "u-3", orgId: "acme", role: "org_user" });
    const create = await request(mode, "/api/orgs", {
      method: "POST",
      headers: { ...bearer(token), "x-request-id": `rbac-${mode.key}` },
    });
    assert.equal((await problem(create, 403)).code, "permission_denied");
    const other = await request(mode, "/api/orgs/globex", { headers: bearer(token) });
    assert.equal((await problem(other, 403)).code, "org_access_denied");
    const own = await request(mode, "/api/orgs/acme", { headers: bearer(token) });
    assert.deepEqual(await own.json(), { id: "acme", name: "Acme" });
    const { line } = await logLine(
      mode,
      (l) =>
        l.message === "Permission denied" && l.permission === "create_org" &&
        l.principal?.user_id === "u-3",
    );
    assert.equal(line.level, "warn");
    assert.equal(line.request_id, mode.als ? `rbac-${mode.key}` : undefined);
  });

  test(`${mode.name}: an API key is checked with the worker's SHA-256`, async () => {
    const ok = await request(mode, "/api/me", { headers: { "x-api-key": apiKey.key } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), {
      kind: "api_key",
      id: apiKey.id,
      org: "acme",
      role: "org_user",
    });
    const unknown = auth.generateApiKey({ prefix: "plk" });
    const refused = await request(mode, "/api/me", { headers: { "x-api-key": unknown.key } });
    assert.equal((await problem(refused, 401)).code, "api_key_invalid");
    for (const text of ["", "abc", "é😀 and more", "x".repeat(1000)]) {
      const res = await request(mode, "/hash", { method: "POST", body: text });
      assert.equal(
        (await res.json()).hash,
        auth.hashApiKey(text),
        `SHA-256 of ${text.length} characters`,
      );
    }
  });
}

test("workerd prints nothing on stderr but its nodejs_compat note and console.error lines", () => {
  for (const mode of MODES) {
    const { stderr } = server(mode).output();
    for (const line of stderr.split("\n").filter((l) => l.trim() !== "")) {
      assert.match(line, /nodejs_compat became the default|^\{/, `${mode.name}: ${line}`);
    }
  }
});

test("the pinned workerd supports the compatibility date used", () => {
  const out = spawnSync(WORKERD, ["--version"], { encoding: "utf8" });
  const newest = /(\d{4}-\d{2}-\d{2})/.exec(out.stdout)?.[1];
  assert.ok(newest !== undefined && COMPATIBILITY_DATE <= newest, out.stdout);
});
