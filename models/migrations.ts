/**
 * The folder of this package's SQL migrations (`NNNN_name.sql`), for `runMigrations()` of
 * `@plinth/database`: it creates the tables (organisations, users, API keys, usage, and the
 * refresh-token store) in the first schema of the connection's `search_path`. Apply it before
 * using the queries, on PostgreSQL or the embedded PGlite; a second run applies nothing.
 *
 * @example
 * ```ts
 * import { MODELS_MIGRATIONS } from "@plinth/models";
 * import { readdirSync } from "node:fs";
 * import assert from "node:assert/strict";
 *
 * assert.ok(readdirSync(MODELS_MIGRATIONS).includes("0001_models.sql"));
 * ```
 *
 * @example Applying them
 * ```ts ignore
 * import { connectDatabase, runMigrations } from "@plinth/database";
 * import { MODELS_MIGRATIONS } from "@plinth/models";
 *
 * await using db = await connectDatabase(process.env.DATABASE_URL!);
 * await runMigrations(db, { dir: MODELS_MIGRATIONS });
 * ```
 */
export const MODELS_MIGRATIONS: URL = new URL("./migrations/", import.meta.url);
