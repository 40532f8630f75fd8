// The same cases on the real PostgreSQL (a throwaway schema) and on the embedded PGlite (one
// fresh data directory per runtime, started once: its first start takes seconds). Both begin
// by applying the migrations from empty and applying them again as a no-op.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, migrationStatus, runMigrations } from "@plinth/database";
import { connectEmbedded } from "@plinth/database/embedded";
import { databaseUrl, needServer } from "@plinth/testing";
import { ROLES } from "@plinth/rbac";
import { CASES } from "./_behaviour.ts";
import { quiet, type TestSchema, testSchema } from "./_test_db.ts";
import { MODELS_MIGRATIONS } from "./migrations.ts";
import { createCachedTokenStore } from "./cached_token_store.ts";

const LONG = { timeout: 120_000 };

async function migrateTwice(db: Database): Promise<void> {
  const first = await runMigrations(db, { dir: MODELS_MIGRATIONS, logger: quiet });
  assert.deepEqual(first.applied.map((m) => m.name), ["models"]);
  assert.equal(first.current, 1);
  const again = await runMigrations(db, { dir: MODELS_MIGRATIONS, logger: quiet });
  assert.deepEqual(again.applied, []);
  assert.equal(again.current, 1);
  const status = await migrationStatus(db, { dir: MODELS_MIGRATIONS });
  assert.deepEqual(status.pending, []);
  const tables = await db.sql`select table_name from information_schema.tables
    where table_schema = current_schema() order by table_name`;
  assert.deepEqual(tables.map((r) => r.table_name), [
    "api_keys",
    "organizations",
    "plinth_migrations",
    "refresh_token_uses",
    "token_revocations",
    "usage_records",
    "users",
  ]);
  // One source of truth for roles: the CHECKs list exactly @plinth/rbac's ROLES.
  const [users] = await db.sql`select pg_get_constraintdef(c.oid) as def from pg_constraint c
    join pg_class t on t.oid = c.conrelid
    where c.conname = 'users_role_valid' and t.relnamespace = current_schema()::regnamespace`;
  assert.deepEqual([...String(users?.def).matchAll(/'([a-z_]+)'/g)].map((m) => m[1]), [...ROLES]);
  const [keys] = await db.sql`select pg_get_constraintdef(c.oid) as def from pg_constraint c
    join pg_class t on t.oid = c.conrelid
    where c.conname = 'api_keys_role_valid' and t.relnamespace = current_schema()::regnamespace`;
  assert.deepEqual(
    [...String(keys?.def).matchAll(/'([a-z_]+)'/g)].map((m) => m[1]),
    ROLES.filter((r) => r !== "system_admin"),
  );
}

// --- PostgreSQL ------------------------------------------------------------------------------

let pg: { schema: TestSchema; db: Database } | undefined;

test(
  "postgres: the migrations apply to an empty schema, then again as a no-op",
  LONG,
  async (t) => {
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
    const schema = await testSchema("models_contract", false);
    const db = await schema.pool(4);
    pg = { schema, db };
    await migrateTwice(db);
  },
);

for (const c of CASES) {
  test(`postgres: ${c.name}`, LONG, async (t) => {
    if (pg === undefined) return t.skip("PostgreSQL is not set up");
    await c.run(pg.db.sql);
  });
}

test("postgres: clean up", async () => {
  await pg?.schema.drop();
});

// --- PGlite ----------------------------------------------------------------------------------

let lite: { db: Database; dataDir: string } | undefined;

test("pglite: the migrations apply to an empty database, then again as a no-op", LONG, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "plinth-models-"));
  const db = await connectEmbedded({ dataDir, logger: quiet });
  lite = { db, dataDir };
  await migrateTwice(db);
});

for (const c of CASES) {
  test(`pglite: ${c.name}`, LONG, async (t) => {
    if (lite === undefined) return t.skip("PGlite did not start");
    await c.run(lite.db.sql);
  });
}

test(
  "pglite: createCachedTokenStore() refuses to LISTEN on it, naming listen: false",
  LONG,
  async (t) => {
    if (lite === undefined) return t.skip("PGlite did not start");
    await assert.rejects(createCachedTokenStore(lite.db.sql), {
      name: "TypeError",
      message: /embedded PGlite cannot LISTEN .*; pass listen: false$/,
    });
    await using store = await createCachedTokenStore(lite.db.sql, { listen: !lite.db.embedded });
    assert.equal(store.isRevoked("anything"), false);
  },
);

test("pglite: clean up", LONG, async () => {
  if (lite === undefined) return;
  await lite.db.close();
  rmSync(lite.dataDir, { recursive: true, force: true });
});
