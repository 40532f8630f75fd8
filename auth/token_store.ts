/**
 * Where the token issuer records refresh-token use and revocations, and where the verifier
 * looks revocations up. Methods may answer synchronously (the in-memory store does, which keeps
 * cached verification fast) or with a promise (a database). Ids are token `jti`s and refresh
 * family ids.
 *
 * The contract on `expiresAt` (epoch milliseconds): a store keeps every entry — a used refresh
 * token, a revocation — at least until `expiresAt`, and may forget it from then on. Callers
 * pass the time from which the token concerned can no longer verify anywhere: its `exp` plus
 * the clock tolerance of verification (the issuer and the verifier add their `clockTolerance`
 * themselves), so that a token still accepted within the tolerance after `exp` is still known
 * to be used or revoked. A store that forgets earlier lets a replayed refresh token through as
 * a first use.
 *
 * @example
 * ```ts
 * import { createMemoryTokenStore, type TokenStore } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const store: TokenStore = createMemoryTokenStore();
 * await store.revoke("jti-1", Date.now() + 60_000);
 * assert.equal(await store.isRevoked("jti-1"), true);
 * ```
 */
export interface TokenStore {
  /**
   * Records that refresh token `jti` was exchanged now (`now`, epoch ms), atomically, and
   * remembers it at least until `expiresAt`. Returns `undefined` on its first use, else the
   * time of the first use.
   */
  useRefreshToken(
    jti: string,
    expiresAt: number,
    now: number,
  ): number | undefined | Promise<number | undefined>;
  /** Revokes a token id or a refresh family id at least until `expiresAt` (epoch ms). */
  revoke(id: string, expiresAt: number): void | Promise<void>;
  /** Whether `id` (a `jti` or a family id) is revoked. */
  isRevoked(id: string): boolean | Promise<boolean>;
}

/**
 * Options of {@linkcode createMemoryTokenStore}.
 *
 * @example
 * ```ts
 * import { createMemoryTokenStore, type MemoryTokenStoreOptions } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * let now = 1_000;
 * const options: MemoryTokenStoreOptions = { now: () => now };
 * const store = createMemoryTokenStore(options);
 * store.revoke("a", 2_000);
 * assert.equal(store.isRevoked("a"), true);
 * now = 2_000;
 * assert.equal(store.isRevoked("a"), false);
 * ```
 */
export interface MemoryTokenStoreOptions {
  /** The clock, epoch milliseconds. @default {Date.now} */
  readonly now?: (() => number) | undefined;
}

/**
 * The in-memory {@linkcode TokenStore}: synchronous, in this process only (one instance of a
 * service, tests, development). Each entry is kept until its `expiresAt` (the caller's
 * retention, which covers the clock tolerance) and forgotten from then on; expired entries are
 * swept as new ones are written, so memory stays bounded by the live tokens.
 *
 * @example
 * ```ts
 * import { createMemoryTokenStore } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const store = createMemoryTokenStore();
 * const later = Date.now() + 60_000;
 * assert.equal(store.useRefreshToken("r1", later, 1_000), undefined);
 * assert.equal(store.useRefreshToken("r1", later, 5_000), 1_000);
 * ```
 */
export interface MemoryTokenStore extends TokenStore {
  /** Like {@linkcode TokenStore.useRefreshToken}, synchronously. */
  useRefreshToken(jti: string, expiresAt: number, now: number): number | undefined;
  /** Like {@linkcode TokenStore.revoke}, synchronously. */
  revoke(id: string, expiresAt: number): void;
  /** Like {@linkcode TokenStore.isRevoked}, synchronously. */
  isRevoked(id: string): boolean;
  /** How many entries (used refresh tokens and revocations) are held. */
  readonly size: number;
}

const SWEEP_EVERY = 1024;

/**
 * Creates an in-memory {@linkcode TokenStore}, the issuer's default. Share one between the
 * issuer and the verifier of a process so that a revocation also reaches verification.
 *
 * @param options The clock.
 * @returns The store.
 * @throws {TypeError} When `now` is not a function.
 *
 * @example
 * ```ts
 * import { createMemoryTokenStore } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const store = createMemoryTokenStore();
 * store.revoke("family-7", Date.now() + 86_400_000);
 * assert.equal(store.isRevoked("family-7"), true);
 * assert.equal(store.isRevoked("family-8"), false);
 * assert.equal(store.size, 1);
 * ```
 */
export function createMemoryTokenStore(options: MemoryTokenStoreOptions = {}): MemoryTokenStore {
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new TypeError("Cannot create memory token store: now must be a function");
  }
  const now = options.now ?? Date.now;
  const used = new Map<string, { at: number; expiresAt: number }>();
  const revoked = new Map<string, number>();
  let writes = 0;

  function sweep(): void {
    if (++writes % SWEEP_EVERY !== 0) return;
    const t = now();
    for (const [id, entry] of used) if (entry.expiresAt <= t) used.delete(id);
    for (const [id, expiresAt] of revoked) if (expiresAt <= t) revoked.delete(id);
  }

  return {
    useRefreshToken(jti: string, expiresAt: number, at: number): number | undefined {
      const entry = used.get(jti);
      if (entry !== undefined && entry.expiresAt > now()) return entry.at;
      sweep();
      used.set(jti, { at, expiresAt });
      return undefined;
    },
    revoke(id: string, expiresAt: number): void {
      const previous = revoked.get(id);
      if (previous === undefined || previous < expiresAt) {
        sweep();
        revoked.set(id, expiresAt);
      }
    },
    isRevoked(id: string): boolean {
      if (revoked.size === 0) return false; // the usual case, without hashing the id
      const expiresAt = revoked.get(id);
      if (expiresAt === undefined) return false;
      if (expiresAt > now()) return true;
      revoked.delete(id);
      return false;
    },
    get size(): number {
      return used.size + revoked.size;
    },
  };
}
