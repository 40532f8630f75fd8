/**
 * Benchmark: @plinth/auth side by side with its anchors, in one process.
 *
 * - cold `verifyAccessToken` (cache off, every token new) vs raw `jose.jwtVerify` with the
 *   same key and the same checks (ES256 and HS256): target ≤ 1.1×;
 * - cached `verifyAccessToken` of one token: target < 2 µs per call;
 * - `verifyApiKey` (node:crypto SHA-256 + constant-time compare): target < 5 µs per call;
 * - on Node only: a Hono app with `authenticate()` + `requirePermission()` vs the bare app,
 *   same JSON route, served by a child process (@hono/node-server), loaded by autocannon from
 *   this process over one fixed token: target ≥ 0.85× the bare app's requests per second. Two
 *   usages are measured: the middlewares registered the plain Hono way (`app.use` + route
 *   middleware), and the same middlewares and handler run by `chain()` as the route's one
 *   handler; and, to separate Hono's own cost of two middlewares, an app with two no-op ones.
 *
 * Run: `node bench/auth.ts`, `deno run -A bench/auth.ts` or `bun bench/auth.ts`.
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
  const child = spawn(process.execPath, [
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

async function load(port: number, token: string, seconds: number): Promise<number> {
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
  return result.requests.average;
}

async function http(): Promise<void> {
  const issuer = createTokenIssuer({ ...ISSUER, secret: SECRET, kid: "hs", accessTtl: "1h" });
  const token = (await issuer.generateTokenPair(subject)).accessToken;
  const seconds = Number(process.env["BENCH_SECONDS"] ?? 4);
  // The servers run at once; short runs rotate between them, so that all see the same machine
  // load. Each side's best run counts. "noop" has auth's shape (two middlewares) doing nothing;
  // "chain" is auth's middlewares and handler run by chain() as the route's one handler.
  const modes = ["bare", "noop", "auth", "chain"] as const;
  const servers = {
    bare: await startServer("bare"),
    noop: await startServer("noop"),
    auth: await startServer("auth"),
    chain: await startServer("chain"),
  };
  const results: Record<string, number[]> = { bare: [], noop: [], auth: [], chain: [] };
  try {
    for (const mode of modes) await load(servers[mode].port, token, 1); // warm-up
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < modes.length; i++) {
        const mode = modes[(i + round) % modes.length] as (typeof modes)[number];
        results[mode]!.push(await load(servers[mode].port, token, seconds));
      }
    }
  } finally {
    await Promise.all(modes.map((mode) => servers[mode].stop()));
  }
  const best = (mode: string): number => Math.max(...results[mode]!);
  const [bare, noop, auth, chained] = [best("bare"), best("noop"), best("auth"), best("chain")];
  const runs = (mode: string): string => results[mode]!.map(Math.round).join(", ");
  notes.push(
    `HTTP runs (${seconds} s each, 32 connections), req/s: bare ${runs("bare")}; two no-op ` +
      `middlewares ${runs("noop")}; authenticate + requirePermission ${runs("auth")}; the same ` +
      `in chain() ${runs("chain")}`,
  );
  rows.push([
    "HTTP req/s, authenticate + requirePermission",
    `${Math.round(auth)} req/s`,
    `bare Hono ${Math.round(bare)} req/s`,
    `${fmt(auth / bare)}×`,
    "≥ 0.85×",
    auth / bare >= 0.85 ? "met" : "MISSED",
  ]);
  rows.push([
    "HTTP req/s, the same in chain()",
    `${Math.round(chained)} req/s`,
    `bare Hono ${Math.round(bare)} req/s`,
    `${fmt(chained / bare)}×`,
    "≥ 0.85×",
    chained / bare >= 0.85 ? "met" : "MISSED",
  ]);
  rows.push([
    "HTTP req/s, two no-op middlewares",
    `${Math.round(noop)} req/s`,
    `bare Hono ${Math.round(bare)} req/s`,
    `${fmt(noop / bare)}×`,
    "—",
    "",
  ]);
}

await cold("ES256");
await cold("HS256");
await cached();
apiKeys();
const isNode = runtime.startsWith("Node");
if (isNode && process.env["BENCH_HTTP"] !== "0") await http();

const header = ["measure", "plinth", "anchor", "ratio", "target", ""];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
const line = (cells: string[]): string =>
  `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
console.log(`@plinth/auth benchmark on ${runtime}`);
console.log(line(header));
console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
for (const row of rows) console.log(line(row));
for (const note of notes) console.log(note);
if (!isNode) console.log("(the HTTP comparison runs on Node: node bench/auth.ts)");
