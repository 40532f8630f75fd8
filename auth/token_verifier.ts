import { createRemoteJWKSet, customFetch } from "jose";
import { AuthError } from "./auth_error.ts";
import { milliseconds } from "./_milliseconds.ts";
import type { Jwk, JwkSet, SigningAlgorithm } from "./keys.ts";
import { jwkEntry, type KeyEntry, secretBytes, secretEntry } from "./_keys.ts";
import {
  CACHE_PROBE,
  type CacheProbe,
  type KeyResolver,
  localResolver,
  refreshAudienceOf,
  VerifierCore,
} from "./_verifier_core.ts";
import { createMemoryTokenStore, type TokenStore } from "./token_store.ts";

/**
 * The claims of a verified access token. `sub` is the user id, `org_id` the organisation,
 * `role` the user's role there; `scope` (space-separated) is present when the token was
 * issued with scopes, and `fam` names the refresh-token family the token came from. `org_id`
 * is `null` only when `role` is `"system_admin"` (a system administrator belongs to no
 * organisation); the verifier refuses any other role without an organisation
 * (`token_claims_invalid`).
 *
 * @example
 * ```ts
 * import type { TokenClaims } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const claims: TokenClaims = {
 *   sub: "user-1", org_id: "org-1", role: "org_admin", jti: "j-1",
 *   iat: 1_800_000_000, exp: 1_800_000_900, iss: "https://auth.example.com", aud: "api",
 * };
 * assert.equal(claims.exp - claims.iat, 900);
 * ```
 */
export interface TokenClaims {
  /** Subject: the user id. */
  readonly sub: string;
  /** The organisation (tenant) the token acts in; `null` only for `role: "system_admin"`. */
  readonly org_id: string | null;
  /** The user's role in that organisation, or the global `"system_admin"`. */
  readonly role: string;
  /** Unique token id, the key of revocation. */
  readonly jti: string;
  /** Issued at, epoch seconds. */
  readonly iat: number;
  /** Expires at, epoch seconds. */
  readonly exp: number;
  /** Issuer. */
  readonly iss: string;
  /** Audience. */
  readonly aud: string | readonly string[];
  /** Not before, epoch seconds. */
  readonly nbf?: number;
  /** Refresh-token family id. */
  readonly fam?: string;
  /** Space-separated scopes. */
  readonly scope?: string;
  /** Any other claim the issuer added. */
  readonly [claim: string]: unknown;
}

/**
 * The claims of a verified refresh token: those of an access token, and always a family.
 *
 * @example
 * ```ts
 * import type { RefreshTokenClaims } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const claims: RefreshTokenClaims = {
 *   sub: "user-1", org_id: "org-1", role: "org_user", jti: "r-1", fam: "f-1",
 *   iat: 1_800_000_000, exp: 1_802_592_000, iss: "https://auth.example.com", aud: "api:refresh",
 * };
 * assert.equal(claims.fam, "f-1");
 * ```
 */
export interface RefreshTokenClaims extends TokenClaims {
  /** The family: every refresh token rotated from one sign-in. */
  readonly fam: string;
}

/**
 * Options of {@linkcode createTokenVerifier}. Give exactly one key source: `secret`, `keys`
 * or `jwksUrl`.
 *
 * @example
 * ```ts
 * import { createTokenVerifier, type TokenVerifierOptions } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const options: TokenVerifierOptions = {
 *   secret: "a-secret-of-at-least-thirty-two-bytes!!",
 *   issuer: "https://auth.example.com",
 *   audience: "api",
 *   clockTolerance: 5_000,
 * };
 * assert.equal(createTokenVerifier(options).cached, 0);
 * ```
 */
export interface TokenVerifierOptions {
  /** HS256 shared secret, at least 32 bytes. @default {undefined} */
  readonly secret?: string | Uint8Array | undefined;
  /** Local verification keys (public JWKs, or `oct` JWKs for HS256), each pinned to its algorithm. @default {undefined} */
  readonly keys?: readonly Jwk[] | JwkSet | undefined;
  /** URL of a remote JWKS (fetched through jose's `createRemoteJWKSet`, cached). @default {undefined} */
  readonly jwksUrl?: string | URL | undefined;
  /** Algorithms accepted from `jwksUrl` (never HS256). @default {["RS256", "ES256", "EdDSA"]} */
  readonly algorithms?: readonly SigningAlgorithm[] | undefined;
  /** Required `iss` (one of, for a list). */
  readonly issuer: string | readonly string[];
  /** Required `aud` of access tokens (one of, for a list). */
  readonly audience: string | readonly string[];
  /** Required `aud` of refresh tokens. @default {each audience + ":refresh"} */
  readonly refreshAudience?: string | readonly string[] | undefined;
  /** Clock skew allowed on `exp` and `nbf`, milliseconds. @default {5000 (5 s)} */
  readonly clockTolerance?: number | undefined;
  /** Most verified access tokens kept in the claims cache; `0` turns it off. @default {10000} */
  readonly cacheSize?: number | undefined;
  /** Longest a verified token stays cached (never past its `exp`), milliseconds. @default {60000 (1 min)} */
  readonly cacheMaxAge?: number | undefined;
  /** Longest token accepted, in characters; longer ones are rejected unparsed. @default {8192} */
  readonly maxTokenLength?: number | undefined;
  /** Where revocations are looked up; share the issuer's. @default {a new in-memory store} */
  readonly store?: TokenStore | undefined;
  /** How long a fetched JWKS is used before it is fetched again, milliseconds. @default {600000 (10 min)} */
  readonly jwksCacheMaxAge?: number | undefined;
  /** Least time between two JWKS fetches triggered by an unknown `kid`, milliseconds. @default {30000 (30 s)} */
  readonly jwksCooldown?: number | undefined;
  /** Time limit of a JWKS fetch, milliseconds. @default {5000 (5 s)} */
  readonly jwksTimeout?: number | undefined;
  /** The `fetch` used for the JWKS. @default {globalThis.fetch} */
  readonly fetch?: typeof fetch | undefined;
  /** The clock, epoch milliseconds. @default {Date.now} */
  readonly now?: (() => number) | undefined;
}

/**
 * Verifies access and refresh tokens. Made by {@linkcode createTokenVerifier}.
 *
 * @example
 * ```ts
 * import { createTokenIssuer, createTokenVerifier, type TokenVerifier } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const secret = "a-secret-of-at-least-thirty-two-bytes!!";
 * const issuer = createTokenIssuer({ secret, kid: "k1", issuer: "auth", audience: "api" });
 * const verifier: TokenVerifier = createTokenVerifier({
 *   secret, issuer: "auth", audience: "api", store: issuer.store,
 * });
 * const { accessToken } = await issuer.generateTokenPair({ userId: "u1", orgId: "o1", role: "org_user" });
 * assert.equal((await verifier.verifyAccessToken(accessToken)).sub, "u1");
 * ```
 */
export interface TokenVerifier {
  /**
   * Verifies an access token (`typ: at+jwt`, the access audience) and returns its claims,
   * from the cache when this exact token was verified before and has not expired.
   * Rejects with an {@linkcode AuthError} on any failure.
   */
  verifyAccessToken(token: string): Promise<TokenClaims>;
  /** Verifies a refresh token (`typ: refresh+jwt`, the refresh audience); never cached. */
  verifyRefreshToken(token: string): Promise<RefreshTokenClaims>;
  /**
   * Revokes a token (`jti`) or a refresh family id in the store until `expiresAt` (epoch ms,
   * e.g. the token's `exp * 1000`; default 31 days from now, past any token issued with the
   * default lifetimes) plus `clockTolerance` — as long as the token could still verify — and
   * drops it from the claims cache at once.
   */
  revoke(id: string, expiresAt?: number): Promise<void>;
  /** Empties the claims cache. */
  clearCache(): void;
  /** How many tokens the claims cache holds. */
  readonly cached: number;
}

const WHERE = "token verifier";
const REMOTE_ALGORITHMS: readonly SigningAlgorithm[] = ["RS256", "ES256", "EdDSA"];

function checkStringOrList(value: unknown, name: string, required: boolean): void {
  if (value === undefined && !required) return;
  const list = typeof value === "string" ? [value] : Array.isArray(value) ? value : undefined;
  if (
    list === undefined || list.length === 0 ||
    !list.every((v) => typeof v === "string" && v.length > 0)
  ) {
    throw new TypeError(
      `Cannot create ${WHERE}: ${name} must be a non-empty string or a list of them`,
    );
  }
}

function checkCount(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Cannot create ${WHERE}: ${name} must be an integer, 0 or more`);
  }
  return value;
}

/** Internal: the key source of a verifier's options. */
function keySource(
  options: TokenVerifierOptions,
): { resolve: KeyResolver; algorithms: readonly string[]; directKey?: KeyEntry } {
  const sources = [options.secret, options.keys, options.jwksUrl].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    throw new TypeError(`Cannot create ${WHERE}: give exactly one of secret, keys or jwksUrl`);
  }
  if (options.secret !== undefined) {
    const entry = secretEntry(secretBytes(options.secret, WHERE, "secret"), undefined);
    // One secret and no kid to match: jose pins HS256 and gets the key itself.
    return { resolve: localResolver([entry]), algorithms: ["HS256"], directKey: entry };
  }
  if (options.keys !== undefined) {
    const list: unknown = Array.isArray(options.keys)
      ? options.keys
      : (options.keys as JwkSet | null)?.keys;
    if (!Array.isArray(list) || list.length === 0) {
      throw new TypeError(`Cannot create ${WHERE}: keys must be a non-empty list of JWKs`);
    }
    const entries: KeyEntry[] = list.map((jwk, i) => jwkEntry(jwk, WHERE, `keys[${i}]`));
    const kids = new Set<string>();
    for (const [i, e] of entries.entries()) {
      if (entries.length > 1 && e.kid === undefined) {
        throw new TypeError(
          `Cannot create ${WHERE}: keys[${i}] needs a kid when there are several`,
        );
      }
      if (e.kid !== undefined && kids.has(e.kid)) {
        throw new TypeError(`Cannot create ${WHERE}: keys[${i}].kid is used twice`);
      }
      if (e.kid !== undefined) kids.add(e.kid);
    }
    return {
      resolve: localResolver(entries),
      algorithms: [...new Set(entries.map((e) => e.alg))],
      // One key without a kid: jose pins its algorithm and there is no kid to match.
      ...(entries.length === 1 && entries[0]?.kid === undefined
        ? { directKey: entries[0] as KeyEntry }
        : {}),
    };
  }
  let url: URL;
  try {
    url = new URL(String(options.jwksUrl));
  } catch (cause) {
    throw new TypeError(`Cannot create ${WHERE}: jwksUrl must be an absolute URL`, { cause });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(`Cannot create ${WHERE}: jwksUrl must be an http(s) URL`);
  }
  const algorithms = options.algorithms ?? REMOTE_ALGORITHMS;
  if (
    !Array.isArray(algorithms) || algorithms.length === 0 ||
    !algorithms.every((a) => REMOTE_ALGORITHMS.includes(a))
  ) {
    throw new TypeError(
      `Cannot create ${WHERE}: algorithms must list some of RS256, ES256, EdDSA (HS256 needs a secret)`,
    );
  }
  if (options.fetch !== undefined && typeof options.fetch !== "function") {
    throw new TypeError(`Cannot create ${WHERE}: fetch must be a function`);
  }
  const fetchImpl = options.fetch;
  const remote = createRemoteJWKSet(url, {
    cacheMaxAge: milliseconds(options.jwksCacheMaxAge, 600_000, WHERE, "jwksCacheMaxAge"),
    cooldownDuration: milliseconds(options.jwksCooldown, 30_000, WHERE, "jwksCooldown", true),
    timeoutDuration: milliseconds(options.jwksTimeout, 5_000, WHERE, "jwksTimeout"),
    ...(fetchImpl === undefined ? {} : {
      [customFetch]: (input: string, init: RequestInit): Promise<Response> =>
        fetchImpl(input, init),
    }),
  });
  const allowed = new Set<string>(algorithms);
  async function resolveRemoteKey(
    header: { alg?: string | undefined; kid?: string | undefined },
  ): Promise<CryptoKey> {
    if (header.alg === undefined || !allowed.has(header.alg)) {
      throw new AuthError("Cannot verify token: its alg is not allowed", { code: "token_invalid" });
    }
    try {
      return await remote(header as never) as CryptoKey;
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (
        code === "ERR_JWKS_NO_MATCHING_KEY" || code === "ERR_JWKS_MULTIPLE_MATCHING_KEYS" ||
        code === "ERR_JOSE_NOT_SUPPORTED"
      ) {
        throw new AuthError("Cannot verify token: no key matches its kid", {
          code: "token_invalid",
          cause: error,
        });
      }
      throw new AuthError("Cannot verify token: the JWKS fetch failed", {
        code: "key_set_unavailable",
        cause: error,
      });
    }
  }
  return { resolve: resolveRemoteKey, algorithms: [...algorithms] };
}

/**
 * Creates a {@linkcode TokenVerifier}. It pins the algorithms to the keys, requires `exp`,
 * `iat`, `jti`, `sub`, `role` and an `org_id` (`null` only for a `system_admin`), checks `iss`, `aud` and `nbf` (with `clockTolerance`), keeps access
 * (`typ: at+jwt`) and refresh (`typ: refresh+jwt`, another audience) tokens apart, checks
 * revocations in `store` on every call, and caches verified access-token claims for the exact
 * token (bounded: when full, roughly the least recently used entry goes first), until the
 * earlier of its `exp` and `cacheMaxAge`.
 *
 * @param options Key source, issuer, audience and limits.
 * @returns The verifier.
 * @throws {TypeError} When the key source is missing, ambiguous or malformed, or `issuer` /
 *   `audience` is missing, or a duration is not a number of milliseconds.
 * @throws {RangeError} When a secret is shorter than 32 bytes or a duration or count is out of range.
 *
 * @example Local keys with rotation: both keys verify, the issuer signs with one
 * ```ts
 * import { createTokenIssuer, createTokenVerifier } from "@plinth/auth";
 * import { exportJWK, generateKeyPair } from "jose";
 * import assert from "node:assert/strict";
 *
 * const old = await generateKeyPair("ES256", { extractable: true });
 * const current = await generateKeyPair("ES256", { extractable: true });
 * const issuer = createTokenIssuer({
 *   privateKey: await exportJWK(current.privateKey), kid: "2026-11",
 *   issuer: "https://auth.example.com", audience: "api",
 * });
 * const verifier = createTokenVerifier({
 *   keys: [
 *     { ...await exportJWK(old.publicKey), kid: "2026-10" },
 *     { ...await exportJWK(current.publicKey), kid: "2026-11" },
 *   ],
 *   issuer: "https://auth.example.com",
 *   audience: "api",
 * });
 * const { accessToken, refreshToken } = await issuer.generateTokenPair({
 *   userId: "u1", orgId: "acme", role: "org_admin",
 * });
 * const claims = await verifier.verifyAccessToken(accessToken);
 * assert.equal(claims.org_id, "acme");
 * await assert.rejects(verifier.verifyAccessToken(refreshToken), { code: "token_wrong_kind" });
 * ```
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot create ${WHERE}: options must be an object`);
  }
  checkStringOrList(options.issuer, "issuer", true);
  checkStringOrList(options.audience, "audience", true);
  checkStringOrList(options.refreshAudience, "refreshAudience", false);
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new TypeError(`Cannot create ${WHERE}: now must be a function`);
  }
  const store = options.store ?? createMemoryTokenStore(
    options.now === undefined ? {} : { now: options.now },
  );
  if (
    typeof store !== "object" || store === null || typeof store.isRevoked !== "function" ||
    typeof store.revoke !== "function"
  ) {
    throw new TypeError(`Cannot create ${WHERE}: store must be a TokenStore`);
  }
  const source = keySource(options);
  const now = options.now ?? Date.now;
  const core = new VerifierCore({
    resolve: source.resolve,
    directKey: source.directKey,
    clockInjected: options.now !== undefined,
    algorithms: source.algorithms,
    issuer: options.issuer,
    audience: options.audience,
    refreshAudience: options.refreshAudience ?? refreshAudienceOf(options.audience),
    clockToleranceMs: milliseconds(options.clockTolerance, 5_000, WHERE, "clockTolerance", true),
    now,
    cacheSize: checkCount(options.cacheSize, "cacheSize", 10_000),
    cacheMaxAge: milliseconds(options.cacheMaxAge, 60_000, WHERE, "cacheMaxAge"),
    maxTokenLength: checkCount(options.maxTokenLength, "maxTokenLength", 8192),
    store,
  });
  const verifier: TokenVerifier = {
    verifyAccessToken(token: string): Promise<TokenClaims> {
      return core.verify(token, "access");
    },
    verifyRefreshToken(token: string): Promise<RefreshTokenClaims> {
      return core.verify(token, "refresh");
    },
    async revoke(id: string, expiresAt?: number): Promise<void> {
      if (typeof id !== "string" || id === "") {
        throw new TypeError("Cannot revoke token: id must be a non-empty string");
      }
      if (expiresAt !== undefined && !Number.isFinite(expiresAt)) {
        throw new TypeError("Cannot revoke token: expiresAt must be epoch milliseconds");
      }
      core.forget(id);
      await store.revoke(id, core.retainUntil(expiresAt ?? now() + 31 * 86_400_000));
    },
    clearCache(): void {
      core.clear();
    },
    get cached(): number {
      return core.cached;
    },
  };
  // For authenticate(): answers a cache hit without a promise. Not enumerable, not public API.
  const probe: CacheProbe = (token) => core.peek(token);
  Object.defineProperty(verifier, CACHE_PROBE, { value: probe });
  return verifier;
}
