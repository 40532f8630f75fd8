// Test-only (publish.exclude): a throwaway schema on the shared PostgreSQL with this package's
// migrations applied, and pools whose search_path points at it (two pools = two replicas).
import { connectDatabase, type Database, runMigrations } from "@plinth/database";
import { databaseUrl, uniqueName } from "@plinth/testing";
import { MODELS_MIGRATIONS } from "./migrations.ts";

export interface TestSchema {
  readonly name: string;
  /** A new pool on the schema (closed by `drop()` if still open). */
  pool(max?: number): Promise<Database>;
  /** Closes the pools and drops the schema. */
  drop(): Promise<void>;
}

export async function testSchema(prefix = "models", migrate = true): Promise<TestSchema> {
  const name = uniqueName(prefix).toLowerCase();
  const pools: Database[] = [];
  const admin = await connectDatabase(databaseUrl, { max: 1, prewarm: false, logger: quiet });
  await admin.sql.unsafe(`create schema ${name}`);
  async function pool(max = 4): Promise<Database> {
    const db = await connectDatabase(databaseUrl, {
      max,
      prewarm: false,
      connection: { search_path: name },
      logger: quiet,
    });
    pools.push(db);
    return db;
  }
  if (migrate) {
    const db = await pool(1);
    await runMigrations(db, { dir: MODELS_MIGRATIONS, logger: quiet });
  }
  return {
    name,
    pool,
    async drop(): Promise<void> {
      for (const db of pools) await db.close();
      await admin.sql.unsafe(`drop schema ${name} cascade`);
      await admin.close();
    },
  };
}

export const quiet = { debug() {}, info() {}, warn() {}, error() {} };
