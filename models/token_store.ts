import { z } from "zod";
import type postgres from "postgres";
import type { TokenStore } from "@plinth/auth";
import { timestamp } from "./_common.ts";
import { REVOCATIONS_CHANNEL } from "./_revocation_notice.ts";
import type { Sql } from "./sql.ts";

/**
 * A refresh token's first use, as the PostgreSQL token store keeps it (table
 * `refresh_token_uses`): the token's `jti`, when it was first exchanged, and until when the
 * entry must be kept.
 *
 * @example
 * ```ts
 * import type { RefreshTokenUse } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const use: RefreshTokenUse = { jti: "j1", used_at: new Date(1_000), expires_at: new Date(90_000) };
 * assert.equal(use.jti, "j1");
 * ```
 */
export interface RefreshTokenUse {
  /** The refresh token's `jti`. */
  jti: string;
  /** When it was first exchanged. */
  used_at: Date;
  /** Kept at least until then (the token's `exp` plus the clock tolerance). */
  expires_at: Date;
}

/**
 * A revoked token id or refresh family id (table `token_revocations`): revoked until
 * `expires_at`, after which no token it concerns can verify anyway.
 *
 * @example
 * ```ts
 * import type { TokenRevocation } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const revoked: TokenRevocation = { id: "family-1", expires_at: new Date(90_000) };
 * assert.equal(revoked.id, "family-1");
 * ```
 */
export interface TokenRevocation {
  /** A `jti` or a refresh family id (`fam`). */
  id: string;
  /** Revoked until then. */
  expires_at: Date;
}

/**
 * zod schema of a {@linkcode RefreshTokenUse}.
 *
 * @example
 * ```ts
 * import { RefreshTokenUseSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const use = RefreshTokenUseSchema.parse({ jti: "j1", used_at: "2026-12-01T00:00:00Z", expires_at: "2026-12-31T00:00:00Z" });
 * assert.ok(use.used_at instanceof Date);
 * ```
 */
export const RefreshTokenUseSchema: z.ZodType<RefreshTokenUse> = z.strictObject({
  jti: z.string().min(1).max(200),
  used_at: timestamp,
  expires_at: timestamp,
});

/**
 * zod schema of a {@linkcode TokenRevocation}.
 *
 * @example
 * ```ts
 * import { TokenRevocationSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * assert.equal(TokenRevocationSchema.safeParse({ id: "", expires_at: new Date() }).success, false);
 * ```
 */
export const TokenRevocationSchema: z.ZodType<TokenRevocation> = z.strictObject({
  id: z.string().min(1).max(200),
  expires_at: timestamp,
});

/**
 * Options of {@linkcode createPostgresTokenStore}.
 *
 * @example
 * ```ts
 * import type { PostgresTokenStoreOptions } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const options: PostgresTokenStoreOptions = { now: () => 1_000 };
 * assert.equal(options.now?.(), 1_000);
 * ```
 */
export interface PostgresTokenStoreOptions {
  /** The clock for `isRevoked` and `deleteExpired`, epoch milliseconds. @default {Date.now} */
  readonly now?: (() => number) | undefined;
}

/**
 * `@plinth/auth`'s {@linkcode TokenStore} on PostgreSQL, with the expiry clean-up.
 *
 * @example
 * ```ts
 * import type { PostgresTokenStore } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const sweep = (store: PostgresTokenStore): Promise<number> => store.deleteExpired();
 * assert.equal(typeof sweep, "function");
 * ```
 */
export interface PostgresTokenStore extends TokenStore {
  /** Like {@linkcode TokenStore.useRefreshToken}: atomic across processes. */
  useRefreshToken(jti: string, expiresAt: number, now: number): Promise<number | undefined>;
  /** Like {@linkcode TokenStore.revoke}: keeps the later of two expiries. */
  revoke(id: string, expiresAt: number): Promise<void>;
  /** Like {@linkcode TokenStore.isRevoked}. */
  isRevoked(id: string): Promise<boolean>;
  /** Deletes the entries whose `expires_at` has passed; resolves to how many. */
  deleteExpired(): Promise<number>;
}

const MAX_ID = 200;

function checkId(action: string, name: string, id: unknown): string {
  if (typeof id !== "string" || id === "" || id.length > MAX_ID) {
    throw new TypeError(`Cannot ${action}: ${name} must be a string of 1 to ${MAX_ID} characters`);
  }
  return id;
}

function checkTime(action: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`Cannot ${action}: ${name} must be epoch milliseconds`);
  }
  return value;
}

/**
 * Creates `@plinth/auth`'s `TokenStore` on PostgreSQL (the tables of `MODELS_MIGRATIONS`), for
 * token issuers on several replicas. A refresh token's first use is a compare-and-set — one
 * `INSERT … ON CONFLICT DO UPDATE … WHERE` the existing entry has expired, `RETURNING` the row
 * only when this call wrote it — so of two replicas exchanging the same token at once exactly
 * one sees a first use, and the other gets the winner's time (and `rotateRefreshToken()` applies
 * its reuse rules: a retry within `reuseGrace`, else the family is revoked). Revocations
 * (a `jti` or a family id) keep the later expiry; each `revoke()` also sends a notification on
 * the channel `plinth_token_revocations`, in the same statement (so exactly when it commits),
 * which {@linkcode createCachedTokenStore} of every replica listens for. `deleteExpired()`
 * removes what the contract allows to forget; run it now and then (an index on `expires_at`
 * keeps it cheap).
 *
 * `isRevoked()` is a query, and the verifier asks it twice per request (the token's `jti`, then
 * its family): a service that verifies access tokens on a hot path wants
 * {@linkcode createCachedTokenStore}, which answers from memory.
 *
 * @param sql A postgres.js `sql` (a pool's).
 * @param options `now`.
 * @returns The store.
 * @throws {TypeError} When `now` is not a function.
 *
 * @example
 * ```ts
 * import { connectDatabase, runMigrations } from "@plinth/database";
 * import { createPostgresTokenStore, MODELS_MIGRATIONS } from "@plinth/models";
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
 *   const store = createPostgresTokenStore(db.sql);
 *   const later = Date.now() + 60_000;
 *   assert.equal(await store.useRefreshToken("r1", later, 1_000), undefined);
 *   assert.equal(await store.useRefreshToken("r1", later, 5_000), 1_000);
 *   await store.revoke("family-1", later);
 *   assert.equal(await store.isRevoked("family-1"), true);
 * } finally {
 *   await db.sql.unsafe(`drop schema ${schema} cascade`);
 * }
 * ```
 */
export function createPostgresTokenStore(
  sql: Sql,
  options: PostgresTokenStoreOptions = {},
): PostgresTokenStore {
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new TypeError("Cannot create PostgreSQL token store: now must be a function");
  }
  const clock = options.now ?? Date.now;
  const q = sql as postgres.Sql;

  async function useRefreshToken(
    jti: string,
    expiresAt: number,
    now: number,
  ): Promise<number | undefined> {
    const action = "record refresh token use";
    checkId(action, "jti", jti);
    checkTime(action, "expiresAt", expiresAt);
    checkTime(action, "now", now);
    // Two tries: the entry that made the insert a no-op may be deleted (expired) before it is read.
    for (let attempt = 0; attempt < 2; attempt++) {
      const written = await q`insert into refresh_token_uses (jti, used_at, expires_at)
        values (${jti}, to_timestamp(${now}::float8 / 1000), to_timestamp(${expiresAt}::float8 / 1000))
        on conflict (jti) do update set used_at = excluded.used_at, expires_at = excluded.expires_at
          where refresh_token_uses.expires_at <= to_timestamp(${now}::float8 / 1000)
        returning 1`;
      if (written.length === 1) return undefined;
      // A new statement, so a new snapshot: it sees the row the winner committed.
      const [row] = await q`select round(extract(epoch from used_at) * 1000)::float8 as used_at
        from refresh_token_uses where jti = ${jti}`;
      if (row !== undefined) return row.used_at as number;
    }
    // Deleted twice in a row: only an expired entry is deleted, and an expired token cannot verify.
    return undefined;
  }

  async function revoke(id: string, expiresAt: number): Promise<void> {
    checkId("revoke token", "id", id);
    checkTime("revoke token", "expiresAt", expiresAt);
    // One statement: the notification is sent exactly when the revocation commits (with the
    // caller's transaction, if `sql` is one), carrying the expiry that was kept.
    await q`with revoked as (
        insert into token_revocations (id, expires_at)
          values (${id}, to_timestamp(${expiresAt}::float8 / 1000))
          on conflict (id) do update
            set expires_at = greatest(token_revocations.expires_at, excluded.expires_at)
          returning tableoid, id, expires_at
      )
      select pg_notify(${REVOCATIONS_CHANNEL}, json_build_object(
          'table', tableoid::int8,
          'id', id,
          'expires_at', round(extract(epoch from expires_at) * 1000)::float8
        )::text)
      from revoked`;
  }

  async function isRevoked(id: string): Promise<boolean> {
    if (typeof id !== "string" || id === "" || id.length > MAX_ID) return false;
    const rows = await q`select 1 from token_revocations
      where id = ${id} and expires_at > to_timestamp(${clock()}::float8 / 1000)`;
    return rows.length > 0;
  }

  async function deleteExpired(): Promise<number> {
    const at = clock();
    const uses = await q`delete from refresh_token_uses
      where expires_at <= to_timestamp(${at}::float8 / 1000)`;
    const revocations = await q`delete from token_revocations
      where expires_at <= to_timestamp(${at}::float8 / 1000)`;
    return uses.count + revocations.count;
  }

  return { useRefreshToken, revoke, isRevoked, deleteExpired };
}
