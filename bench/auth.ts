/**
 * Benchmark: @plinth/auth side by side with its anchors, in one process.
 *
 * - cold `verifyAccessToken` (cache off, every token new) vs raw `jose.jwtVerify` with the
 *   same key and the same checks (ES256 and HS256): target ≤ 1.1×;
 * - cached `verifyAccessToken` of one token: target < 2 µs per call;
 * - `verifyApiKey` (node:crypto SHA-256 + constant-time compare): target < 5 µs per call;
 * - HTTP, on every runtime: a Hono app with `authenticate()` + `requirePermission()`
 *   registered the ordinary way (`app.use` + a route middleware) against the same app with two
 *   no-op middlewares in their place, same JSON route, each served by a child process of the
 *   same runtime (`Deno.serve`, `Bun.serve`, `@hono/node-server`) and loaded by autocannon from
 *   this process over one fixed token: target ≥ 0.90× the no-op app's requests per second (the
 *   median of the per-round ratios). The bare app (no middleware) is measured for scale.
 *
 * Run: `npm run bench -- auth` (Node 24, Deno, Bun), or one runtime: `node bench/auth.ts`,
 * `deno run -A bench/auth.ts`, `bun bench/auth.ts`. `BENCH_SECONDS`, `BENCH_ROUNDS` and
 * `BENCH_HTTP=0` adjust the HTTP part.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { exportJWK, generateKeyPair, importJWK, jwtVerify } from "jose";
import { createTokenIssuer, createTokenVerifier, generateApiKey, verifyApiKey } from "@plinth/auth";

const runtime = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined"
  ? "Deno"
  : typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? "Bun"
  : `Node ${process.versions.node}`;
const ISSUER = { issuer: "https://auth.bench", audience: "api" } as const;
const SECRET = "bench-secret-bench-secret-bench-secret!";
const subject = { userId: "u1", orgId: "acme", role: "org_admin" };
const rows: string[][] = [];
const notes: string[] = [];

function fmt(n: number, digits = 2): string {
  return n.toFixed(digits);
}

/** Best µs per call over `rounds` rounds of `n` sequential calls. */
async function perCall(n: number, rounds: number, fn: (i: number) => unknown): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) await fn(i);
    best = Math.min(best, ((performance.now() - start) * 1000) / n);
  }
  return best;
}

function syncPerCall(n: number, rounds: number, fn: () => unknown): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) fn();
    best = Math.min(best, ((performance.now() - start) * 1000) / n);
  }
  return best;
}

async function cold(alg: "ES256" | "HS256"): Promise<void> {
  const N = alg === "ES256" ? 2000 : 5000;
  let issuer;
  let key: CryptoKey | Uint8Array;
  let verifier;
  if (alg === "ES256") {
    const pair = await generateKeyPair("ES256", { extractable: true });
    issuer = createTokenIssuer({ ...ISSUER, privateKey: pair.privateKey, kid: "es" });
    const jwk = { ...await exportJWK(pair.publicKey), kid: "es" };
    // The anchor gets the key the way the verifier gets it: imported from the same JWK.
    key = await importJWK(jwk, "ES256") as CryptoKey;
    verifier = createTokenVerifier({ ...ISSUER, keys: [jwk], cacheSize: 0 });
  } else {
    issuer = createTokenIssuer({ ...ISSUER, secret: SECRET, kid: "hs" });
    key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    verifier = createTokenVerifier({ ...ISSUER, secret: SECRET, cacheSize: 0 });
  }
  const tokens: string[] = [];
  for (let i = 0; i < N; i++) tokens.push((await issuer.generateTokenPair(subject)).accessToken);
  const options = { ...ISSUER, algorithms: [alg], typ: "at+jwt" };
  const anchor = (i: number): unknown => jwtVerify(tokens[i] as string, key, options);
  const plinth = (i: number): unknown => verifier.verifyAccessToken(tokens[i] as string);
  await perCall(N, 1, anchor);
  await perCall(N, 1, plinth);
  // Interleave small batches, alternating which goes first, so that both see the same machine
  // load (this machine is shared); sum each side's time over every batch.
  const BATCH = 50;
  let a = 0;
  let p = 0;
  for (let round = 0; round < 3; round++) {
    for (let start = 0; start < N; start += BATCH) {
      const first = (start / BATCH) % 2 === 0;
      for (const side of first ? [0, 1] : [1, 0]) {
        const fn = side === 0 ? anchor : plinth;
        const t0 = performance.now();
        for (let i = start; i < start + BATCH; i++) await fn(i);
        const spent = performance.now() - t0;
        if (side === 0) a += spent;
        else p += spent;
      }
    }
  }
  a = (a * 1000) / (3 * N);
  p = (p * 1000) / (3 * N);
  rows.push([
    `verifyAccessToken cold, ${alg}`,
    `${fmt(p)} µs`,
    `jose.jwtVerify ${fmt(a)} µs`,
    `${fmt(p / a)}×`,
    "≤ 1.10×",
    p / a <= 1.1 ? "met" : "MISSED",
  ]);
}

async function cached(): Promise<void> {
  const issuer = createTokenIssuer({ ...ISSUER, secret: SECRET, kid: "hs" });
  const verifier = createTokenVerifier({ ...ISSUER, secret: SECRET });
  const token = (await issuer.generateTokenPair(subject)).accessToken;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  await verifier.verifyAccessToken(token);
  const anchorUs = await perCall(5000, 3, () => jwtVerify(token, key, ISSUER));
  const us = await perCall(200_000, 5, () => verifier.verifyAccessToken(token));
  rows.push([
    "verifyAccessToken cached",
    `${fmt(us, 3)} µs`,
    `jose.jwtVerify ${fmt(anchorUs)} µs`,
    `${fmt(us / anchorUs, 3)}×`,
    "< 2 µs",
    us < 2 ? "met" : "MISSED",
  ]);
}

function apiKeys(): void {
  const { key, hash } = generateApiKey();
  const us = syncPerCall(200_000, 5, () => verifyApiKey(key, hash));
  rows.push(["verifyApiKey", `${fmt(us, 3)} µs`, "—", "—", "< 5 µs", us < 5 ? "met" : "MISSED"]);
}

interface Server {
  port: number;
  stop: () => Promise<void>;
}

function startServer(mode: string): Promise<Server> {
  // The server runs on the benchmark's own runtime (Deno needs `run -A`).
  const args = runtime === "Deno" ? ["run", "-A"] : [];
  const child = spawn(process.execPath, [
    ...args,
    fileURLToPath(new URL("./_auth_server.ts", import.meta.url)),
    mode,
  ], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("bench server did not start in 10 s")), 10_000);
    createInterface({ input: child.stdout }).once("line", (line) => {
      clearTimeout(timer);
      resolve({
        port: JSON.parse(line).port,
        stop: () =>
          new Promise((done) => {
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
    child.once("error", reject);
  });
}

async function cpuOf(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/cpu`);
  return ((await res.json()) as { cpu: number }).cpu;
}

interface Run {
  /** Requests per second. */
  rate: number;
  /** Server CPU time per request, µs. */
  cpu: number;
}

async function measure(port: number, token: string, seconds: number): Promise<Run> {
  const before = await cpuOf(port);
  const { rate, total } = await load(port, token, seconds);
  const after = await cpuOf(port);
  return { rate, cpu: (after - before) / total };
}

async function load(
  port: number,
  token: string,
  seconds: number,
): Promise<{ rate: number; total: number }> {
  const { default: autocannon } = await import("autocannon");
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/orgs/acme`,
    connections: 32,
    pipelining: 1,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`Load run failed: ${result.non2xx} non-2xx, ${result.errors} errors`);
  }
  return { rate: result.requests.average, total: result.requests.total };
}

async function http(): Promise<void> {
  const issuer = createTokenIssuer({ ...ISSUER, secret: SECRET, kid: "hs", accessTtl: 3_600_000 });
  const token = (await issuer.generateTokenPair(subject)).accessToken;
  const seconds = Number(process.env["BENCH_SECONDS"] ?? 4);
  const rounds = Number(process.env["BENCH_ROUNDS"] ?? 5);
  // The servers run at once; short runs rotate between them, so that all see the same machine
  // load. "noop" has auth's shape (two middlewares) doing nothing; "bare" is for scale.
  const modes = ["noop", "auth", "bare"] as const;
  const servers = {
    noop: await startServer("noop"),
    auth: await startServer("auth"),
    bare: await startServer("bare"),
  };
  const results: Record<string, number[]> = { noop: [], auth: [], bare: [] };
  const cpu: Record<string, number[]> = { noop: [], auth: [], bare: [] };
  const ratios: number[] = [];
  try {
    for (const mode of modes) await load(servers[mode].port, token, 1); // warm-up
    for (let round = 0; round < rounds; round++) {
      // noop and auth back to back in each round (their order alternating), so that each
      // round's ratio compares runs made under the same load.
      const order = round % 2 === 0 ? modes : (["auth", "noop", "bare"] as const);
      const rates: Record<string, number> = {};
      for (const mode of order) {
        const run = await measure(servers[mode].port, token, seconds);
        rates[mode] = run.rate;
        results[mode]!.push(run.rate);
        cpu[mode]!.push(run.cpu);
      }
      ratios.push(rates["auth"]! / rates["noop"]!);
    }
  } finally {
    await Promise.all(modes.map((mode) => servers[mode].stop()));
  }
  const median = (values: number[]): number => {
    const sorted = [...values].sort((x, y) => x - y);
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const [noop, auth, bare] = [
    median(results["noop"]!),
    median(results["auth"]!),
    median(
      results["bare"]!,
    ),
  ];
  const ratio = median(ratios);
  // Requests per second a saturated server reaches go as 1 / CPU per request.
  const [noopCpu, authCpu] = [median(cpu["noop"]!), median(cpu["auth"]!)];
  const runs = (mode: string): string => results[mode]!.map(Math.round).join(", ");
  notes.push(
    `HTTP runs (${seconds} s each, 32 connections, ${rounds} rounds), req/s: two no-op ` +
      `middlewares ${runs("noop")}; authenticate + requirePermission ${runs("auth")}; bare ` +
      `${runs("bare")}; per-round ratios auth/noop ${ratios.map((r) => fmt(r, 3)).join(", ")}; ` +
      `server CPU per request (µs, median): noop ${fmt(noopCpu, 1)}, auth ${fmt(authCpu, 1)}, ` +
      `bare ${fmt(median(cpu["bare"]!), 1)}`,
  );
  rows.push([
    "HTTP req/s, authenticate + requirePermission",
    `${Math.round(auth)} req/s`,
    `two no-op middlewares ${Math.round(noop)} req/s`,
    `${fmt(ratio, 3)}×`,
    "≥ 0.90×",
    ratio >= 0.9 ? "met" : "MISSED",
  ]);
  rows.push([
    "server CPU per request, the same",
    `${fmt(authCpu, 1)} µs`,
    `two no-op middlewares ${fmt(noopCpu, 1)} µs`,
    `${fmt(noopCpu / authCpu, 3)}× req/s`,
    "≥ 0.90×",
    noopCpu / authCpu >= 0.9 ? "met" : "MISSED",
  ]);
  rows.push([
    "HTTP req/s, bare Hono (no middleware)",
    `${Math.round(bare)} req/s`,
    "—",
    `${fmt(bare / noop)}× noop`,
    "—",
    "",
  ]);
}

await cold("ES256");
await cold("HS256");
await cached();
apiKeys();
if (process.env["BENCH_HTTP"] !== "0") await http();

const header = ["measure", "plinth", "anchor", "ratio", "target", ""];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
const line = (cells: string[]): string =>
  `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
console.log(`@plinth/auth benchmark on ${runtime}`);
console.log(line(header));
console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
for (const row of rows) console.log(line(row));
for (const note of notes) console.log(note);
