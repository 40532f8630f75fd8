// @plinth/database against raw postgres.js, in one process, on the shared PostgreSQL:
// 1. 20 000 `select 1` at concurrency 25 through `db.sql` vs raw postgres.js (both max 25):
//    the target is an overhead of at most 10 % (median wall time of the rounds).
// 2. 100 concurrent queries with max 25: plinth's prewarmed pool vs an already-warm raw pool,
//    and a cold raw pool for scale (the slow path prewarming avoids).
// The two sides alternate round by round and the medians are compared, with the process's CPU
// time beside the wall time (the database server's work is not in it), so a busy machine skews
// both sides alike. BENCH_ROUNDS sets the rounds of case 1 (default 9).
// Case 1 also runs raw postgres.js with plinth's default idle_timeout (60 s) and max_lifetime
// (30 min), for reference: with an idle timeout the driver clears and re-arms a timer on every
// query. plinth keeps its default idleTimeout (60 s) here but closes idle connections itself
// with one sweep timer, so its driver runs with idle_timeout 0 (see database/README.md).
// Run: npm run bench -- database (Node 24, Deno and Bun in turn)
import process from "node:process";
import postgres from "postgres";
import { connectDatabase } from "@plinth/database";

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const driverOptions = { max: 25, onnotice: () => {} };

interface Sample {
  wall: number;
  cpu: number;
}

/** Runs `total` queries, `concurrency` at a time; wall and CPU milliseconds. */
async function run(
  query: () => Promise<unknown>,
  total: number,
  concurrency: number,
): Promise<Sample> {
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await query();
      }
    }),
  );
  const wall = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const raw = postgres(url, driverOptions);
await Promise.all(Array.from({ length: 25 }, () => raw`select 1`));
const rawIdle = postgres(url, { ...driverOptions, idle_timeout: 60, max_lifetime: 1_800 });
await Promise.all(Array.from({ length: 25 }, () => rawIdle`select 1`));
const db = await connectDatabase(url, { max: 25, logger: quiet });

// Warm-up (JIT, prepared statements on every connection), not measured.
await run(() => raw`select 1`, 2_000, 25);
await run(() => rawIdle`select 1`, 2_000, 25);
await run(() => db.sql`select 1`, 2_000, 25);

const bulk = { raw: [] as Sample[], plinth: [] as Sample[], rawIdle: [] as Sample[] };
for (let round = 0; round < rounds; round++) {
  const first = round % 2 === 0;
  if (first) bulk.raw.push(await run(() => raw`select 1`, 20_000, 25));
  bulk.plinth.push(await run(() => db.sql`select 1`, 20_000, 25));
  if (!first) bulk.raw.push(await run(() => raw`select 1`, 20_000, 25));
  bulk.rawIdle.push(await run(() => rawIdle`select 1`, 20_000, 25));
}

const burst = { raw: [] as number[], plinth: [] as number[], cold: [] as number[] };
for (let round = 0; round < 200; round++) {
  const first = round % 2 === 0;
  if (first) burst.raw.push((await run(() => raw`select 1`, 100, 100)).wall);
  burst.plinth.push((await run(() => db.sql`select 1`, 100, 100)).wall);
  if (!first) burst.raw.push((await run(() => raw`select 1`, 100, 100)).wall);
}
for (let round = 0; round < 5; round++) {
  const cold = postgres(url, driverOptions);
  burst.cold.push((await run(() => cold`select 1`, 100, 100)).wall);
  await cold.end();
}

const runtime = "Deno" in globalThis
  ? `deno ${(globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno}`
  : process.versions.bun
  ? `bun ${process.versions.bun}`
  : `node ${process.version}`;
const ms = (n: number) => n.toFixed(1);
const ratio = (a: number, b: number) => (a / b).toFixed(3);
const rawWall = median(bulk.raw.map((s) => s.wall));
const plinthWall = median(bulk.plinth.map((s) => s.wall));
const rawCpu = median(bulk.raw.map((s) => s.cpu));
const plinthCpu = median(bulk.plinth.map((s) => s.cpu));
const rawIdleWall = median(bulk.rawIdle.map((s) => s.wall));
const rawIdleCpu = median(bulk.rawIdle.map((s) => s.cpu));
console.log(`@plinth/database vs postgres.js 3.4 on ${runtime} (medians)`);
console.log("| case | postgres.js | plinth | plinth / raw |");
console.log("| --- | ---: | ---: | ---: |");
console.log(
  `| 20 000 \`select 1\`, concurrency 25, wall ms (${rounds} rounds) | ${ms(rawWall)} | ${
    ms(plinthWall)
  } | ${ratio(plinthWall, rawWall)} |`,
);
console.log(
  `| 20 000 \`select 1\`, concurrency 25, CPU ms (${rounds} rounds) | ${ms(rawCpu)} | ${
    ms(plinthCpu)
  } | ${ratio(plinthCpu, rawCpu)} |`,
);
console.log(
  `| same, raw with idle_timeout 60 s (plinth's default), wall ms | ${ms(rawIdleWall)} | ${
    ms(plinthWall)
  } | ${ratio(plinthWall, rawIdleWall)} |`,
);
console.log(
  `| same, raw with idle_timeout 60 s (plinth's default), CPU ms | ${ms(rawIdleCpu)} | ${
    ms(plinthCpu)
  } | ${ratio(plinthCpu, rawIdleCpu)} |`,
);
console.log(
  `| 100 concurrent, max 25: warm raw vs plinth, ms (200 rounds) | ${ms(median(burst.raw))} | ${
    ms(median(burst.plinth))
  } | ${ratio(median(burst.plinth), median(burst.raw))} |`,
);
console.log(
  `| 100 concurrent, max 25: cold raw vs plinth, ms (5 rounds) | ${ms(median(burst.cold))} | ${
    ms(median(burst.plinth))
  } | ${ratio(median(burst.plinth), median(burst.cold))} |`,
);
const overhead = plinthWall / rawWall - 1;
console.log(
  `\n20 000 select 1 overhead: ${(overhead * 100).toFixed(1)} % wall, ${
    ((plinthCpu / rawCpu - 1) * 100).toFixed(1)
  } % CPU (target: at most 10 % wall: ${overhead <= 0.1 ? "met" : "NOT met"})`,
);
// The same rounds paired: each round's plinth run against the raw run beside it, so that a
// drift of the machine's speed over the run (other processes, CPU frequency) cancels out.
const paired = (key: keyof Sample): string => {
  const ratios = bulk.plinth.map((s, i) => s[key] / bulk.raw[i]![key]).sort((a, b) => a - b);
  const at = (q: number): number =>
    ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))]!;
  return `median ${ratio(median(ratios), 1)} (quartiles ${ratio(at(0.25), 1)}–${
    ratio(at(0.75), 1)
  })`;
};
console.log(
  `per-round plinth / raw, paired: wall ${paired("wall")}, CPU ${paired("cpu")}`,
);
await raw.end();
await rawIdle.end();
await db.close();
