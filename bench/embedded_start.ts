// Start-up time of the embedded database (@plinth/database/embedded): each start runs in a new
// process of the same runtime, as a service or a test run would, so the figures include loading
// PGlite (its WASM is compiled on every start).
// - first start: a new, empty data directory (PostgreSQL's initdb runs), BENCH_FIRST times (3);
// - later start: the same data directory again, BENCH_LATER times (5).
// For each start: importing @plinth/database/embedded, connectEmbedded() until its connection
// answered (PGlite's own part, "PGlite ready", beside it), and the whole child process's wall
// time, from spawn to exit (runtime start-up, the above, a query and close()). Medians.
// Run: npm run bench -- embedded_start (Node 24, Deno and Bun in turn), or one runtime:
//   node bench/embedded_start.ts | deno run -A bench/embedded_start.ts | bun bench/embedded_start.ts
//   node --import tsx bench/embedded_start.ts (Node 20)
import process from "node:process";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

interface Sample {
  import: number;
  connect: number;
  pglite: number;
  rss: number;
  wall: number;
}

/** In the child: one start in `dataDir`, printed as JSON on the last line. */
async function child(dataDir: string): Promise<void> {
  let pglite = Number.NaN;
  const quiet = {
    debug() {},
    info(message: string, fields?: Readonly<Record<string, unknown>>) {
      if (message === "PGlite ready") pglite = Number(fields?.duration_ms);
    },
    warn() {},
    error() {},
  };
  const t0 = performance.now();
  const { connectEmbedded } = await import("@plinth/database/embedded");
  const t1 = performance.now();
  const db = await connectEmbedded({ dataDir, logger: quiet });
  const t2 = performance.now();
  await db.sql`select 1`;
  const rss = process.memoryUsage().rss / 2 ** 20;
  await db.close();
  console.log(JSON.stringify({ import: t1 - t0, connect: t2 - t1, pglite, rss }));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function runtimeName(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if ("Deno" in globalThis) return `Deno ${versions.deno}`;
  if (versions.bun !== undefined) return `Bun ${versions.bun}`;
  return `Node ${versions.node}`;
}

/** Starts this file as a child of the same runtime in `dataDir`. */
function spawnStart(dataDir: string): Sample {
  const self = fileURLToPath(import.meta.url);
  // Node's own flags (`--import tsx` on Node 20) carry over to the child.
  const args = "Deno" in globalThis ? ["run", "-A", self] : [...process.execArgv, self];
  const started = performance.now();
  const result = spawnSync(process.execPath, [...args, "--child", dataDir], { encoding: "utf8" });
  const wall = performance.now() - started;
  if (result.status !== 0) {
    throw new Error(`The start failed (exit ${result.status}): ${result.stderr}${result.stdout}`);
  }
  const last = result.stdout.trim().split("\n").at(-1)!;
  return { ...JSON.parse(last), wall };
}

function row(name: string, samples: readonly Sample[]): string {
  const m = (key: keyof Sample): string => median(samples.map((s) => s[key])).toFixed(0);
  return `| ${name.padEnd(13)} | ${String(samples.length).padStart(2)} | ${
    m("import").padStart(6)
  } | ${m("connect").padStart(7)} | ${m("pglite").padStart(6)} | ${m("wall").padStart(6)} | ${
    m("rss").padStart(3)
  } |`;
}

async function main(): Promise<void> {
  const childAt = process.argv.indexOf("--child");
  if (childAt !== -1) return await child(process.argv[childAt + 1]!);
  const firsts = Number(process.env.BENCH_FIRST ?? 3);
  const laters = Number(process.env.BENCH_LATER ?? 5);
  const first: Sample[] = [];
  const later: Sample[] = [];
  const dirs: string[] = [];
  try {
    for (let i = 0; i < firsts; i++) {
      dirs.push(mkdtempSync(join(tmpdir(), "plinth-bench-pglite-")));
      first.push(spawnStart(dirs.at(-1)!));
    }
    for (let i = 0; i < laters; i++) later.push(spawnStart(dirs[0]!));
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${runtimeName()}, ${new Date().toISOString()}: medians in ms (RSS in MiB)`);
  console.log("| start         |  n | import | connect | PGlite | wall   | RSS |");
  console.log("| ------------- | -- | ------ | ------- | ------ | ------ | --- |");
  console.log(row("first (empty)", first));
  console.log(row("later", later));
}

await main();
