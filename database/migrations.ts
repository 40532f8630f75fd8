import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type postgres from "postgres";
import { getLogger } from "@plinth/logging";
import { connectDatabase } from "./connect_database.ts";
import type { Database, DatabaseLogger } from "./database.ts";
import { DatabaseError } from "./database_error.ts";
import { sleep } from "./_backoff.ts";
import { countStatements, scanStatements, transactionControl } from "./_sql_scan.ts";
import { resetSession } from "./_session_reset.ts";

/**
 * Options of {@linkcode runMigrations} and {@linkcode migrationStatus}.
 *
 * @example
 * ```ts
 * import type { MigrationOptions } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const options: MigrationOptions = { dir: new URL("./migrations/", import.meta.url), lockTimeout: 30_000 };
 * assert.equal(options.lockTimeout, 30_000);
 * ```
 */
export interface MigrationOptions {
  /** The directory of `NNNN_name.sql` files (a path or a `file:` URL). @default {required} */
  readonly dir: string | URL;
  /** The history table (`name` or `schema.name`). @default {"plinth_migrations"} */
  readonly table?: string | undefined;
  /** Longest time to wait for another runner's lock before failing. @default {60000} */
  readonly lockTimeout?: number | undefined;
  /** How often to try the lock again while another runner holds it. @default {100} */
  readonly pollInterval?: number | undefined;
  /** Where progress goes. @default {getLogger() of @plinth/logging} */
  readonly logger?: DatabaseLogger | undefined;
}

/**
 * One migration file.
 *
 * @example
 * ```ts
 * import type { Migration } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const migration: Migration = {
 *   version: 1,
 *   name: "create_users",
 *   file: "0001_create_users.sql",
 *   checksum: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
 *   transaction: true,
 * };
 * assert.equal(migration.version, 1);
 * ```
 */
export interface Migration {
  /** The number the file name starts with. */
  readonly version: number;
  /** The rest of the file name, without `.sql`. */
  readonly name: string;
  /** The file name. */
  readonly file: string;
  /** SHA-256 of the file's content, in hex. */
  readonly checksum: string;
  /** False when the file starts with `-- plinth:no-transaction`. */
  readonly transaction: boolean;
}

/**
 * One row of the history table (`plinth_migrations`).
 *
 * @example
 * ```ts
 * import type { AppliedMigration } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const row: AppliedMigration = {
 *   version: 1,
 *   name: "create_users",
 *   checksum: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
 *   applied_at: new Date(),
 *   duration_ms: 12,
 * };
 * assert.equal(row.name, "create_users");
 * ```
 */
export interface AppliedMigration {
  /** The migration's version. */
  readonly version: number;
  /** The migration's name. */
  readonly name: string;
  /** SHA-256 of the file when it was applied. */
  readonly checksum: string;
  /** When it was applied. */
  readonly applied_at: Date;
  /** How long it took, in milliseconds. */
  readonly duration_ms: number;
}

/**
 * What {@linkcode runMigrations} did.
 *
 * @example
 * ```ts
 * import type { MigrationResult } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const result: MigrationResult = { applied: [], current: 3 };
 * assert.equal(result.applied.length, 0);
 * ```
 */
export interface MigrationResult {
  /** The migrations this run applied, in order (empty when there was nothing to do). */
  readonly applied: readonly AppliedMigration[];
  /** The highest applied version afterwards (0 when none). */
  readonly current: number;
}

/**
 * What {@linkcode migrationStatus} found.
 *
 * @example
 * ```ts
 * import type { MigrationStatus } from "@plinth/database";
 * import assert from "node:assert/strict";
 *
 * const status: MigrationStatus = { applied: [], pending: [], changed: [], outOfOrder: [] };
 * assert.equal(status.pending.length, 0);
 * ```
 */
export interface MigrationStatus {
  /** The history rows, by version. */
  readonly applied: readonly AppliedMigration[];
  /** Files not applied yet, by version. */
  readonly pending: readonly Migration[];
  /** Applied files whose content changed since (`runMigrations` refuses to run). */
  readonly changed: readonly string[];
  /** Pending files numbered below the last applied one (`runMigrations` refuses to run). */
  readonly outOfOrder: readonly string[];
}

interface Resolved {
  readonly dir: string;
  readonly table: string;
  readonly quoted: string;
  readonly lockTimeout: number;
  readonly pollInterval: number;
  readonly logger: DatabaseLogger | undefined;
}

interface LoadedMigration extends Migration {
  readonly sql: string;
}

const FILE_PATTERN = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/;
const NO_TRANSACTION = /^-- plinth:no-transaction\b/;
const TABLE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const LOCK_NAMESPACE = 0x706c6e74; // "plnt"

function resolveOptions(action: string, options: MigrationOptions): Resolved {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${action}: options must be an object with "dir"`,
    );
  }
  let dir: string;
  if (options.dir instanceof URL) dir = fileURLToPath(options.dir);
  else if (typeof options.dir === "string" && options.dir !== "") {
    dir = options.dir;
  } else {throw new TypeError(
      `Cannot ${action}: option "dir" must be a path or a file: URL`,
    );}
  const table = options.table ?? "plinth_migrations";
  if (typeof table !== "string" || !TABLE_PATTERN.test(table)) {
    throw new TypeError(
      `Cannot ${action}: option "table" must be an identifier or schema.identifier`,
    );
  }
  const number = (name: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `Cannot ${action}: option "${name}" must be a non-negative number of milliseconds`,
      );
    }
    return value;
  };
  return {
    dir,
    table,
    quoted: table.split(".").map((part) => `"${part}"`).join("."),
    lockTimeout: number("lockTimeout", options.lockTimeout, 60_000),
    pollInterval: number("pollInterval", options.pollInterval, 100) || 100,
    logger: options.logger,
  };
}

/** A 32-bit FNV-1a hash of the table name: the lock's second key, one lock per history table. */
function lockKey(table: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < table.length; i++) {
    hash ^= table.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

async function loadMigrations(
  action: string,
  dir: string,
): Promise<LoadedMigration[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (cause) {
    throw new DatabaseError(`Cannot ${action}: cannot read directory "${dir}"`, {
      code: "migration_invalid",
      cause,
    });
  }
  const byVersion = new Map<number, LoadedMigration>();
  for (const file of names.filter((name) => name.endsWith(".sql")).sort()) {
    const match = FILE_PATTERN.exec(file);
    if (match === null) {
      throw new DatabaseError(`Cannot ${action}: "${file}" is not named NNNN_name.sql`, {
        code: "migration_invalid",
      });
    }
    const version = Number(match[1]);
    const other = byVersion.get(version);
    if (other !== undefined) {
      throw new DatabaseError(
        `Cannot ${action}: "${file}" has the same version as "${other.file}"`,
        { code: "migration_invalid" },
      );
    }
    const sql = await readFile(join(dir, file), "utf8");
    const transaction = !NO_TRANSACTION.test(sql.trimStart());
    if (!transaction && countStatements(sql) !== 1) {
      throw new DatabaseError(
        `Cannot ${action}: "${file}" is marked plinth:no-transaction and must hold exactly one statement`,
        { code: "migration_invalid" },
      );
    }
    byVersion.set(version, {
      version,
      name: match[2]!,
      file,
      checksum: createHash("sha256").update(sql).digest("hex"),
      transaction,
      sql,
    });
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

interface HistoryRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
  duration_ms: number;
}

async function historyExists(
  sql: postgres.Sql | postgres.ReservedSql,
  options: Resolved,
): Promise<boolean> {
  const [exists] = await sql.unsafe<{ found: boolean }[]>(
    "select to_regclass($1) is not null as found",
    [options.quoted],
  );
  return exists?.found === true;
}

async function readHistory(
  sql: postgres.Sql | postgres.ReservedSql,
  options: Resolved,
): Promise<AppliedMigration[]> {
  if (!(await historyExists(sql, options))) return [];
  const rows = await sql.unsafe<HistoryRow[]>(
    `select version, name, checksum, applied_at, duration_ms from ${options.quoted} order by version`,
  );
  return rows.map((row) => ({
    version: row.version,
    name: row.name,
    checksum: row.checksum,
    applied_at: new Date(row.applied_at),
    duration_ms: row.duration_ms,
  }));
}

function compare(
  files: readonly LoadedMigration[],
  applied: readonly AppliedMigration[],
): { pending: LoadedMigration[]; changed: string[]; outOfOrder: string[] } {
  const done = new Map(applied.map((row) => [row.version, row]));
  const last = applied.reduce((max, row) => Math.max(max, row.version), 0);
  const pending: LoadedMigration[] = [];
  const changed: string[] = [];
  const outOfOrder: string[] = [];
  for (const file of files) {
    const row = done.get(file.version);
    if (row === undefined) {
      pending.push(file);
      if (file.version < last) outOfOrder.push(file.file);
    } else if (row.checksum !== file.checksum) changed.push(file.file);
  }
  return { pending, changed, outOfOrder };
}

/**
 * Refuses a pending file that would begin, end or hand over a transaction: in a transactional
 * file it would commit part of the file and leave the rest (and its history row) outside the
 * runner's transaction, so a failure after it keeps a partial schema that every later run trips
 * over; in a no-transaction file it would leave the connection inside a transaction.
 */
function refuseTransactionControl(migration: LoadedMigration): void {
  for (const statement of scanStatements(migration.sql)) {
    const command = transactionControl(statement);
    if (command === undefined) continue;
    const where = `"${migration.file}" line ${statement.line}`;
    throw new DatabaseError(
      migration.transaction
        ? `Cannot run migrations: ${where}: ${command} ends the transaction each migration runs in; split the file into several migrations, and put a statement that must run outside a transaction alone in a file whose first line is "-- plinth:no-transaction"`
        : `Cannot run migrations: ${where}: ${command} is not allowed in a plinth:no-transaction file, which runs outside any transaction and must not begin or end one`,
      { code: "migration_invalid" },
    );
  }
}

async function withDatabase<T>(
  dbOrUrl: Database | string,
  logger: DatabaseLogger | undefined,
  fn: (db: Database) => Promise<T>,
): Promise<T> {
  if (typeof dbOrUrl !== "string") return fn(dbOrUrl);
  const db = await connectDatabase(dbOrUrl, {
    max: 1,
    prewarm: false,
    ...(logger === undefined ? {} : { logger }),
  });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function takeLock(
  sql: postgres.ReservedSql,
  options: Resolved,
  logger: DatabaseLogger,
): Promise<void> {
  const key = lockKey(options.table);
  const started = performance.now();
  let logged = false;
  for (;;) {
    const [row] = await sql.unsafe<{ locked: boolean }[]>(
      "select pg_try_advisory_lock($1::int, $2::int) as locked",
      [LOCK_NAMESPACE, key],
    );
    if (row?.locked === true) return;
    const waited = performance.now() - started;
    if (waited >= options.lockTimeout) {
      throw new DatabaseError(
        `Cannot run migrations: another runner held the lock on ${options.table} for ${
          Math.round(waited)
        } ms`,
        { code: "migration_lock_timeout" },
      );
    }
    if (!logged) {
      logger.info("Waiting for another migration runner", {
        table: options.table,
      });
      logged = true;
    }
    await sleep(options.pollInterval);
  }
}

async function apply(
  sql: postgres.ReservedSql,
  migration: LoadedMigration,
  options: Resolved,
): Promise<AppliedMigration> {
  const started = performance.now();
  try {
    if (migration.transaction) await sql.unsafe("begin");
    await sql.unsafe(migration.sql).simple();
    // Before the history row: a role or search_path the file set must not decide where it goes.
    await resetSession(sql);
    const duration = Math.round(performance.now() - started);
    const [row] = await sql.unsafe<{ applied_at: Date }[]>(
      `insert into ${options.quoted} (version, name, checksum, duration_ms) values ($1, $2, $3, $4) returning applied_at`,
      [migration.version, migration.name, migration.checksum, duration],
    );
    if (migration.transaction) await sql.unsafe("commit");
    return {
      version: migration.version,
      name: migration.name,
      checksum: migration.checksum,
      applied_at: new Date(row?.applied_at ?? Date.now()),
      duration_ms: duration,
    };
  } catch (cause) {
    if (migration.transaction) await sql.unsafe("rollback").catch(() => {});
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DatabaseError(`Cannot apply migration "${migration.file}": ${reason}`, {
      code: "migration_failed",
      cause,
    });
  }
}

/**
 * Releases the runner's lock and resets the session (each migration already reset it; this
 * covers a run that stopped half way), so the connection goes back to the pool as it came. A
 * failure is logged, not thrown: it means the connection is broken, and the run's own outcome
 * (its result or its error) is what the caller needs.
 */
async function releaseConnection(
  sql: postgres.ReservedSql,
  options: Resolved,
  logger: DatabaseLogger,
): Promise<void> {
  try {
    await sql.unsafe("select pg_advisory_unlock($1::int, $2::int)", [
      LOCK_NAMESPACE,
      lockKey(options.table),
    ]);
    await resetSession(sql, { unlockAll: true });
  } catch (error) {
    logger.warn("Cannot release the migration connection cleanly", {
      table: options.table,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/**
 * Applies the pending `NNNN_name.sql` files of `dir`, in order, each in its own transaction
 * together with its history row in `plinth_migrations` (version, name, checksum, applied_at,
 * duration_ms). A file whose first line is `-- plinth:no-transaction` (for
 * `CREATE INDEX CONCURRENTLY` and the like) runs outside a transaction and must hold exactly
 * one statement. No file may control transactions (`BEGIN`, `START TRANSACTION`, `COMMIT`,
 * `END`, `ROLLBACK`, `ABORT`, with or without `AND CHAIN`, `PREPARE TRANSACTION`): every
 * pending file is checked before the first one runs, and such a statement is refused with its
 * file and line. Comments, string literals, quoted identifiers and function bodies are not
 * statements (a `COMMIT` inside a procedure's body is fine), nor are `SAVEPOINT`,
 * `ROLLBACK TO` and `RELEASE`.
 *
 * One runner at a time: it polls `pg_try_advisory_lock` on one reserved connection (a blocking
 * `pg_advisory_lock` would deadlock against `CREATE INDEX CONCURRENTLY`) and releases the lock
 * on that same connection, so replicas starting together apply each migration once; the others
 * wait, then find nothing to do. Migrations run on that connection, and what a file sets on its
 * session (`SET statement_timeout`, `SET ROLE`, `search_path`, temporary tables, `LISTEN`) is
 * reset after the file, before its history row is written, and again before the connection
 * returns to the pool; the pool's other connections are never used.
 *
 * @param dbOrUrl A connected database, or a URL to connect to (and close afterwards).
 * @param options `dir` (required), `table`, `lockTimeout`, `pollInterval`, `logger`.
 * @returns The migrations applied by this run and the current version.
 * @throws {TypeError} When an option is invalid.
 * @throws {DatabaseError} `migration_invalid` (misnamed or duplicate file, a no-transaction file
 * with several statements, a pending file with transaction control, named with its line),
 * `migration_checksum` (an applied file changed), `migration_order` (a new file numbered below
 * the last applied one), `migration_failed` (its SQL failed: nothing of it is kept),
 * `migration_lock_timeout`; each names the file.
 *
 * @example
 * ```ts
 * import { connectDatabase, migrationStatus, runMigrations } from "@plinth/database";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = mkdtempSync(join(tmpdir(), "migrations-"));
 * const schema = `doc_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
 * writeFileSync(join(dir, "0001_schema.sql"), `create schema ${schema};`);
 * writeFileSync(join(dir, "0002_users.sql"), `create table ${schema}.users (id int primary key);`);
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 2 },
 * );
 * const table = `${schema}_history`;
 * const first = await runMigrations(db, { dir, table });
 * assert.deepEqual(first.applied.map((m) => m.name), ["schema", "users"]);
 * const again = await runMigrations(db, { dir, table });
 * assert.equal(again.applied.length, 0);
 * assert.equal((await migrationStatus(db, { dir, table })).pending.length, 0);
 * await db.sql.unsafe(`drop schema ${schema} cascade; drop table ${table}`).simple();
 * rmSync(dir, { recursive: true });
 * ```
 *
 * @example Transaction control is refused before anything runs
 * ```ts
 * import { connectDatabase, DatabaseError, runMigrations } from "@plinth/database";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = mkdtempSync(join(tmpdir(), "migrations-"));
 * const table = `doc_tx_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
 * writeFileSync(join(dir, "0001_first.sql"), `create table ${table}_a (n int);`);
 * writeFileSync(
 *   join(dir, "0002_split.sql"),
 *   `create table ${table}_b (n int);\ncommit;\ncreate index on ${table}_b (n);`,
 * );
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 1 },
 * );
 * await assert.rejects(runMigrations(db, { dir, table }), (error: DatabaseError) => {
 *   assert.equal(error.code, "migration_invalid");
 *   assert.match(error.message, /"0002_split\.sql" line 2: COMMIT ends the transaction/);
 *   return true;
 * });
 * const [row] = await db.sql`select to_regclass(${`${table}_a`}) as found`;
 * assert.equal(row?.found, null);
 * await db.sql.unsafe(`drop table ${table}`);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function runMigrations(
  dbOrUrl: Database | string,
  options: MigrationOptions,
): Promise<MigrationResult> {
  const resolved = resolveOptions("run migrations", options);
  const files = await loadMigrations("run migrations", resolved.dir);
  return await withDatabase(dbOrUrl, resolved.logger, async (db) => {
    const logger = resolved.logger ?? getLogger();
    const sql = await db.sql.reserve();
    try {
      await takeLock(sql, resolved, logger);
      try {
        // Only when missing: `create table if not exists` on an existing table makes PostgreSQL
        // send an "already exists, skipping" notice, which the logger would show on every start.
        // The lock makes the check and the creation atomic across runners.
        if (!(await historyExists(sql, resolved))) {
          await sql.unsafe(
            `create table if not exists ${resolved.quoted} (
            version integer primary key,
            name text not null,
            checksum text not null,
            applied_at timestamptz not null default now(),
            duration_ms integer not null
          )`,
          );
        }
        const history = await readHistory(sql, resolved);
        const { pending, changed, outOfOrder } = compare(files, history);
        if (changed.length > 0) {
          throw new DatabaseError(
            `Cannot run migrations: "${changed[0]}" was changed after it was applied`,
            { code: "migration_checksum" },
          );
        }
        if (outOfOrder.length > 0) {
          throw new DatabaseError(
            `Cannot run migrations: "${
              outOfOrder[0]
            }" is numbered below the last applied migration`,
            { code: "migration_order" },
          );
        }
        // Every pending file is checked before the first one runs.
        for (const migration of pending) refuseTransactionControl(migration);
        const applied: AppliedMigration[] = [];
        for (const migration of pending) {
          const row = await apply(sql, migration, resolved);
          logger.info("Applied migration", {
            file: migration.file,
            duration_ms: row.duration_ms,
          });
          applied.push(row);
        }
        const last = [...history, ...applied].reduce(
          (max, row) => Math.max(max, row.version),
          0,
        );
        return { applied, current: last };
      } finally {
        await releaseConnection(sql, resolved, logger);
      }
    } finally {
      sql.release();
    }
  });
}

/**
 * Lists the applied migrations (the history table) and the pending files of `dir`, and which
 * files would stop {@linkcode runMigrations}: applied files that changed, and pending files
 * numbered below the last applied one. Reads only; takes no lock.
 *
 * @param dbOrUrl A connected database, or a URL to connect to (and close afterwards).
 * @param options `dir` (required) and `table`.
 * @returns `{ applied, pending, changed, outOfOrder }`.
 * @throws {TypeError} When an option is invalid.
 * @throws {DatabaseError} `migration_invalid` when a file is misnamed or duplicated.
 *
 * @example
 * ```ts
 * import { connectDatabase, migrationStatus } from "@plinth/database";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const dir = mkdtempSync(join(tmpdir(), "migrations-"));
 * writeFileSync(join(dir, "0001_first.sql"), "select 1;");
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 1 },
 * );
 * const status = await migrationStatus(db, { dir, table: "doc_status_never_created" });
 * assert.deepEqual(status.applied, []);
 * assert.deepEqual(status.pending.map((m) => m.file), ["0001_first.sql"]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function migrationStatus(
  dbOrUrl: Database | string,
  options: MigrationOptions,
): Promise<MigrationStatus> {
  const resolved = resolveOptions("read migration status", options);
  const files = await loadMigrations("read migration status", resolved.dir);
  return await withDatabase(dbOrUrl, resolved.logger, async (db) => {
    const applied = await readHistory(db.sql, resolved);
    const { pending, changed, outOfOrder } = compare(files, applied);
    return {
      applied,
      pending: pending.map(({ sql: _sql, ...migration }) => migration),
      changed,
      outOfOrder,
    };
  });
}
