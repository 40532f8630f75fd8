// @plinth/models against hand-written SQL, on the real PostgreSQL (a throwaway schema), one pool
// of 25 connections (`connectDatabase` of @plinth/database) for both sides:
//
// - consumeTokens(sql, orgId, 1) against the plain `UPDATE … SET used = used + n WHERE id = $1
//   AND used + n <= budget RETURNING …` written by hand, 25 concurrent callers charging 100
//   organisations at random; charges per second, target ≥ 0.9×. consumeTokens with a usage row
//   (the same statement inserts it) is shown beside them, for information;
// - lookupApiKey(sql, publicId) against a hand-written `SELECT … WHERE public_id = $1`, one at
//   a time; median and p99 latency in µs.
//
// Rounds alternate between the sides; each figure is the best of its rounds.
//
//   node bench/models.ts            (Node 24)
//   deno run -A bench/models.ts
//   bun bench/models.ts
import process from "node:process";
import { connectDatabase, runMigrations } from "@plinth/database";
import {
  consumeTokens,
  createApiKey,
  createOrganization,
  lookupApiKey,
  MODELS_MIGRATIONS,
} from "@plinth/models";

const ROUNDS = 5;
const CHARGES = 10_000;
const WORKERS = 25;
const LOOKUPS = 3_000;
const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function runtime(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.deno !== undefined) return `Deno ${versions.deno}`;
  if (versions.bun !== undefined) return `Bun ${versions.bun}`;
  return `Node ${process.versions.node}`;
}

const schema = `bench_models_${process.pid}_${Date.now().toString(36)}`;
const admin = await connectDatabase(url, { max: 1, logger: quiet });
await admin.sql.unsafe(`create schema ${schema}`);
const db = await connectDatabase(url, {
  max: WORKERS,
  logger: quiet,
  connection: { search_path: schema },
});
try {
  await runMigrations(db, { dir: MODELS_MIGRATIONS, logger: quiet });
  const orgs: string[] = [];
  for (let i = 0; i < 100; i++) {
    const org = await createOrganization(db.sql, {
      name: `bench-${i}`,
      display_name: `Bench ${i}`,
      budget_tokens_monthly: 1e15,
    });
    orgs.push(org.id);
  }
  const { api_key } = await createApiKey(db.sql, {
    org_id: orgs[0]!,
    name: "bench",
    role: "org_user",
  });
  const keys = [api_key.public_id];
  for (let i = 1; i < 50; i++) {
    keys.push(
      (await createApiKey(db.sql, { org_id: orgs[i]!, name: "b", role: "org_user" })).api_key
        .public_id,
    );
  }

  const sql = db.sql;
  const sides: Record<string, (org: string) => Promise<unknown>> = {
    "consumeTokens": (org) => consumeTokens(sql, org, 1),
    "hand-written UPDATE": (org) =>
      sql`update organizations
        set tokens_used_current_month = tokens_used_current_month + ${1}
        where id = ${org} and status = 'active'
          and tokens_used_current_month + ${1} <= budget_tokens_monthly
        returning budget_tokens_monthly, tokens_used_current_month`,
    "consumeTokens + usage row": (org) =>
      consumeTokens(sql, org, 1, {
        usage: {
          api_key_id: api_key.public_id,
          model: "m",
          prompt_tokens: 1,
          completion_tokens: 0,
        },
      }),
  };

  const chargesPerSecond = async (
    charge: (org: string) => Promise<unknown>,
  ): Promise<number> => {
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < CHARGES) {
          const i = next++;
          await charge(orgs[(i * 7919) % orgs.length]!);
        }
      }),
    );
    return CHARGES / ((performance.now() - start) / 1000);
  };

  const lookups: Record<string, (id: string) => Promise<unknown>> = {
    lookupApiKey: (id) => lookupApiKey(sql, id),
    "hand-written SELECT": (id) =>
      sql`select key_hash, org_id, role, scopes, revoked_at, expires_at
        from api_keys where public_id = ${id}`,
  };

  const latencies = async (
    lookup: (id: string) => Promise<unknown>,
  ): Promise<[number, number]> => {
    const times: number[] = [];
    for (let i = 0; i < LOOKUPS; i++) {
      const start = performance.now();
      await lookup(keys[i % keys.length]!);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return [times[Math.floor(LOOKUPS / 2)]! * 1000, times[Math.floor(LOOKUPS * 0.99)]! * 1000];
  };

  // warm-up
  for (const charge of Object.values(sides)) await chargesPerSecond(charge);
  for (const lookup of Object.values(lookups)) await latencies(lookup);

  const best: Record<string, number> = {};
  const lat: Record<string, [number, number]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const names = Object.keys(sides);
    if (round % 2 === 1) names.reverse();
    for (const name of names) {
      best[name] = Math.max(best[name] ?? 0, await chargesPerSecond(sides[name]!));
    }
    const lnames = Object.keys(lookups);
    if (round % 2 === 1) lnames.reverse();
    for (const name of lnames) {
      const [p50, p99] = await latencies(lookups[name]!);
      const prev = lat[name];
      lat[name] = prev === undefined
        ? [p50, p99]
        : [Math.min(prev[0], p50), Math.min(prev[1], p99)];
    }
  }

  const hand = best["hand-written UPDATE"]!;
  const ratio = best["consumeTokens"]! / hand;
  console.log(
    `${runtime()}, ${WORKERS} connections, ${CHARGES} charges per round, best of ${ROUNDS}`,
  );
  for (const [name, value] of Object.entries(best)) {
    console.log(
      `  ${name.padEnd(26)} ${Math.round(value).toString().padStart(7)} charges/s  ${
        (value / hand).toFixed(2)
      }×`,
    );
  }
  console.log(
    `  consumeTokens / hand-written: ${ratio.toFixed(2)}× (target ≥ 0.90×: ${
      ratio >= 0.9 ? "met" : "missed"
    })`,
  );
  for (const [name, [p50, p99]] of Object.entries(lat)) {
    console.log(
      `  ${name.padEnd(26)} p50 ${p50.toFixed(0).padStart(4)} µs  p99 ${
        p99.toFixed(0).padStart(5)
      } µs`,
    );
  }
} finally {
  await db.close();
  await admin.sql.unsafe(`drop schema ${schema} cascade`);
  await admin.close();
}
