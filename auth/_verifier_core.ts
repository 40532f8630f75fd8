import { type JWTPayload, jwtVerify } from "jose";
import { AuthError, type AuthErrorCode } from "./auth_error.ts";
import type { KeyEntry } from "./_keys.ts";
import type { RefreshTokenClaims, TokenClaims } from "./token_verifier.ts";
import type { TokenStore } from "./token_store.ts";

/** Finds the key for a token's protected header (throwing an AuthError when none fits). */
export type KeyResolver = (
  header: { alg?: string | undefined; kid?: string | undefined },
) => CryptoKey | Promise<CryptoKey>;

export interface CoreSettings {
  readonly resolve: KeyResolver;
  /** The one key, when nothing but the (pinned) algorithm needs checking: passed to jose as is. */
  readonly directKey?: KeyEntry | undefined;
  /** Whether `now` was injected (otherwise jose reads the clock itself). */
  readonly clockInjected: boolean;
  readonly algorithms: readonly string[];
  readonly issuer: string | readonly string[];
  readonly audience: string | readonly string[];
  readonly refreshAudience: string | readonly string[];
  readonly clockToleranceMs: number;
  readonly now: () => number;
  readonly cacheSize: number;
  readonly cacheMaxAge: number;
  readonly maxTokenLength: number;
  readonly store: TokenStore | undefined;
}

interface CacheEntry {
  /** The whole token: the map's key is only its end (see {@linkcode cacheKey}). */
  readonly token: string;
  readonly claims: TokenClaims;
  readonly until: number;
  /** Hit since it was last passed over for eviction (second chance). */
  used: boolean;
}

/**
 * Package-private: the key under which `createTokenVerifier()` puts its synchronous cache probe
 * (`VerifierCore.peek`) on the verifier it returns, for `authenticate()`. Not exported from
 * `mod.ts`; a verifier without it is simply verified through `verifyAccessToken`.
 */
export const CACHE_PROBE: unique symbol = Symbol("@plinth/auth cache probe");

/** What {@linkcode CACHE_PROBE} holds: see `VerifierCore.peek`. */
export type CacheProbe = (token: string) => TokenClaims | Promise<TokenClaims> | undefined;

export type TokenKind = "access" | "refresh";
const TYP: Readonly<Record<TokenKind, string>> = { access: "at+jwt", refresh: "refresh+jwt" };
const REQUIRED = ["exp", "iat", "jti", "sub"];
/**
 * A compact JWS as plinth issues them: three base64url parts without padding, nothing around
 * them (the signature may be empty, for `alg: none`, which is refused later as not valid).
 * jose itself tolerates trailing whitespace and padding, which would make one token verify
 * under many spellings, each its own claims-cache entry.
 */
const COMPACT_JWS_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Whether the base64url part `token.slice(start, end)` is the one spelling of its bytes: the
 * bits of its last character beyond the last byte are zero. Decoders ignore those bits, so
 * without this check one signature could be written 4 (HS256) or 16 (ES256) ways, each
 * verifying and each taking its own cache entry.
 */
function isCanonicalPart(token: string, start: number, end: number): boolean {
  const rest = (end - start) % 4;
  if (rest === 0) return true;
  if (rest === 1) return false; // no number of bytes is written with this many characters
  const bits = BASE64URL.indexOf(token[end - 1]!);
  return (bits & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** Whether each of the three parts of a compact JWS (already matched the shape) is canonical. */
function isCanonical(token: string): boolean {
  const first = token.indexOf(".");
  const second = token.indexOf(".", first + 1);
  return isCanonicalPart(token, 0, first) && isCanonicalPart(token, first + 1, second) &&
    isCanonicalPart(token, second + 1, token.length);
}

/** A resolver over a fixed set of keys: by `kid`, each key pinned to its one algorithm. */
export function localResolver(entries: readonly KeyEntry[]): KeyResolver {
  const byKid = new Map<string, KeyEntry>();
  for (const e of entries) if (e.kid !== undefined) byKid.set(e.kid, e);
  const only = entries.length === 1 ? entries[0] : undefined;
  return function resolveLocalKey(header): CryptoKey | Promise<CryptoKey> {
    const kid = header.kid;
    const found = kid === undefined
      ? only
      : byKid.get(kid) ?? (only !== undefined && only.kid === undefined ? only : undefined);
    if (found === undefined) {
      throw new AuthError("Cannot verify token: no key matches its kid", { code: "token_invalid" });
    }
    if (header.alg !== found.alg) {
      throw new AuthError(`Cannot verify token: its alg does not match the key's (${found.alg})`, {
        code: "token_invalid",
      });
    }
    return found.key ?? found.ready;
  };
}

function claimOf(error: unknown): unknown {
  return typeof error === "object" && error !== null
    ? (error as { claim?: unknown }).claim
    : undefined;
}

/** Maps whatever jose (or a key lookup) threw to an AuthError with a stable code. */
export function toAuthError(error: unknown, kind: TokenKind): AuthError {
  if (error instanceof AuthError) {
    // A key resolver's error names no token kind: reworded for a refresh token.
    return kind === "access"
      ? error
      : new AuthError(error.message, { code: error.code, cause: error.cause, tokenKind: kind });
  }
  const joseCode = typeof error === "object" && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
  let code: AuthErrorCode = "token_invalid";
  switch (joseCode) {
    case "ERR_JWT_EXPIRED":
      code = "token_expired";
      break;
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const claim = claimOf(error);
      code = claim === "nbf"
        ? "token_not_yet_valid"
        : claim === "typ"
        ? "token_wrong_kind"
        : "token_claims_invalid";
      break;
    }
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
    case "ERR_JOSE_NOT_SUPPORTED":
      code = "token_malformed";
      break;
    default:
      // Signature failures, disallowed algorithms and the plain TypeError jose throws when a
      // token's algorithm does not fit the key (algorithm confusion) all land here.
      code = "token_invalid";
  }
  const reason = error instanceof Error ? error.message.slice(0, 200) : "unknown failure";
  return new AuthError(`Cannot verify ${kind} token: ${reason}`, {
    code,
    cause: error,
    tokenKind: kind,
  });
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= 1024;
}

/**
 * The one role whose tokens may carry `org_id: null`: a system administrator belongs to no
 * organisation. Every other role acts in one, so its `org_id` is a non-empty string.
 */
export const ORGLESS_ROLE = "system_admin";

/** Whether `orgId` fits `role`: a non-empty string, or `null` for {@linkcode ORGLESS_ROLE}. */
export function isOrgIdFor(orgId: unknown, role: unknown): boolean {
  return orgId === null ? role === ORGLESS_ROLE : isNonEmptyString(orgId);
}

function checkClaims(payload: JWTPayload, kind: TokenKind): TokenClaims {
  const p = payload as Record<string, unknown>;
  const bad = !isNonEmptyString(p["sub"])
    ? "sub"
    : !isNonEmptyString(p["role"])
    ? "role"
    : !isOrgIdFor(p["org_id"], p["role"])
    ? "org_id"
    : !isNonEmptyString(p["jti"])
    ? "jti"
    : typeof p["iat"] !== "number"
    ? "iat"
    : p["fam"] !== undefined && !isNonEmptyString(p["fam"])
    ? "fam"
    : kind === "refresh" && p["fam"] === undefined
    ? "fam"
    : p["scope"] !== undefined && typeof p["scope"] !== "string"
    ? "scope"
    : undefined;
  if (bad !== undefined) {
    throw new AuthError(`Cannot verify ${kind} token: claim "${bad}" is missing or not valid`, {
      code: "token_claims_invalid",
      tokenKind: kind,
    });
  }
  if (Array.isArray(p["aud"])) Object.freeze(p["aud"]);
  return Object.freeze(p) as unknown as TokenClaims;
}

/**
 * The claims cache's key for a token: its last 32 characters (the end of the signature, at
 * least 192 random bits), so that a lookup hashes 32 characters rather than the whole token,
 * a new string on every request. An entry is used only when its whole token equals the one
 * presented; a token that merely ends the same way is a miss.
 */
function cacheKey(token: string): string {
  return token.length > 64 ? token.slice(-32) : token;
}

/** Verification shared by the token verifier and the issuer's refresh-token check. */
export class VerifierCore {
  readonly #s: CoreSettings;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #options: Readonly<Record<TokenKind, Record<string, unknown>>>;
  /** The clock tolerance as jose applies it to `exp`: rounded up to whole seconds. */
  readonly #toleranceMargin: number;

  constructor(settings: CoreSettings) {
    this.#s = settings;
    this.#toleranceMargin = Math.ceil(settings.clockToleranceMs / 1000) * 1000;
    const base = {
      algorithms: [...settings.algorithms],
      issuer: typeof settings.issuer === "string" ? settings.issuer : [...settings.issuer],
      requiredClaims: REQUIRED,
      clockTolerance: settings.clockToleranceMs / 1000,
    };
    const aud = (a: string | readonly string[]): string | string[] =>
      typeof a === "string" ? a : [...a];
    this.#options = {
      access: { ...base, audience: aud(settings.audience), typ: TYP.access },
      refresh: { ...base, audience: aud(settings.refreshAudience), typ: TYP.refresh },
    };
  }

  get cached(): number {
    return this.#cache.size;
  }

  /**
   * How long a store must keep an entry about a token that expires at `expiresAt` (epoch ms):
   * until this verification stops accepting it, `exp` plus the clock tolerance. jose compares
   * whole seconds (a token is expired once `exp <= floor(now / 1000) - tolerance`), so a
   * token with `exp * 1000 === expiresAt` verifies until just before the returned time — a
   * fractional `exp` (allowed by RFC 7519) until the next whole second after it.
   */
  retainUntil(expiresAt: number): number {
    return Math.ceil(expiresAt / 1000) * 1000 + this.#toleranceMargin;
  }

  clear(): void {
    this.#cache.clear();
  }

  /**
   * Drops the least recently used entry, approximately (the "second chance" clock): from the
   * oldest inserted on, an entry hit since it was last passed over is kept, moved to the newest
   * end and unmarked; the first one not hit is dropped. Each pass over an entry undoes one hit,
   * so eviction costs O(1) amortised.
   */
  #evict(): void {
    const cache = this.#cache;
    for (const [key, entry] of cache) {
      cache.delete(key);
      if (!entry.used) return;
      entry.used = false;
      cache.set(key, entry);
    }
  }

  /** Drops cached entries whose `jti` or `fam` is `id`. */
  forget(id: string): void {
    for (const [key, entry] of this.#cache) {
      if (entry.claims.jti === id || entry.claims.fam === id) this.#cache.delete(key);
    }
  }

  #revoked(claims: TokenClaims): boolean | Promise<boolean> {
    const store = this.#s.store;
    if (store === undefined) return false;
    const byJti = store.isRevoked(claims.jti);
    const fam = claims.fam;
    if (byJti === true || fam === undefined) return byJti;
    if (byJti === false) return store.isRevoked(fam);
    return Promise.resolve(byJti).then((r) => r || store.isRevoked(fam));
  }

  /**
   * The synchronous cache probe of access tokens: `undefined` when `token` is not cached (or
   * its entry has passed its time; verify it with `verify`), else its claims once the store
   * says they are not revoked — directly when the store answers synchronously, as a promise
   * when it answers with one. Throws the `token_revoked` AuthError (synchronously, for a
   * synchronous store) when revoked. A hit marks the entry as used (see `#evict`).
   */
  peek(token: string): TokenClaims | Promise<TokenClaims> | undefined {
    const key = cacheKey(token);
    const hit = this.#cache.get(key);
    if (hit === undefined || hit.token !== token) return undefined;
    if (hit.until > this.#s.now()) {
      // Marked, not moved: a hit costs one lookup; #evict() gives marked entries a second chance.
      hit.used = true;
      return this.#unlessRevoked(hit.claims, token, "access");
    }
    this.#cache.delete(key);
    return undefined;
  }

  verify(token: unknown, kind: "refresh"): Promise<RefreshTokenClaims>;
  verify(token: unknown, kind: TokenKind): Promise<TokenClaims>;
  // Written with `.then` rather than `async`/`await`: one promise hop fewer on every call, which
  // is measurable against raw jose on a fast HS256 verification and on cache hits.
  verify(token: unknown, kind: TokenKind): Promise<TokenClaims> {
    if (typeof token !== "string" || token.length === 0) {
      const what = token === undefined || token === null || token === ""
        ? "no token was given"
        : "not a string";
      return Promise.reject(this.#malformed(kind, what));
    }
    if (token.length > this.#s.maxTokenLength) {
      return Promise.reject(this.#malformed(kind, "too long"));
    }
    const s = this.#s;
    const cache = kind === "access" && s.cacheSize > 0 ? this.#cache : undefined;
    if (cache !== undefined) {
      try {
        const checked = this.peek(token);
        if (checked !== undefined) {
          return checked instanceof Promise ? checked : Promise.resolve(checked);
        }
      } catch (error) {
        return Promise.reject(error);
      }
    }
    // Only a token that was verified is ever cached, so a hit above needs no shape check; a miss
    // is refused here, before jose and before it could take a cache entry.
    if (!COMPACT_JWS_RE.test(token)) {
      return Promise.reject(
        this.#malformed(kind, "not three base64url parts (whitespace or padding?)"),
      );
    }
    if (!isCanonical(token)) {
      return Promise.reject(this.#malformed(kind, "a part is not canonical base64url"));
    }
    const now = s.now();
    const options = s.clockInjected
      ? { ...this.#options[kind], currentDate: new Date(now) }
      : this.#options[kind];
    const key = s.directKey?.key;
    let verified: Promise<{ payload: JWTPayload }>;
    try {
      verified = key === undefined
        ? jwtVerify(token, s.resolve, options)
        : jwtVerify(token, key, options);
    } catch (error) {
      return Promise.reject(toAuthError(error, kind));
    }
    return verified.then(
      ({ payload }) => {
        const claims = checkClaims(payload, kind);
        if (cache !== undefined) {
          const until = Math.min(claims.exp * 1000, now + s.cacheMaxAge);
          if (until > now) {
            if (cache.size >= s.cacheSize) this.#evict();
            cache.set(cacheKey(token), { token, claims, until, used: false });
          }
        }
        return this.#unlessRevoked(claims, token, kind);
      },
      (error: unknown) => {
        throw toAuthError(error, kind);
      },
    );
  }

  /**
   * The claims when the store says they are not revoked (synchronously when it answers so),
   * else an AuthError: thrown, or as a rejection for an asynchronous store.
   */
  #unlessRevoked(
    claims: TokenClaims,
    token: string,
    kind: TokenKind,
  ): TokenClaims | Promise<TokenClaims> {
    const revoked = this.#revoked(claims);
    if (revoked === false) return claims;
    if (revoked === true) return this.#refuse(token, kind);
    return revoked.then((r) => r ? this.#refuse(token, kind) : claims);
  }

  #refuse(token: string, kind: TokenKind): never {
    const key = cacheKey(token);
    if (this.#cache.get(key)?.token === token) this.#cache.delete(key);
    throw new AuthError(`Cannot verify ${kind} token: it has been revoked`, {
      code: "token_revoked",
      tokenKind: kind,
    });
  }

  #malformed(kind: TokenKind, what: string): AuthError {
    return new AuthError(`Cannot verify ${kind} token: ${what}`, {
      code: "token_malformed",
      tokenKind: kind,
    });
  }
}

/** The audiences of refresh tokens for these access-token audiences. */
export function refreshAudienceOf(audience: string | readonly string[]): string | string[] {
  return typeof audience === "string" ? `${audience}:refresh` : audience.map((a) => `${a}:refresh`);
}
