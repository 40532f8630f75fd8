/**
 * The embedded PostgreSQL of `@plinth/database`: {@linkcode connectEmbedded} runs PGlite in this
 * process, serves it on 127.0.0.1 and returns the same `Database` as `connectDatabase()`, with
 * one connection at a time. For development and tests without a PostgreSQL server.
 *
 * PGlite (about 27 MB) is an optional peer dependency, loaded only by this entry point:
 * `npm i @electric-sql/pglite @electric-sql/pglite-socket` to use it. The main entry point
 * `@plinth/database` never references it.
 *
 * @example
 * ```ts
 * import { connectEmbedded } from "@plinth/database/embedded";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectEmbedded({ dataDir: join(tmpdir(), "plinth-example-embedded") });
 * await db.sql`create temporary table notes (body text not null)`;
 * await db.sql`insert into notes values (${"hello"})`;
 * const [row] = await db.sql`select count(*)::int as n from notes`;
 * assert.equal(row?.n, 1);
 * ```
 *
 * @module
 */
export * from "./connect_embedded.ts";
