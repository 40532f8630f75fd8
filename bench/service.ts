/**
 * Benchmark: the reference service (examples/service) with its whole middleware stack against
 * the same route on bare Hono, over HTTP, and the service's start-up time to ready.
 *
 * - HTTP: `GET /v1/organizations/:orgId` (one `getOrganization()` query) answered by two child
 *   processes of the benchmark's own runtime (bench/_service_server.ts): `stack`, the service as
 *   `startService()` builds it on the real PostgreSQL and NATS (request id, tracing, access log
 *   into a sink that drops the lines, request metrics, `authenticate()`, `requireOrgAccess()`,
 *   the problem handler, plus the outbox relay and the analytics consumer running), and `bare`,
 *   a Hono app with only that route and handler, on a pool of the same size. Both are served by
 *   examples/service/serve.ts. Load: autocannon in this process (32 connections), the same
 *   bearer token (an `org_user` of the organisation, signed in through `POST /auth/sign-in`)
 *   sent to both; a warm-up, then rounds of one run per side, the order alternating. Target: the
 *   stack's best requests per second ≥ 0.70× bare's. The servers' CPU time per request (from
 *   `/proc/<pid>/stat`, PostgreSQL's own time not included) and the stack's database queries per
 *   request (its `/metrics`) are printed beside it.
 * - Start-up: `examples/service/main.ts --serve` spawned with the same runtime in a new
 *   temporary working directory, from spawn until `GET /readyz` answers 200, then SIGTERM until
 *   exit. On the embedded defaults (no `DATABASE_URL`, `NATS_URL`, `JWT_SECRET`: PGlite in
 *   `.data/pglite` under that directory, the memory bus) — first start on a new data directory,
 *   later starts on the same one — and on the real servers (a new schema and stream, then the
 *   same ones again). `start_ms` is the service's own figure from its `service ready` line.
 *
 * Everything created is removed at the end: the schemas, the NATS streams, the directory.
 *
 * Run: `npm run bench -- service` (Node 24, Deno, Bun), or one runtime:
 * `node bench/service.ts`, `deno run -A bench/service.ts`, `bun bench/service.ts`.
 * `DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/test), `NATS_URL` (default
 * nats://127.0.0.1:4222), `BENCH_SECONDS` (4), `BENCH_ROUNDS` (5), `BENCH_STARTS` (3 later starts
 * of each kind), `BENCH_HTTP=0` and `BENCH_START=0` adjust it.
 *
 * @module
 */
import process from "node:process";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { freePort } from "@plinth/testing";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { connectDatabase } from "@plinth/database";
import { connectEvents } from "@plinth/events";
import { SettingsSchema } from "../examples/service/settings.ts";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const JWT_SECRET = "bench-service-secret-bench-service-secret!";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const STARTS = Number(process.env.BENCH_STARTS ?? 3);
const CONNECTIONS = 32;
/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on Linux x86-64). */
const CLOCK_TICKS = 100;
const root = fileURLToPath(new URL("..", import.meta.url));
const mainFile = join(root, "examples", "service", "main.ts");
const serverFile = join(root, "bench", "_service_server.ts");
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const id = `${process.pid}_${Date.now().toString(36)}`;
const schemas: string[] = [];
const streams: string[] = [];
/** A new schema, stream and subject prefix, removed at the end. */
function names(tag: string): { schema: string; stream: string; prefix: string } {
  const schema = `bench_service_${tag}_${id}`;
  const stream = `BENCH_SERVICE_${tag}_${id}`.toUpperCase();
  schemas.push(schema);
  streams.push(stream);
  return { schema, stream, prefix: `bench_service_${tag}_${id}` };
}

function runtimeName(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if ("Deno" in globalThis) return `Deno ${versions.deno}`;
  if (versions.bun !== undefined) return `Bun ${versions.bun}`;
  return `Node ${versions.node}`;
}

/** The arguments that run a TypeScript file on this runtime (Node's own flags carry over). */
function runtimeArgs(): string[] {
  if ("Deno" in globalThis) return ["run", "-A", `--config=${join(root, "deno.json")}`];
  return [...process.execArgv];
}

/** The environment without any of the service's settings (nor APP_ENV / NODE_ENV). */
function cleanEnv(): Record<string, string> {
  const drop = new Set([...Object.keys(SettingsSchema.shape), "APP_ENV", "NODE_ENV"]);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !drop.has(key)) env[key] = value;
  }
  return env;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode);
  }
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** Sends SIGTERM; SIGKILL after `timeout` ms. Resolves to the exit code (null: killed). */
async function terminate(child: ChildProcess, timeout = 20_000): Promise<number | null> {
  const exit = exited(child);
  // Not child.kill(): Deno 2.9's node:child_process then reports the child as killed by the
  // signal (code null) even when it handled the signal and exited 0.
  process.kill(child.pid!, "SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
  try {
    return await exit;
  } finally {
    clearTimeout(timer);
  }
}

/** The process's CPU time so far (user + system, threads included), µs. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
}

// --- HTTP ------------------------------------------------------------------------------------

interface Child {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<number | null>;
}

function startServer(mode: "stack" | "bare", env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, [...runtimeArgs(), serverFile, mode], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`The ${mode} server did not start within 60 s`));
    }, 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`The ${mode} server exited before listening (exit ${code})`));
    });
    child.once("error", reject);
    createInterface({ input: child.stdout! }).once("line", (line) => {
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve({ port: JSON.parse(line).port, pid: child.pid!, stop: () => terminate(child) });
    });
  });
}

async function call(
  url: string,
  method: string,
  options: { token?: string; body?: unknown } = {},
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(url, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const body = await response.json() as Record<string, unknown>;
  if (!response.ok) {
    throw new Error(`${method} ${new URL(url).pathname} failed: ${response.status} ${body.code}`);
  }
  return body;
}

/** The stack's database queries so far: the sum of `db_query_duration_seconds_count`. */
async function queriesOf(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("db_query_duration_seconds_count")) sum += Number(line.split(" ").at(-1));
  }
  return sum;
}

interface Run {
  /** Requests per second. */
  readonly rate: number;
  readonly total: number;
  /** Server CPU time per request, µs. */
  readonly cpu: number;
}

async function load(server: Child, path: string, token: string, seconds: number): Promise<Run> {
  const { default: autocannon } = await import("autocannon");
  const before = cpuOf(server.pid);
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}${path}`,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });
  const cpu = cpuOf(server.pid) - before;
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`Load run failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  const total = result.requests.total;
  return { rate: result.requests.average, total, cpu: cpu / total };
}

interface HttpResult {
  readonly stack: Run[];
  readonly bare: Run[];
  readonly ratios: number[];
  readonly queries: number;
}

async function http(): Promise<HttpResult> {
  const { schema, stream, prefix } = names("http");
  const env = {
    ...cleanEnv(),
    DATABASE_URL,
    NATS_URL,
    BENCH_SCHEMA: schema,
    BENCH_STREAM: stream,
    BENCH_PREFIX: prefix,
    BENCH_JWT_SECRET: JWT_SECRET,
  };
  // The stack first: it creates the schema, runs the migrations and seeds the administrator.
  const stack = await startServer("stack", env);
  let bare: Child | undefined;
  try {
    const base = `http://127.0.0.1:${stack.port}`;
    const admin = (await call(`${base}/auth/sign-in`, "POST", {
      body: { email: "admin@plinth.local" },
    })).access_token as string;
    const org = await call(`${base}/v1/organizations`, "POST", {
      token: admin,
      body: { name: "bench", display_name: "Bench", budget_tokens_monthly: 1_000_000 },
    });
    await call(`${base}/v1/organizations/${org.id}/users`, "POST", {
      token: admin,
      body: { email: "member@bench.local", name: "Member", role: "org_user" },
    });
    const token = (await call(`${base}/auth/sign-in`, "POST", {
      body: { email: "member@bench.local" },
    })).access_token as string;
    bare = await startServer("bare", env);
    const path = `/v1/organizations/${org.id}`;
    // Same answer from both.
    const [a, b] = await Promise.all([
      call(`${base}${path}`, "GET", { token }),
      call(`http://127.0.0.1:${bare.port}${path}`, "GET", { token }),
    ]);
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      throw new Error("The stack and the bare app answer differently");
    }

    const servers = { stack, bare };
    const results: HttpResult = { stack: [], bare: [], ratios: [], queries: 0 };
    await load(stack, path, token, 2); // warm-up
    await load(bare, path, token, 2);
    let queries = 0;
    let requests = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ["stack", "bare"] as const : ["bare", "stack"] as const;
      const rates = { stack: 0, bare: 0 };
      for (const side of order) {
        const q0 = side === "stack" ? await queriesOf(stack.port) : 0;
        const run = await load(servers[side], path, token, SECONDS);
        if (side === "stack") {
          queries += (await queriesOf(stack.port)) - q0;
          requests += run.total;
        }
        rates[side] = run.rate;
        results[side].push(run);
      }
      results.ratios.push(rates.stack / rates.bare);
    }
    return { ...results, queries: queries / requests };
  } finally {
    await Promise.all([stack.stop(), bare?.stop()]);
  }
}

// --- Start-up --------------------------------------------------------------------------------

interface Start {
  /** Spawn → `/readyz` 200, ms. */
  readonly ready: number;
  /** The service's own `start_ms`. */
  readonly service: number;
  /** SIGTERM → exit, ms. */
  readonly stop: number;
}

async function startOnce(cwd: string, env: Record<string, string>): Promise<Start> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [...runtimeArgs(), mainFile, "--serve"], {
    cwd,
    env: { ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let service = Number.NaN;
  const output: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    output.push(line);
    try {
      const fields = JSON.parse(line) as { message?: string; start_ms?: number };
      if (fields.message === "service ready") service = Number(fields.start_ms);
    } catch {
      // not a log line
    }
  });
  createInterface({ input: child.stderr! }).on("line", (line) => output.push(line));
  let gone = false;
  const exit = exited(child).then((code) => {
    gone = true;
    return code;
  });
  const deadline = started + 180_000;
  let ready = Number.NaN;
  try {
    while (Number.isNaN(ready)) {
      if (gone || performance.now() > deadline) {
        throw new Error(
          `The service ${gone ? `exited (${await exit})` : "was not ready within 180 s"}:\n` +
            output.slice(-20).join("\n"),
        );
      }
      try {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        await response.arrayBuffer();
        if (response.status === 200) ready = performance.now() - started;
      } catch {
        // not listening yet
      }
      if (Number.isNaN(ready)) await new Promise((r) => setTimeout(r, 10));
    }
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  const stopping = performance.now();
  const code = await terminate(child);
  const stop = performance.now() - stopping;
  if (code !== 0) {
    throw new Error(`The service exited ${code} after SIGTERM:\n${output.slice(-20).join("\n")}`);
  }
  return { ready, service, stop };
}

interface StartResult {
  readonly kind: string;
  readonly first: Start;
  readonly later: Start[];
}

async function startUp(): Promise<StartResult[]> {
  const results: StartResult[] = [];
  const cwd = mkdtempSync(join(tmpdir(), "plinth-bench-service-"));
  try {
    const embedded = cleanEnv();
    const firstEmbedded = await startOnce(cwd, embedded);
    const laterEmbedded: Start[] = [];
    for (let i = 0; i < STARTS; i++) laterEmbedded.push(await startOnce(cwd, embedded));
    results.push({ kind: "embedded", first: firstEmbedded, later: laterEmbedded });

    const { schema, stream, prefix } = names("start");
    const real = {
      ...cleanEnv(),
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      NATS_URL,
      EVENTS_STREAM: stream,
      EVENTS_SUBJECT_PREFIX: prefix,
      JWT_SECRET,
    };
    const firstReal = await startOnce(cwd, real);
    const laterReal: Start[] = [];
    for (let i = 0; i < STARTS; i++) laterReal.push(await startOnce(cwd, real));
    results.push({ kind: "real servers", first: firstReal, later: laterReal });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  return results;
}

async function cleanUp(): Promise<void> {
  if (schemas.length > 0) {
    const db = await connectDatabase(DATABASE_URL, { max: 1, logger: quiet });
    try {
      for (const schema of schemas) await db.sql.unsafe(`drop schema if exists ${schema} cascade`);
    } finally {
      await db.close();
    }
  }
  if (streams.length > 0) {
    const bus = await connectEvents({ servers: NATS_URL, deadLetter: false, logger: quiet });
    try {
      for (const stream of streams) await bus.deleteStream(stream);
    } finally {
      await bus.close();
    }
  }
}

// --- Main ------------------------------------------------------------------------------------

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

let httpResult: HttpResult | undefined;
let startResults: StartResult[] = [];
try {
  if (process.env.BENCH_HTTP !== "0") httpResult = await http();
  if (process.env.BENCH_START !== "0") startResults = await startUp();
} finally {
  await cleanUp();
}

console.log(`examples/service benchmark on ${runtimeName()}, ${new Date().toISOString()}`);
if (httpResult !== undefined) {
  const { stack, bare, ratios, queries } = httpResult;
  const best = (runs: Run[]): number => Math.max(...runs.map((r) => r.rate));
  const cpu = (runs: Run[]): number => median(runs.map((r) => r.cpu));
  const ratio = best(stack) / best(bare);
  console.log(
    `\nGET /v1/organizations/:orgId, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s ` +
      "per side (best of the rounds):",
  );
  console.log("| app                  |   req/s | CPU µs/req | DB queries/req | req/s per round");
  console.log("| -------------------- | ------: | ---------: | -------------: | ---------------");
  const row = (name: string, runs: Run[], q: string): string =>
    `| ${name.padEnd(20)} | ${fmt(best(runs)).padStart(7)} | ${fmt(cpu(runs), 1).padStart(10)} | ${
      q.padStart(14)
    } | ${runs.map((r) => fmt(r.rate)).join(", ")}`;
  console.log(row("full stack (service)", stack, fmt(queries, 2)));
  console.log(row("bare Hono", bare, "1"));
  console.log(
    `stack / bare: ${ratio.toFixed(2)}× (best of rounds; target ≥ 0.70×: ${
      ratio >= 0.7 ? "met" : "MISSED"
    }); median of per-round ratios ${median(ratios).toFixed(2)}× (${
      ratios.map((r) => r.toFixed(2)).join(", ")
    }); CPU per request ${(cpu(bare) / cpu(stack)).toFixed(2)}× (bare / stack)`,
  );
}
if (startResults.length > 0) {
  console.log(
    "\nStart-up of examples/service/main.ts --serve, ms: spawn → /readyz 200 (the service's own " +
      `start_ms), SIGTERM → exit; later: median of ${STARTS}:`,
  );
  console.log("| backends     | start | ready  | start_ms | stop  |");
  console.log("| ------------ | ----- | -----: | -------: | ----: |");
  for (const { kind, first, later } of startResults) {
    const cells = (label: string, ready: number, service: number, stop: number): string =>
      `| ${kind.padEnd(12)} | ${label.padEnd(5)} | ${fmt(ready).padStart(6)} | ${
        fmt(service).padStart(8)
      } | ${fmt(stop).padStart(5)} |`;
    console.log(cells("first", first.ready, first.service, first.stop));
    console.log(
      cells(
        "later",
        median(later.map((s) => s.ready)),
        median(later.map((s) => s.service)),
        median(later.map((s) => s.stop)),
      ),
    );
  }
}
// Open keep-alive sockets of fetch must not hold the process.
process.exit(0);
