// node:timers, not the globals: on every runtime its timers have unref(), so the reload timer
// never keeps a process alive (Deno's global timers are numbers).
import * as timers from "node:timers";
import type postgres from "postgres";
import type { TokenStore } from "@plinth/auth";
import {
  type Notice,
  parseNotice,
  pingPayload,
  REVOCATIONS_CHANNEL,
} from "./_revocation_notice.ts";
import type { Sql } from "./sql.ts";
import { createPostgresTokenStore } from "./token_store.ts";

/**
 * Options of {@linkcode createCachedTokenStore}.
 *
 * @example
 * ```ts
 * import type { CachedTokenStoreOptions } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const embedded = false; // `db.embedded` of @plinth/database
 * const options: CachedTokenStoreOptions = { listen: !embedded, refreshInterval: 60_000 };
 * assert.equal(options.listen, true);
 * ```
 */
export interface CachedTokenStoreOptions {
  /** LISTEN for the revocations of every replica (milliseconds to arrive); `false` on the embedded PGlite or behind a pooler in transaction mode, where the periodic reload alone brings them. @default {true} */
  readonly listen?: boolean | undefined;
  /** Milliseconds between full reloads of the unexpired revocations: the longest another replica's revocation can go unseen. With `listen` only a safety net for lost notifications (one read of them all per 30 s); without, the only way in (a read a second still costs far less than two queries per request). @default {30000 with listen, 1000 without} */
  readonly refreshInterval?: number | undefined;
  /** The clock, epoch milliseconds: an entry answers `false` from its expiry on. @default {Date.now} */
  readonly now?: (() => number) | undefined;
  /** Gets a warning when a periodic reload fails (the last snapshot keeps answering) or LISTEN had to be set up again. @default {undefined (silent)} */
  readonly logger?: { warn(message: string, fields?: Record<string, unknown>): void } | undefined;
}

/**
 * `@plinth/auth`'s `TokenStore` on PostgreSQL with the revocations held in memory:
 * `isRevoked()` answers synchronously from a `Map`, writes go to the database. It is a
 * `TokenStore` (pass it as the `store` of the issuer and the verifier), with the
 * `deleteExpired()` of {@linkcode PostgresTokenStore}.
 *
 * @example
 * ```ts
 * import type { CachedTokenStore } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const revoked = (store: CachedTokenStore, jti: string): boolean => store.isRevoked(jti);
 * assert.equal(typeof revoked, "function");
 * ```
 */
export interface CachedTokenStore {
  /** Like `useRefreshToken()` of {@linkcode createPostgresTokenStore}: a query, atomic across replicas. */
  useRefreshToken(jti: string, expiresAt: number, now: number): Promise<number | undefined>;
  /** Writes the revocation (which notifies every replica), then holds it here at once. */
  revoke(id: string, expiresAt: number): Promise<void>;
  /** Whether `id` is revoked, from memory: no query, no promise. */
  isRevoked(id: string): boolean;
  /** Deletes the expired entries from the database (and from memory); resolves to how many rows. */
  deleteExpired(): Promise<number>;
  /**
   * Reads every unexpired revocation now, as the timer does, and replaces the snapshot with
   * it; resolves to how many are held. Rejects when the query fails (the snapshot is kept),
   * or once the store is closed.
   */
  reload(): Promise<number>;
  /** How many revocations are held in memory. */
  readonly size: number;
  /** When the snapshot was last read in full (epoch ms, the clock's): how stale it can be. */
  readonly loadedAt: number;
  /**
   * Stops the timer and the LISTEN and waits for a running reload. Afterwards `isRevoked()`
   * keeps answering from the last snapshot (expired entries still answer `false`) and the
   * writes still go to the database, but nothing from other replicas arrives any more.
   */
  close(): Promise<void>;
  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const MAX_INTERVAL = 2_147_483_647; // what setTimeout accepts
/** How long a heartbeat may take to come back before the LISTEN is taken for lost. */
const HEARTBEAT_GRACE = 1_000;

/**
 * Creates a {@linkcode CachedTokenStore}: `@plinth/auth`'s `TokenStore` for services that verify
 * access tokens on every request. The verifier calls `isRevoked()` twice per request (the
 * token's `jti`, then its family); the plain {@linkcode createPostgresTokenStore} answers each with
 * a query, this store with a `Map` lookup, synchronously, which keeps the verifier on its
 * fast path. Refresh-token use and revocations are written through the plain store (the same
 * tables, the same compare-and-set), and `revoke()` also holds the id here at once.
 *
 * **Freshness.** At creation the store LISTENs on `plinth_token_revocations` (with `listen`),
 * then reads every unexpired revocation; each `revoke()` of any PostgreSQL token store on the
 * same table notifies that channel in its own statement, so a revocation made on another
 * replica is held here milliseconds after it commits. Every `refreshInterval` the store reads
 * everything again and replaces its snapshot (notifications that arrive meanwhile are kept).
 * That reload bounds the staleness: while the database answers, a revocation from elsewhere is
 * missed for at most `refreshInterval` (plus a reload's duration) — the case of a notification
 * lost while the LISTEN connection was down, or a row written by other means; a row deleted by
 * hand stops counting at the next reload. When the LISTEN connection drops, the store reloads as
 * soon as postgres.js has listened again; when the pool replaces its connections after a lost
 * one, `@plinth/database` listens again on the new ones and the store reloads as soon as it does.
 * A heartbeat sent each reload is the safety net for a LISTEN lost any other way: when it does
 * not come back the store listens again, so notifications resume within two intervals (or a
 * second, if longer); the reloads go on meanwhile. A failed reload is logged and
 * retried at the next tick; `isRevoked()` never throws or rejects, and answers from the last
 * snapshot (`loadedAt`) meanwhile. Without `listen` the reload is the only way in, every second
 * by default.
 *
 * **Memory.** Every unexpired revoked id (each family revoked by sign-out or reuse, for the
 * refresh lifetime; each revoked `jti`, until its token expires) is held in memory, 80 to 115
 * bytes for a UUID id (measured on Node 20 and 24, Deno and Bun): 100 000 revocations take
 * about 12 MB, twice that for a moment while a reload builds the next snapshot, and each reload
 * reads all of them. Expired entries answer `false` and are dropped when asked for and at each
 * reload. For millions of live revocations, or when a revocation must be seen everywhere before
 * the next request, use the plain store.
 *
 * Close it (`close()` or `await using`) before the pool: its LISTEN uses the pool's
 * listening connection. Its timer does not keep a process alive.
 *
 * @param sql A postgres.js `sql` of a pool (`db.sql` of `@plinth/database`); with `listen`,
 * one that has `sql.listen()`.
 * @param options `listen`, `refreshInterval`, `now`, `logger`.
 * @returns A promise of the store, once LISTEN is set up and the revocations are loaded.
 * @throws {TypeError} When `sql` is not a postgres.js `sql` (or lacks `listen()` with `listen`),
 * or `listen`, `now` or `logger` is of the wrong type; with `listen` on the embedded PGlite.
 * @throws {RangeError} When `refreshInterval` is not a number of milliseconds from 1 to
 * 2147483647.
 * @throws The driver's error when the first load or the LISTEN fails (a missing table, say).
 *
 * @example Revocations from another replica reach isRevoked() in milliseconds
 * ```ts
 * import { connectDatabase, runMigrations } from "@plinth/database";
 * import { createCachedTokenStore, createPostgresTokenStore, MODELS_MIGRATIONS } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
 * const schema = `doc_${crypto.randomUUID().replaceAll("-", "")}`;
 * const connection = { search_path: schema };
 * await using db = await connectDatabase(url, { max: 2, connection });
 * await using other = await connectDatabase(url, { max: 1, connection }); // another replica
 * await db.sql.unsafe(`create schema ${schema}`);
 * try {
 *   await runMigrations(db, { dir: MODELS_MIGRATIONS });
 *   await using store = await createCachedTokenStore(db.sql, { listen: !db.embedded });
 *   assert.equal(store.isRevoked("family-1"), false); // a boolean, not a promise
 *
 *   await createPostgresTokenStore(other.sql).revoke("family-1", Date.now() + 60_000);
 *   const deadline = Date.now() + 2_000;
 *   while (!store.isRevoked("family-1") && Date.now() < deadline) {
 *     await new Promise((resolve) => setTimeout(resolve, 10));
 *   }
 *   assert.equal(store.isRevoked("family-1"), true);
 * } finally {
 *   await db.sql.unsafe(`drop schema ${schema} cascade`);
 * }
 * ```
 *
 * @example With @plinth/auth: the issuer writes, the verifier reads from memory
 * ```ts
 * import { createTokenIssuer, createTokenVerifier } from "@plinth/auth";
 * import { connectDatabase, runMigrations } from "@plinth/database";
 * import { createCachedTokenStore, MODELS_MIGRATIONS } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const schema = `doc_${crypto.randomUUID().replaceAll("-", "")}`;
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 2, connection: { search_path: schema } },
 * );
 * await db.sql.unsafe(`create schema ${schema}`);
 * try {
 *   await runMigrations(db, { dir: MODELS_MIGRATIONS });
 *   await using store = await createCachedTokenStore(db.sql, { listen: !db.embedded });
 *   const tokens = { secret: "a-secret-of-at-least-thirty-two-bytes!!", issuer: "auth", audience: "api", store };
 *   const issuer = createTokenIssuer({ ...tokens, kid: "hs-2026-12" });
 *   const verifier = createTokenVerifier(tokens);
 *   const pair = await issuer.generateTokenPair({ userId: "u1", orgId: "o1", role: "org_user" });
 *   assert.equal((await verifier.verifyAccessToken(pair.accessToken)).sub, "u1");
 *
 *   await issuer.revokeRefreshToken(pair.refreshToken); // sign-out: the family is revoked
 *   await assert.rejects(verifier.verifyAccessToken(pair.accessToken), { code: "token_revoked" });
 * } finally {
 *   await db.sql.unsafe(`drop schema ${schema} cascade`);
 * }
 * ```
 */
export async function createCachedTokenStore(
  sql: Sql,
  options: CachedTokenStoreOptions = {},
): Promise<CachedTokenStore> {
  const action = "Cannot create cached token store";
  if (typeof sql !== "function") {
    throw new TypeError(`${action}: sql must be a postgres.js sql`);
  }
  const listen = options.listen ?? true;
  if (typeof listen !== "boolean") throw new TypeError(`${action}: listen must be a boolean`);
  const q = sql as postgres.Sql;
  if (listen && typeof q.listen !== "function") {
    throw new TypeError(
      `${action}: listen needs a pool's sql (with sql.listen()); pass listen: false for this one`,
    );
  }
  const refreshInterval = options.refreshInterval ?? (listen ? 30_000 : 1_000);
  if (
    typeof refreshInterval !== "number" || !Number.isFinite(refreshInterval) ||
    refreshInterval < 1 || refreshInterval > MAX_INTERVAL
  ) {
    throw new RangeError(
      `${action}: refreshInterval must be a number of milliseconds from 1 to ${MAX_INTERVAL}`,
    );
  }
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new TypeError(`${action}: now must be a function`);
  }
  const clock = options.now ?? Date.now;
  const logger = options.logger;
  if (logger !== undefined && (typeof logger !== "object" || typeof logger?.warn !== "function")) {
    throw new TypeError(`${action}: logger must have a warn method`);
  }

  const plain = createPostgresTokenStore(sql, { now: clock });
  /** id → expiry (epoch ms): the snapshot isRevoked() reads. */
  let revoked = new Map<string, number>();
  /** The oid of the table the last reload read; notices from other tables are ignored. */
  let table: number | undefined;
  /** What arrived while a reload runs (merged into its result); undefined between reloads. */
  let arrived: { id: string; expiresAt: number; table: number | undefined }[] | undefined = [];
  let loadedAt = Number.NaN;
  let closed = false;
  let ready = false;
  let timer: ReturnType<typeof timers.setTimeout> | undefined;
  let running: Promise<number> | undefined;
  let queued: Promise<number> | undefined;
  // LISTEN: each registration has a generation, and only the current one's callbacks count (a
  // registration postgres.js keeps retrying after it was replaced stays inert).
  let generation = 0;
  let unlisten: (() => Promise<void>) | undefined;
  let ping: { nonce: string; heard: boolean; sentAt: number } | undefined;

  function hold(id: string, expiresAt: number, from: number | undefined): void {
    if (expiresAt <= clock()) return;
    arrived?.push({ id, expiresAt, table: from });
    const held = revoked.get(id);
    if (held === undefined || held < expiresAt) revoked.set(id, expiresAt);
  }

  function notified(payload: string, of: number): void {
    if (closed || of !== generation) return;
    const notice: Notice | undefined = parseNotice(payload);
    if (notice === undefined) return; // not ours: the channel is shared by name
    if (notice.kind === "ping") {
      if (ping !== undefined && notice.nonce === ping.nonce) ping.heard = true;
      return;
    }
    const { id, expiresAt, table: from } = notice.revocation;
    if (table !== undefined && from !== table) return; // a store on another schema
    hold(id, expiresAt, from);
  }

  function listened(of: number): void {
    // postgres.js calls this after each LISTEN, also when it listens again after its listening
    // connection dropped: what was notified meanwhile is lost, so read everything again.
    if (!ready || closed || of !== generation) return;
    reload().catch((error: unknown) => warnReload(error));
  }

  async function subscribe(): Promise<void> {
    const of = ++generation;
    const meta = await q.listen(
      REVOCATIONS_CHANNEL,
      (payload) => notified(payload, of),
      () => listened(of),
    );
    if (of === generation) unlisten = meta.unlisten;
    else await meta.unlisten(); // closed meanwhile
  }

  async function load(): Promise<number> {
    const started = clock();
    arrived ??= [];
    const seen = arrived;
    try {
      const [oid] = await q`select 'token_revocations'::regclass::oid::int8::float8 as oid`;
      const rows = await q`select id, round(extract(epoch from expires_at) * 1000)::float8 as at
        from token_revocations where expires_at > to_timestamp(${started}::float8 / 1000)`;
      const next = new Map<string, number>();
      for (const row of rows) next.set(row.id as string, row.at as number);
      table = oid?.oid as number;
      const at = clock();
      for (const entry of seen) {
        if (entry.table !== undefined && entry.table !== table) continue;
        if (entry.expiresAt <= at) continue;
        const held = next.get(entry.id);
        if (held === undefined || held < entry.expiresAt) next.set(entry.id, entry.expiresAt);
      }
      revoked = next;
      loadedAt = started;
      return next.size;
    } finally {
      if (arrived === seen) arrived = undefined;
    }
  }

  /** One reload at a time; a call while one runs gets the next one (a snapshot taken after it). */
  function reload(): Promise<number> {
    if (closed && ready) {
      return Promise.reject(new Error("Cannot reload token revocations: the store is closed"));
    }
    if (queued !== undefined) return queued;
    if (running === undefined) return start();
    queued = running.catch(() => 0).then(() => {
      queued = undefined;
      return start();
    });
    return queued;
  }

  function start(): Promise<number> {
    const current: Promise<number> = load().finally(() => {
      if (running === current) running = undefined;
    });
    running = current;
    return current;
  }

  function warnReload(error: unknown): void {
    logger?.warn(
      `Cannot reload token revocations; answering from the last snapshot, retrying in ${refreshInterval} ms`,
      {
        loaded_at: Number.isNaN(loadedAt) ? null : new Date(loadedAt).toISOString(),
        revocations: revoked.size,
        error: error instanceof Error ? error.message : String(error),
      },
    );
  }

  /** The periodic work: listen again if the last heartbeat never came back, reload, send one. */
  async function tick(): Promise<void> {
    if (closed) return;
    if (
      listen && ping !== undefined && !ping.heard &&
      performance.now() - ping.sentAt >= HEARTBEAT_GRACE
    ) {
      ping = undefined;
      logger?.warn("Lost LISTEN for token revocations; listening again", {
        channel: REVOCATIONS_CHANNEL,
      });
      const previous = unlisten;
      unlisten = undefined;
      await previous?.().catch(() => {}); // on a pool instance that has ended: nothing to undo
      try {
        await subscribe();
      } catch (error) {
        logger?.warn("Cannot LISTEN for token revocations; trying again at the next reload", {
          channel: REVOCATIONS_CHANNEL,
          error: error instanceof Error ? error.message : String(error),
        });
        ping = { nonce: "", heard: false, sentAt: -Infinity }; // try again next time
      }
    }
    try {
      await reload();
    } catch (error) {
      if (!closed) warnReload(error);
      return;
    }
    if (!listen || closed || ping !== undefined) return;
    const nonce = crypto.randomUUID();
    try {
      const sentAt = performance.now();
      ping = { nonce, heard: false, sentAt };
      await q`select pg_notify(${REVOCATIONS_CHANNEL}, ${pingPayload(nonce)})`;
    } catch {
      ping = undefined; // not sent: the database is unreachable, and the next reload says so
    }
  }

  let ticking: Promise<void> | undefined;
  function schedule(): void {
    if (closed) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      // tick() catches its own failures; this only keeps a throwing logger from escaping.
      ticking = tick().catch(() => {}).finally(() => {
        ticking = undefined;
        schedule();
      });
    }, refreshInterval);
    timer.unref();
  }

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      closed = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      generation++; // whatever postgres.js still delivers is ignored
      const stop = unlisten;
      unlisten = undefined;
      try {
        await stop?.();
      } catch (error) {
        // The pool ended first: its listening connection is gone with it.
        logger?.warn("Cannot UNLISTEN token revocations while closing the store", {
          channel: REVOCATIONS_CHANNEL,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      await ticking;
      await queued?.catch(() => 0);
      await running?.catch(() => 0);
    })();
    return closing;
  }

  // LISTEN first, then read: a revocation committed in between is in the snapshot or notified.
  try {
    if (listen) {
      // The embedded PGlite serves one connection: a LISTEN, on a connection of its own, would
      // wait forever.
      const [server] = await q`select version() like '%PGlite%' as embedded`;
      if (server?.embedded === true) {
        throw new TypeError(
          `${action}: the embedded PGlite cannot LISTEN (it serves one connection); pass listen: false`,
        );
      }
      await subscribe();
    }
    await reload();
  } catch (error) {
    await close();
    throw error;
  }
  ready = true;
  schedule();

  const store: CachedTokenStore = {
    useRefreshToken(jti: string, expiresAt: number, now: number): Promise<number | undefined> {
      return plain.useRefreshToken(jti, expiresAt, now);
    },
    async revoke(id: string, expiresAt: number): Promise<void> {
      await plain.revoke(id, expiresAt);
      hold(id, expiresAt, undefined);
    },
    isRevoked(id: string): boolean {
      if (revoked.size === 0) return false; // the usual case, without hashing the id
      const expiresAt = revoked.get(id);
      if (expiresAt === undefined) return false;
      if (expiresAt > clock()) return true;
      revoked.delete(id);
      return false;
    },
    async deleteExpired(): Promise<number> {
      const deleted = await plain.deleteExpired();
      const at = clock();
      for (const [id, expiresAt] of revoked) if (expiresAt <= at) revoked.delete(id);
      return deleted;
    },
    reload,
    get size(): number {
      return revoked.size;
    },
    get loadedAt(): number {
      return loadedAt;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  return store satisfies TokenStore;
}
