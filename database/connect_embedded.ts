import { resolve as resolvePath } from "node:path";
import { getLogger } from "@plinth/logging";
import { connectDatabase, type ConnectDatabaseOptions } from "./connect_database.ts";
import type { Database } from "./database.ts";
import { lendServer } from "./_embedded.ts";
import { settingsOf, text } from "./_options.ts";
import { startPglite } from "./_pglite.ts";

/**
 * Options of {@linkcode connectEmbedded}: the data directory, and the pool options of
 * `connectDatabase()` that apply to a server in this process (durations in milliseconds). The
 * server's address, credentials, TLS and the pool size are plinth's to set.
 *
 * @example
 * ```ts
 * import { connectEmbedded, type ConnectEmbeddedOptions } from "@plinth/database/embedded";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const options: ConnectEmbeddedOptions = {
 *   dataDir: join(tmpdir(), "plinth-example-options"),
 *   applicationName: "billing",
 *   queueTimeout: 2_000,
 *   slowQueryThreshold: 200,
 * };
 * assert.equal(options.queueTimeout, 2_000);
 * // connectEmbedded(options) starts it; a server's options are refused:
 * await assert.rejects(
 *   connectEmbedded({ ...options, url: "postgres://localhost/x" } as ConnectEmbeddedOptions),
 *   { name: "TypeError", message: /option "url" does not apply/ },
 * );
 * ```
 */
export interface ConnectEmbeddedOptions extends
  Omit<
    ConnectDatabaseOptions,
    | "url"
    | "host"
    | "port"
    | "database"
    | "user"
    | "password"
    | "ssl"
    | "sslnegotiation"
    | "target_session_attrs"
    | "socket"
    | "env"
    | "max"
    | "prewarm"
  > {
  /**
   * The data directory, created and initialised on the first start (which takes seconds; later
   * starts take a fraction of one). One process at a time may open it. @default {".data/pglite"}
   */
  readonly dataDir?: string | undefined;
}

/** Options of connectDatabase() that name a server or a pool size, which the embedded one fixes. */
const FIXED_OPTIONS = [
  "url",
  "host",
  "port",
  "database",
  "user",
  "password",
  "ssl",
  "sslnegotiation",
  "target_session_attrs",
  "socket",
  "env",
  "max",
  "prewarm",
];

/**
 * Starts an embedded PostgreSQL (PGlite, in this process, persisted to `dataDir`) and connects
 * to it: the same {@linkcode Database} as `connectDatabase()` returns, with one connection at a
 * time, whose `close()` also stops the embedded server. For development and tests when there is
 * no PostgreSQL server; it needs the optional peer dependencies `@electric-sql/pglite` and
 * `@electric-sql/pglite-socket`.
 *
 * Progress goes to the logger at `info`: the start (the first start of a data directory
 * initialises PostgreSQL, which takes seconds), `PGlite ready` with `duration_ms`, and the
 * `address` it listens on (127.0.0.1, a port the system picks).
 *
 * @param options The data directory and pool options; every one is checked before the start.
 * @returns The connected database, once its connection answered.
 * @throws {TypeError} When an option has the wrong type or names a server (`url`, `host`, …).
 * @throws {RangeError} When a number option is out of range.
 * @throws {DatabaseError} `connect_failed` when PGlite is not installed, a permission is missing
 * (the message names it, and Deno's flag), or the server does not answer.
 *
 * @example
 * ```ts
 * import { connectEmbedded } from "@plinth/database/embedded";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const db = await connectEmbedded({ dataDir: join(tmpdir(), "plinth-example-connect") });
 * assert.equal(db.embedded, true);
 * assert.equal(db.stats().max, 1);
 * const [row] = await db.sql`select ${41}::int + 1 as answer`;
 * assert.equal(row?.answer, 42);
 * await db.close();
 * await assert.rejects(db.sql`select 1`, { code: "database_closed" });
 * ```
 *
 * @example A server where one is configured, the embedded database elsewhere (loaded only then)
 * ```ts
 * import { connectDatabase, type Database } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * // process.env in a service; here a server is configured, so PGlite is never loaded
 * const env = {
 *   DATABASE_URL: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 * };
 * const db: Database = env.DATABASE_URL !== undefined
 *   ? await connectDatabase({ env, max: 2 })
 *   : await (await import("@plinth/database/embedded")).connectEmbedded();
 * assert.equal(db.embedded, false);
 * await db.close();
 * ```
 */
export async function connectEmbedded(
  options: ConnectEmbeddedOptions = {},
): Promise<Database> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Cannot start the embedded database: options must be an object");
  }
  const { dataDir, ...rest } = options;
  for (const name of FIXED_OPTIONS) {
    const value = (rest as Readonly<Record<string, unknown>>)[name];
    if (value === undefined || (name === "max" && value === 1)) continue;
    throw new TypeError(
      `Cannot start the embedded database: option "${name}" does not apply; ${
        name === "max" || name === "prewarm"
          ? "it serves one connection at a time"
          : "it listens on 127.0.0.1 with the user and database postgres"
      }`,
    );
  }
  const dir = resolvePath(text("dataDir", dataDir) ?? ".data/pglite");
  // Every option is checked now, before a start that can take seconds.
  const settings = settingsOf(rest, true);
  const server = await startPglite(dir, {
    logger: settings.logger ?? getLogger(),
    now: settings.now,
  });
  const connectOptions: ConnectDatabaseOptions = {
    ...rest,
    host: server.host,
    port: server.port,
    user: "postgres",
    database: "postgres",
    env: {},
  };
  lendServer(connectOptions, server);
  try {
    return await connectDatabase(connectOptions);
  } catch (error) {
    await server.close().catch(() => {});
    throw error;
  }
}
