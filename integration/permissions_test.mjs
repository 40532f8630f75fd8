// Each package's README states the Deno permissions its example needs, in one machine-readable
// line under "## Deno permissions":
//
//   deno run --allow-env=LOG_LEVEL,LOG_FORMAT,SERVICE_NAME examples/packages/logging.ts
//
// This test parses that line, runs the example with exactly those flags (and --no-prompt, so a
// missing permission fails instead of asking) and checks its output; then it proves each
// permission is needed: with one flag, or one name of a flag's list, left out the example must
// fail with Deno's permission error naming what was refused — or, where a package documents that
// it carries on without a permission (logging), show exactly that documented behaviour.
//
// Plain node:test on the machine's Node: `node --test integration/permissions_test.mjs`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const deno = join(root, "node_modules", ".bin", "deno");
const inCI = process.env.CI === "true" || process.env.CI === "1";
const databaseUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
const natsUrl = process.env.NATS_URL || "nats://127.0.0.1:4222";
/** One run of an example may take this long (a refused connection is retried for a few s). */
const RUN_TIMEOUT = 60_000;
/** Examples run at once while proving each permission is needed (the machine has 2 cores). */
const CONCURRENCY = 3;
// Deno's own error, or a plinth error that names the refusal and the flag (database asks first).
const DENIED = /NotCapable|PermissionDenied|Deno denies/;

/** The `deno run` line of `<pkg>/README.md`'s "Deno permissions" section. */
function readmeCommand(pkg) {
  const text = readFileSync(join(root, pkg, "README.md"), "utf8");
  const start = text.search(/^## Deno permissions[ \t]*$/m);
  assert.notEqual(start, -1, `${pkg}/README.md has no "## Deno permissions" section`);
  const rest = text.slice(start + 1);
  const next = rest.search(/^## /m);
  const section = next === -1 ? rest : rest.slice(0, next);
  // The first fenced block of the section is the package's line (database's section goes on with
  // the embedded database's own).
  const block = section.match(/^```(\w*)\n([\s\S]*?)^```/m);
  assert.ok(block, `${pkg}/README.md: the section has a fenced block`);
  assert.equal(block[1], "sh", `${pkg}/README.md: the section's first block is a \`\`\`sh block`);
  const lines = block[2].split("\n").filter((line) => line.trim() !== "");
  assert.equal(lines.length, 1, `${pkg}/README.md: the block is one line`);
  const words = lines[0].trim().split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"], `${pkg}/README.md: a \`deno run\` line`);
  const example = words.at(-1);
  assert.equal(example, `examples/packages/${pkg}.ts`, `${pkg}/README.md: runs its example`);
  const flags = words.slice(2, -1);
  for (const flag of flags) {
    assert.match(flag, /^--allow-(env|net|read|write|sys|run|ffi|import)=[^\s=]+$/, flag);
  }
  return { line: lines[0].trim(), flags, example };
}

/** `--allow-net` of the README names the local servers: use the runner's own instead. */
function localised(flags) {
  const servers = {
    "127.0.0.1:5432": hostPort(databaseUrl, 5432),
    "127.0.0.1:4222": hostPort(natsUrl, 4222),
  };
  return flags.map((flag) => {
    if (!flag.startsWith("--allow-net=")) return flag;
    const hosts = flag.slice("--allow-net=".length).split(",").map((h) => servers[h] ?? h);
    return `--allow-net=${hosts.join(",")}`;
  });
}

function hostPort(url, defaultPort) {
  const parsed = new URL(url.includes("://") ? url : `nats://${url}`);
  return `${parsed.hostname}:${parsed.port || defaultPort}`;
}

/** The flags with one permission taken away: each whole flag, then each name of a list. */
function reductions(flags) {
  const out = [];
  flags.forEach((flag, i) => {
    const others = flags.filter((_, j) => j !== i);
    const [name, list] = flag.split("=");
    out.push({ flags: others, flag: name, item: undefined });
    const items = list.split(",");
    if (items.length < 2) return;
    for (const item of items) {
      const kept = items.filter((x) => x !== item).join(",");
      out.push({ flags: [...others, `${name}=${kept}`], flag: name, item });
    }
  });
  return out;
}

/** The variables the flags name, so the runner's own values of them never reach an example. */
function envNames(flags) {
  return flags.filter((f) => f.startsWith("--allow-env=")).flatMap((f) => f.slice(12).split(","));
}

/**
 * Runs an example with `flags`; the variables `unset` names are removed from the runner's
 * environment, then `env` is added. Resolves `{ code, stdout, stderr }`; never hangs.
 */
function run(example, flags, env, unset = []) {
  const childEnv = { ...process.env, NO_COLOR: "1" };
  for (const name of unset) delete childEnv[name];
  Object.assign(childEnv, env);
  return new Promise((resolve, reject) => {
    const child = spawn(deno, ["run", "--no-prompt", ...flags, example], {
      cwd: root,
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL") {
        reject(new Error(`${example} ${flags.join(" ")}: killed after ${RUN_TIMEOUT} ms`));
      } else resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function reachable(url, defaultPort) {
  const [host, port] = hostPort(url, defaultPort).split(/:(?=\d+$)/);
  return new Promise((resolve) => {
    const socket = connect({ host: host.replace(/^\[|\]$/g, ""), port: Number(port) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Skips outside CI when a server is down; fails in CI. */
async function needServer(t, name, url, port) {
  if (await reachable(url, port)) return true;
  const reason = `${name} at ${hostPort(url, port)} is not reachable`;
  if (inCI) assert.fail(reason);
  t.skip(reason);
  return false;
}

function lines(text) {
  return text.split("\n").filter((line) => line !== "");
}

/** Asserts a run failed on the refused permission, naming it. */
function assertDenied(result, what, flag, item) {
  const output = `${result.stderr}\n${result.stdout}`;
  assert.notEqual(result.code, 0, `${what}: exits non-zero\n${output}`);
  assert.match(output, DENIED, `${what}: fails on Deno's permission error\n${output}`);
  assert.ok(output.includes(flag), `${what}: the error names ${flag}\n${output}`);
  if (item !== undefined) {
    const named = item.startsWith("examples/") ? item.slice("examples/".length) : item;
    assert.ok(output.includes(named), `${what}: the error names ${item}\n${output}`);
  }
}

/**
 * The spec of an example that talks to the test PostgreSQL through postgres.js: `DATABASE_URL`, the
 * driver's own variables (the runner's values, a PGPASSWORD say, are kept; PGPASSWORD is read only
 * when the URL holds none), and the output lines it must print (JSON log lines left out).
 */
function onPostgres(expected) {
  return {
    server: ["PostgreSQL", databaseUrl, 5432],
    env: { DATABASE_URL: databaseUrl },
    inherit: ["PGPASSWORD", "PGAPPNAME", "PGTARGETSESSIONATTRS"],
    without(c) {
      if (c.item === "PGPASSWORD" && new URL(databaseUrl).password !== "") return "runs";
      return "denied";
    },
    check({ stdout }) {
      assert.deepEqual(lines(stdout).filter((line) => !line.startsWith("{")), expected);
    },
  };
}

/**
 * What each example is run with and must print. `env` is set for the run (the names the flags
 * list are otherwise removed from the runner's environment); `check(result, allowed)` gets the set
 * of permitted variable names. `without(reduction)` says what a run missing that permission does:
 * `"denied"` (the default: Deno's permission error, naming it), `"runs"` (a documented
 * degradation, checked by `check` with the narrower set), or a RegExp its failure output matches
 * (a known defect). `inherit` lists variables the runner's values of which are kept.
 */
const EXAMPLES = {
  httpclient: {
    env: {},
    check({ stdout }) {
      assert.deepEqual(lines(stdout).filter((line) => !line.startsWith("{")), [
        'GET orgs/acme after 2 attempts: {"id":"acme","seats":42}',
        "retries logged: status 503",
        "POST orgs without an Idempotency-Key: upstream_error (502) after 1 attempt",
        "streamed: Hello, world!",
        "usage: 11 prompt + 7 completion = 18 tokens",
      ]);
    },
  },
  outbox: onPostgres([
    "relay listening: true",
    "rolled back: quota exceeded",
    "received: acme:12",
    "pending: 0, published by this relay: 1",
  ]),
  models: onPostgres([
    "migrations: 1 applied, then 0",
    "organisation acme: budget 100, used 0",
    "api key: shown once (true), lookup role org_user, hash 64 hex digits",
    "charged 60: remaining 40, usage recorded true",
    "charge 41: 429 budget_exceeded",
    "refresh token: first use true, replay sees first use at 1000",
    "monthly reset run twice at once: 1 organisation reset",
  ]),
  metrics: {
    env: {},
    check({ stdout }) {
      const out = lines(stdout);
      assert.equal(out[0], "Content-Type: text/plain; version=0.0.4; charset=utf-8");
      assert.deepEqual(out.slice(1, 5), [
        'orgs_created_total{plan="pro",service="orgs"} 1',
        'http_requests_total{method="GET",route="/orgs/:id",status="200",service="orgs"} 2',
        'http_requests_total{method="POST",route="/orgs",status="201",service="orgs"} 1',
        'http_requests_total{method="GET",route="(unmatched)",status="404",service="orgs"} 1',
      ]);
      assert.match(out[5] ?? "", /^[1-9]\d* default-metric samples$/);
    },
  },
  tracing: {
    env: {},
    check({ stdout }) {
      const out = lines(stdout).filter((line) => !line.startsWith("{"));
      assert.deepEqual(out.slice(0, 2), [
        "every line carries the caller's trace id: true",
        "the query has its own span id: true",
      ]);
      // The span id is new in every run; the trace id is the caller's.
      assert.match(
        out[2] ?? "",
        /^outgoing traceparent continues the trace: 00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/,
      );
      assert.equal(out.length, 3);
    },
  },
  errors: {
    env: {},
    check({ stdout }) {
      assert.deepEqual(lines(stdout), [
        "GET /orgs/acme -> 404 application/problem+json not_found: No organisation acme",
        "POST /orgs -> 422 application/problem+json validation_failed: The request is invalid",
        'POST /orgs -> 201 application/json {"name":"Acme"}',
        "GET /no/such/route -> 404 application/problem+json not_found: No resource exists at this path",
        "GET /boom -> 500 application/problem+json internal_error: An unexpected error occurred",
        "5xx logged server-side: 1",
      ]);
    },
  },
  config: {
    env: {
      DATABASE_URL: "postgres://app:s3cret-pw@db.internal:5432/orders",
      PORT: "9090",
    },
    check({ stdout }) {
      assert.deepEqual(lines(stdout), [
        "environment: development",
        'SERVICE_NAME = "orders-svc" (from config.yaml:3)',
        'PORT = "9090" (from env)',
        'DEBUG = "true" (from .env:3)',
        'CORS_ORIGINS = "[\\"https://a.example\\",\\"https://b.example\\"]" (from config.yaml:5)',
        'DATABASE_URL = "postgres://app:[REDACTED]@db.internal:5432/orders" (from env)',
        'JWT_SECRET = "[REDACTED]" (from default)',
        "warnings: 0",
      ]);
    },
  },
  logging: {
    env: { SERVICE_NAME: "shop", LOG_LEVEL: "debug", LOG_FORMAT: "pretty" },
    // Documented: a variable that may not be read counts as unset (the defaults apply).
    without: () => "runs",
    check({ stdout }, allowed) {
      const service = allowed.has("SERVICE_NAME") ? "shop" : "unknown_service";
      const debug = allowed.has("LOG_LEVEL");
      const out = lines(stdout);
      const messages = ["pricing rules loaded", "order placed", "payment failed"].slice(
        debug ? 0 : 1,
      );
      if (allowed.has("LOG_FORMAT")) {
        const levels = ["DEBUG", "INFO", "ERROR"].slice(debug ? 0 : 1);
        const heads = out.filter((line) => /^\d\d:\d\d:\d\d\.\d{3} /.test(line));
        assert.deepEqual(
          heads.map((line) => line.split(/\s+/).slice(1, 3).join(" ")),
          levels.map((level) => `${level} ${service}:`),
        );
        messages.forEach((message, i) => assert.ok(heads[i]?.includes(`: ${message}`), message));
        assert.match(stdout, /request_id=req-42 module=orders order_id=7 api_key=\[REDACTED\]/);
        assert.match(stdout, /caused by: Error: issuer down/);
      } else {
        const parsed = out.map((line) => JSON.parse(line));
        assert.deepEqual(parsed.map((l) => l.message), messages);
        for (const line of parsed) assert.equal(line.service_name, service);
        const placed = parsed.find((l) => l.message === "order placed");
        assert.equal(placed.request_id, "req-42");
        assert.equal(placed.api_key, "[REDACTED]");
        assert.equal(parsed.at(-1).err.cause.message, "issuer down");
      }
      assert.doesNotMatch(stdout, /plk_not_for_logs/);
    },
  },
  events: {
    server: ["NATS", natsUrl, 4222],
    env: { NATS_URL: natsUrl },
    check({ stdout }) {
      const out = lines(stdout).filter((line) => !line.startsWith("{"));
      assert.deepEqual(out, [
        "published: seq 1, duplicate false",
        "published again: seq 1, duplicate true",
        "handled: a@example.com (evt-1, delivery 1)",
        "stream deleted: true",
      ]);
    },
  },
  database: onPostgres([
    "answer: 42",
    "duplicate: 409 unique_violation",
    "inserted: 2",
    "healthy: true",
  ]),
  auth: {
    env: {},
    check({ stdout }) {
      assert.deepEqual(lines(stdout), [
        "access token: sub u1, org acme, role org_admin",
        "rotated: new refresh token true",
        "api key verifies: true",
        'GET /api/me as user -> 200 {"kind":"user","org":"acme"}',
        'GET /api/me with api key -> 200 {"kind":"api_key","org":"acme"}',
        "GET /api/me with a bad token -> 401 token_malformed",
        "issuer warned: Refresh token reuse detected; its family is revoked",
        "old refresh token replayed: refresh_token_reused",
        "GET /api/me as user after the replay -> 401 token_revoked",
      ]);
    },
  },
  rbac: {
    env: {},
    check({ stdout }) {
      assert.deepEqual(lines(stdout), [
        "org_admin may create_api_key: true",
        "org_user may create_api_key: false",
        "org_admin of acme reaches globex: false",
        "auditor may export_audit_log: true",
        "org_user POST /keys -> 403 permission_denied",
        "org_user GET /projects/p1 -> 200 ok",
        "org_user GET /projects/p2 -> 403 org_access_denied",
        "org_admin POST /keys -> 201 ok",
        "org_admin GET /audit -> 200 ok",
      ]);
    },
  },
};

test("every workspace package has an example run under its README's permissions", () => {
  const { workspace } = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  const packages = workspace.map((member) => member.replace(/^\.\//, "")).sort();
  assert.deepEqual(Object.keys(EXAMPLES).sort(), packages);
});

for (const [pkg, spec] of Object.entries(EXAMPLES)) {
  test(`${pkg}: the README's Deno permissions run its example, and each one is needed`, {
    timeout: 300_000,
  }, async (t) => {
    const { line, flags: readmeFlags, example } = readmeCommand(pkg);
    assert.ok(existsSync(join(root, example)), `${example} exists`);
    const source = readFileSync(join(root, example), "utf8");
    assert.ok(source.includes(line), `${example}'s module doc shows the README's line: ${line}`);
    if (spec.server !== undefined && !(await needServer(t, ...spec.server))) return;

    const flags = localised(readmeFlags);
    const permitted = envNames(flags);
    const unset = permitted.filter((name) => !spec.inherit?.includes(name));
    const full = await run(example, flags, spec.env, unset);
    assert.equal(full.code, 0, `${line}\n${full.stderr}`);
    spec.check(full, new Set(permitted));

    const cases = reductions(flags);
    const results = await pool(
      cases,
      CONCURRENCY,
      (c) => run(example, c.flags, spec.env, unset),
    );
    cases.forEach((c, i) => {
      const what = `${pkg} without ${c.item === undefined ? c.flag : `${c.item} in ${c.flag}`}`;
      const result = results[i];
      const outcome = spec.without?.(c) ?? "denied";
      if (outcome === "runs") {
        assert.equal(result.code, 0, `${what}: still runs\n${result.stderr}`);
        spec.check(result, new Set(envNames(c.flags)));
      } else if (outcome === "denied") {
        assertDenied(result, what, c.flag, c.item);
      } else {
        // A known defect (see the spec): it fails, but without naming the permission.
        assert.notEqual(result.code, 0, `${what}: exits non-zero\n${result.stdout}`);
        assert.match(`${result.stderr}\n${result.stdout}`, outcome, what);
        t.diagnostic(`${what}: fails without naming the permission (known defect)`);
      }
    });
  });
}

test("config: envPrefix names are permitted one by one or by a trailing wildcard", {
  timeout: 120_000,
}, async () => {
  const example = "examples/packages/config_env_prefix.ts";
  const env = { ORDERS_PORT: "8090", ORDERS_DATABASE_URL: "postgres://app:pw@db/orders" };
  const expected = [
    'PORT = "8090" (from env)',
    'DATABASE_URL = "postgres://app:[REDACTED]@db/orders" (from env)',
  ];
  for (const flag of ["--allow-env=ORDERS_PORT,ORDERS_DATABASE_URL", "--allow-env=ORDERS_*"]) {
    const result = await run(example, [flag], env);
    assert.equal(result.code, 0, `${flag}\n${result.stderr}`);
    assert.deepEqual(lines(result.stdout), expected, flag);
  }
  // The unprefixed names are not what config reads: it fails naming the prefixed one and the list.
  const wrong = await run(example, ["--allow-env=PORT,DATABASE_URL"], env);
  assertDenied(wrong, "envPrefix with unprefixed names", "--allow-env", "ORDERS_PORT");
  assert.match(wrong.stderr, /--allow-env=ORDERS_PORT,ORDERS_DATABASE_URL/);
  assert.match(wrong.stderr, /config_env_unreadable|ConfigError/);
});
