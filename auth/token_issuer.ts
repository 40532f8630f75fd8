import { SignJWT } from "jose";
import { AuthError } from "./auth_error.ts";
import { milliseconds } from "./_milliseconds.ts";
import type { Jwk, JwkSet, SigningAlgorithm, WebCryptoKey } from "./keys.ts";
import {
  cryptoKeyAlgorithm,
  cryptoKeyEntry,
  hmacKey,
  importPem,
  importPrivateJwk,
  isCryptoKey,
  isJwk,
  jwkAlgorithm,
  jwkEntry,
  type KeyEntry,
  pendingEntry,
  publicJwk,
  publicJwkOf,
  publicKeyOf,
  secretBytes,
  secretEntry,
} from "./_keys.ts";
import {
  isOrgIdFor,
  localResolver,
  ORGLESS_ROLE,
  refreshAudienceOf,
  VerifierCore,
} from "./_verifier_core.ts";
import { createMemoryTokenStore, type TokenStore } from "./token_store.ts";
import type { RefreshTokenClaims } from "./token_verifier.ts";
import type { AuthLogger } from "./logger.ts";
import { defaultLogger, safeWarn } from "./_default_logger.ts";

/**
 * Who a token pair is for: the user, the organisation they act in, their role there, and
 * optionally scopes and extra claims. A system administrator belongs to no organisation: with
 * `role: "system_admin"`, `orgId` may be `null` (written as `org_id: null`); every other role
 * needs an organisation.
 *
 * @example
 * ```ts
 * import type { TokenSubject } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const subject: TokenSubject = { userId: "u1", orgId: "acme", role: "org_user", scopes: ["usage:read"] };
 * assert.equal(subject.orgId, "acme");
 * const operator: TokenSubject = { userId: "root", orgId: null, role: "system_admin" };
 * assert.equal(operator.orgId, null);
 * ```
 */
export interface TokenSubject {
  /** The user id (`sub`). */
  readonly userId: string;
  /** The organisation id (`org_id`); `null` only with `role: "system_admin"` (no organisation). */
  readonly orgId: string | null;
  /** The role in that organisation, or the global `"system_admin"` (`role`). */
  readonly role: string;
  /** Scopes, written as the space-separated `scope` claim. @default {none} */
  readonly scopes?: readonly string[] | undefined;
  /** Extra claims for both tokens; registered and plinth claim names are refused. @default {{}} */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * An access token and a refresh token, as a token endpoint returns them.
 *
 * @example
 * ```ts
 * import type { TokenPair } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const pair: TokenPair = {
 *   accessToken: "eyJ…", refreshToken: "eyJ…", tokenType: "Bearer",
 *   expiresIn: 900, refreshExpiresIn: 2_592_000,
 *   expiresAt: 1_800_000_900_000, refreshExpiresAt: 1_802_592_000_000,
 * };
 * assert.equal(pair.expiresIn, 900);
 * assert.equal(new Date(pair.expiresAt).toISOString(), "2027-01-15T08:15:00.000Z");
 * ```
 */
export interface TokenPair {
  /** The access token (`typ: at+jwt`). */
  readonly accessToken: string;
  /** The refresh token (`typ: refresh+jwt`), single use. */
  readonly refreshToken: string;
  /** Always `"Bearer"`. */
  readonly tokenType: "Bearer";
  /** Seconds until the access token expires: OAuth's `expires_in` (RFC 6749), ready to send. */
  readonly expiresIn: number;
  /** Seconds until the refresh token expires, for the token endpoint's response. */
  readonly refreshExpiresIn: number;
  /** When the access token expires (its `exp`), epoch milliseconds. */
  readonly expiresAt: number;
  /** When the refresh token expires (its `exp`), epoch milliseconds. */
  readonly refreshExpiresAt: number;
}

/**
 * Options of {@linkcode createTokenIssuer}. Give `secret` (HS256) or `privateKey`
 * (RS256, ES256 or EdDSA).
 *
 * @example
 * ```ts
 * import { createTokenIssuer, type TokenIssuerOptions } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const options: TokenIssuerOptions = {
 *   secret: "a-secret-of-at-least-thirty-two-bytes!!",
 *   kid: "hs-2026-11",
 *   issuer: "https://auth.example.com",
 *   audience: "api",
 *   accessTtl: 15 * 60_000,
 *   refreshTtl: 30 * 86_400_000,
 * };
 * assert.equal(createTokenIssuer(options).kid, "hs-2026-11");
 * ```
 */
export interface TokenIssuerOptions {
  /** HS256 shared secret, at least 32 bytes. @default {undefined} */
  readonly secret?: string | Uint8Array | undefined;
  /** Private signing key: a `CryptoKey`, a private JWK, or a PKCS#8 PEM string. @default {undefined} */
  readonly privateKey?: WebCryptoKey | Jwk | string | undefined;
  /** Public key for checking refresh tokens, when it cannot be derived (a non-extractable `CryptoKey`). @default {derived from privateKey} */
  readonly publicKey?: WebCryptoKey | Jwk | undefined;
  /** Signing algorithm; required for a PEM key. @default {inferred from the key} */
  readonly algorithm?: SigningAlgorithm | undefined;
  /** Key id written to the `kid` header. @default {the JWK's kid; otherwise required} */
  readonly kid?: string | undefined;
  /** The `iss` claim. */
  readonly issuer: string;
  /** The `aud` of access tokens. */
  readonly audience: string;
  /** The `aud` of refresh tokens; must differ from `audience`. @default {audience + ":refresh"} */
  readonly refreshAudience?: string | undefined;
  /** Access token lifetime, milliseconds (at least 1000). @default {900000 (15 min)} */
  readonly accessTtl?: number | undefined;
  /** Refresh token lifetime, milliseconds (each rotation starts a new one). @default {2592000000 (30 days)} */
  readonly refreshTtl?: number | undefined;
  /** How long after its first use a refresh token may be presented again by a concurrent retry without revoking its family, milliseconds; 0 makes every second use a reuse. @default {10000 (10 s)} */
  readonly reuseGrace?: number | undefined;
  /** Clock skew allowed when checking refresh tokens, milliseconds. @default {5000 (5 s)} */
  readonly clockTolerance?: number | undefined;
  /** Records refresh-token use and revocations; share it with the verifier. @default {a new in-memory store} */
  readonly store?: TokenStore | undefined;
  /** Re-reads the subject on rotation (a changed role, a removed user: return `null` to refuse and revoke the family). @default {keep the refresh token's subject} */
  readonly refreshSubject?:
    | ((claims: RefreshTokenClaims) => TokenSubject | null | Promise<TokenSubject | null>)
    | undefined;
  /** Gets a warning when refresh-token reuse revokes a family. @default {`log` from `@plinth/logging`} */
  readonly logger?: AuthLogger | undefined;
  /** The clock, epoch milliseconds. @default {Date.now} */
  readonly now?: (() => number) | undefined;
}

/**
 * Issues and rotates token pairs. Made by {@linkcode createTokenIssuer}.
 *
 * @example
 * ```ts
 * import { createTokenIssuer, type TokenIssuer } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const issuer: TokenIssuer = createTokenIssuer({
 *   secret: "a-secret-of-at-least-thirty-two-bytes!!", kid: "k1", issuer: "auth", audience: "api",
 * });
 * const pair = await issuer.generateTokenPair({ userId: "u1", orgId: "o1", role: "org_user" });
 * const next = await issuer.rotateRefreshToken(pair.refreshToken);
 * assert.notEqual(next.refreshToken, pair.refreshToken);
 * ```
 */
export interface TokenIssuer {
  /** The signing key's id. */
  readonly kid: string;
  /** The signing algorithm. */
  readonly algorithm: SigningAlgorithm;
  /** The store of used refresh tokens and revocations. */
  readonly store: TokenStore;
  /**
   * Issues an access token and a refresh token starting a new family. Rejects with a
   * `TypeError` for a malformed subject, an org role with a `null` `orgId` among them.
   */
  generateTokenPair(subject: TokenSubject): Promise<TokenPair>;
  /**
   * Exchanges a refresh token for a new pair in the same family and marks it used. Presenting
   * a used token again after the grace period revokes the whole family and rejects with
   * `refresh_token_reused`.
   */
  rotateRefreshToken(refreshToken: string): Promise<TokenPair>;
  /** Verifies a refresh token and revokes its whole family (sign-out). */
  revokeRefreshToken(refreshToken: string): Promise<void>;
  /**
   * Revokes one token by `jti` (or a family by id) until `expiresAt` (epoch ms; pass the
   * token's `exp * 1000`; default: past any token issued now) and the clock tolerance after
   * it, for as long as the token could still verify.
   */
  revoke(id: string, expiresAt?: number): Promise<void>;
  /** The public JWK set to serve for asymmetric keys (empty for HS256). */
  jwks(): Promise<JwkSet>;
}

const WHERE = "token issuer";
const RESERVED = new Set([
  "iss",
  "sub",
  "aud",
  "exp",
  "nbf",
  "iat",
  "jti",
  "org_id",
  "role",
  "fam",
  "scope",
  "typ",
  "cnf",
]);
const SCOPE_RE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

interface SigningSetup {
  readonly alg: SigningAlgorithm;
  readonly kid: string | undefined;
  readonly signKey: Promise<CryptoKey>;
  readonly verifyEntry: KeyEntry;
  readonly publicJwk: Promise<Jwk | undefined>;
}

function signingSetup(options: TokenIssuerOptions): SigningSetup {
  if ((options.secret === undefined) === (options.privateKey === undefined)) {
    throw new TypeError(`Cannot create ${WHERE}: give exactly one of secret or privateKey`);
  }
  const explicit = options.algorithm;
  if (explicit !== undefined && !["HS256", "RS256", "ES256", "EdDSA"].includes(explicit)) {
    throw new TypeError(`Cannot create ${WHERE}: algorithm must be HS256, RS256, ES256 or EdDSA`);
  }
  if (options.secret !== undefined) {
    if (explicit !== undefined && explicit !== "HS256") {
      throw new TypeError(`Cannot create ${WHERE}: a secret signs with HS256 only`);
    }
    const bytes = secretBytes(options.secret, WHERE, "secret");
    const signKey = hmacKey(bytes);
    signKey.catch(() => {});
    return {
      alg: "HS256",
      kid: undefined,
      signKey,
      verifyEntry: secretEntry(bytes, undefined),
      publicJwk: Promise.resolve(undefined),
    };
  }
  const key = options.privateKey;
  let alg: SigningAlgorithm | undefined;
  let kid: string | undefined;
  let signKey: Promise<CryptoKey>;
  let extractable = true;
  if (typeof key === "string") {
    if (!key.includes("-----BEGIN PRIVATE KEY-----")) {
      throw new TypeError(`Cannot create ${WHERE}: privateKey must be a PKCS#8 PEM string`);
    }
    if (explicit === undefined || explicit === "HS256") {
      throw new TypeError(
        `Cannot create ${WHERE}: algorithm (RS256, ES256 or EdDSA) is required with a PEM key`,
      );
    }
    alg = explicit;
    signKey = importPem(key, alg);
  } else if (isCryptoKey(key)) {
    if (key.type !== "private") {
      throw new TypeError(`Cannot create ${WHERE}: privateKey must be a private key`);
    }
    alg = cryptoKeyAlgorithm(key);
    extractable = key.extractable;
    signKey = Promise.resolve(key);
  } else if (isJwk(key)) {
    if (typeof key["d"] !== "string" || key.kty === "oct") {
      throw new TypeError(`Cannot create ${WHERE}: privateKey must be a private JWK (with "d")`);
    }
    alg = jwkAlgorithm(key);
    kid = typeof key.kid === "string" ? key.kid : undefined;
    const resolved = alg;
    signKey = resolved === undefined
      ? Promise.reject(new TypeError("unreachable"))
      : importPrivateJwk(key, resolved);
  } else {
    throw new TypeError(
      `Cannot create ${WHERE}: privateKey must be a CryptoKey, a private JWK or a PEM string`,
    );
  }
  signKey.catch(() => {});
  if (alg === undefined || alg === "HS256" || (explicit !== undefined && explicit !== alg)) {
    throw new TypeError(
      `Cannot create ${WHERE}: privateKey must be an RSA (RS256), P-256 (ES256) or Ed25519 (EdDSA) key` +
        (explicit === undefined ? "" : " matching algorithm"),
    );
  }
  const signAlg = alg;
  let verifyEntry: KeyEntry;
  let jwk: Promise<Jwk | undefined>;
  const pub = options.publicKey;
  if (pub !== undefined) {
    if (isCryptoKey(pub)) {
      if (pub.type !== "public" || cryptoKeyAlgorithm(pub) !== signAlg) {
        throw new TypeError(`Cannot create ${WHERE}: publicKey must be the public ${signAlg} key`);
      }
      verifyEntry = cryptoKeyEntry(pub, signAlg, undefined);
      jwk = pub.extractable ? publicJwkOf(pub) : Promise.resolve(undefined);
    } else {
      verifyEntry = jwkEntry(pub, WHERE, "publicKey");
      if (verifyEntry.alg !== signAlg) {
        throw new TypeError(`Cannot create ${WHERE}: publicKey must be the public ${signAlg} key`);
      }
      jwk = Promise.resolve(publicJwk(pub as Jwk));
    }
  } else {
    if (!extractable) {
      throw new TypeError(
        `Cannot create ${WHERE}: publicKey is required when privateKey is a non-extractable CryptoKey`,
      );
    }
    verifyEntry = pendingEntry(async () => publicKeyOf(await signKey, signAlg), signAlg, undefined);
    jwk = signKey.then((k) => publicJwkOf(k));
  }
  jwk.catch(() => {});
  return { alg: signAlg, kid, signKey, verifyEntry, publicJwk: jwk };
}

function nonEmpty(value: unknown, name: string, where: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 1024) {
    throw new TypeError(`Cannot ${where}: ${name} must be a non-empty string`);
  }
  return value;
}

function checkSubject(subject: TokenSubject): Record<string, unknown> {
  const action = "generate token pair";
  if (typeof subject !== "object" || subject === null) {
    throw new TypeError(`Cannot ${action}: subject must be an object`);
  }
  const sub = nonEmpty(subject.userId, "userId", action);
  const role = nonEmpty(subject.role, "role", action);
  if (!isOrgIdFor(subject.orgId, role)) {
    throw new TypeError(
      subject.orgId === null
        ? `Cannot ${action}: orgId may be null only for role "${ORGLESS_ROLE}"`
        : `Cannot ${action}: orgId must be a non-empty string (or null for role "${ORGLESS_ROLE}")`,
    );
  }
  const payload: Record<string, unknown> = { sub, org_id: subject.orgId, role };
  if (subject.scopes !== undefined) {
    if (!Array.isArray(subject.scopes) || !subject.scopes.every((s) => SCOPE_RE.test(s))) {
      throw new TypeError(
        `Cannot ${action}: scopes must be a list of printable strings without spaces or quotes`,
      );
    }
    if (subject.scopes.length > 0) payload["scope"] = subject.scopes.join(" ");
  }
  for (const [name, value] of Object.entries(subject.claims ?? {})) {
    if (RESERVED.has(name)) {
      throw new TypeError(`Cannot ${action}: claim "${name}" is reserved`);
    }
    payload[name] = value;
  }
  return payload;
}

/**
 * Creates a {@linkcode TokenIssuer}: short-lived access tokens (`typ: at+jwt`) and single-use
 * refresh tokens (`typ: refresh+jwt`, their own audience), both with `kid`, `jti`, `iat` and
 * `exp`. Rotation marks the presented refresh token used in `store`; presenting it again
 * after `reuseGrace` revokes its whole family (every refresh token rotated from the same
 * sign-in, and the access tokens issued with them, for verifiers that share the store).
 *
 * @param options Signing key, issuer, audience, lifetimes and store.
 * @returns The issuer.
 * @throws {TypeError} When the key is missing, ambiguous or unsuitable, a name is missing, or a
 *   duration is not a number of milliseconds.
 * @throws {RangeError} When a secret is shorter than 32 bytes or a duration is out of range.
 *
 * @example Rotation and reuse detection
 * ```ts
 * import { createTokenIssuer } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * let now = Date.UTC(2026, 10, 22);
 * const issuer = createTokenIssuer({
 *   secret: "a-secret-of-at-least-thirty-two-bytes!!",
 *   kid: "k1",
 *   issuer: "https://auth.example.com",
 *   audience: "api",
 *   now: () => now,
 *   logger: { warn: () => {} },
 * });
 * const first = await issuer.generateTokenPair({ userId: "u1", orgId: "acme", role: "org_user" });
 * assert.equal(first.expiresIn, 900);
 * const second = await issuer.rotateRefreshToken(first.refreshToken);
 * now += 60_000; // past the 10 s grace period: this is a replay
 * await assert.rejects(issuer.rotateRefreshToken(first.refreshToken), { code: "refresh_token_reused" });
 * // ...and the whole family is gone
 * await assert.rejects(issuer.rotateRefreshToken(second.refreshToken), { code: "token_revoked" });
 * ```
 *
 * @example A system administrator belongs to no organisation
 * ```ts
 * import { createTokenIssuer, createTokenVerifier } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const options = {
 *   secret: "a-secret-of-at-least-thirty-two-bytes!!", issuer: "auth", audience: "api",
 * };
 * const issuer = createTokenIssuer({ ...options, kid: "k1" });
 * const verifier = createTokenVerifier(options);
 * const pair = await issuer.generateTokenPair({ userId: "root", orgId: null, role: "system_admin" });
 * assert.equal((await verifier.verifyAccessToken(pair.accessToken)).org_id, null);
 * // every other role acts in an organisation
 * await assert.rejects(
 *   issuer.generateTokenPair({ userId: "u1", orgId: null, role: "org_admin" }),
 *   { name: "TypeError", message: /orgId may be null only for role "system_admin"/ },
 * );
 * ```
 */
export function createTokenIssuer(options: TokenIssuerOptions): TokenIssuer {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot create ${WHERE}: options must be an object`);
  }
  const setup = signingSetup(options);
  const kid = options.kid ?? setup.kid;
  if (typeof kid !== "string" || kid === "" || kid.length > 256) {
    throw new TypeError(`Cannot create ${WHERE}: kid must be a non-empty string`);
  }
  const issuer = nonEmpty(options.issuer, "issuer", `create ${WHERE}`);
  const audience = nonEmpty(options.audience, "audience", `create ${WHERE}`);
  const refreshAudience = options.refreshAudience === undefined
    ? refreshAudienceOf(audience) as string
    : nonEmpty(options.refreshAudience, "refreshAudience", `create ${WHERE}`);
  if (refreshAudience === audience) {
    throw new TypeError(`Cannot create ${WHERE}: refreshAudience must differ from audience`);
  }
  const accessTtl = milliseconds(options.accessTtl, 900_000, WHERE, "accessTtl");
  const refreshTtl = milliseconds(options.refreshTtl, 30 * 86_400_000, WHERE, "refreshTtl");
  const reuseGrace = milliseconds(options.reuseGrace, 10_000, WHERE, "reuseGrace", true);
  if (accessTtl < 1000 || refreshTtl < 1000) {
    throw new RangeError(`Cannot create ${WHERE}: accessTtl and refreshTtl must be at least 1 s`);
  }
  for (const name of ["now", "refreshSubject"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "function") {
      throw new TypeError(`Cannot create ${WHERE}: ${name} must be a function`);
    }
  }
  const logger = options.logger ?? defaultLogger;
  if (typeof logger !== "object" || logger === null || typeof logger.warn !== "function") {
    throw new TypeError(`Cannot create ${WHERE}: logger must have a warn(message, fields) method`);
  }
  const now = options.now ?? Date.now;
  const store = options.store ?? createMemoryTokenStore({ now });
  if (
    typeof store !== "object" || store === null || typeof store.useRefreshToken !== "function" ||
    typeof store.revoke !== "function" || typeof store.isRevoked !== "function"
  ) {
    throw new TypeError(`Cannot create ${WHERE}: store must be a TokenStore`);
  }
  const refreshSubject = options.refreshSubject;
  const alg = setup.alg;
  const core = new VerifierCore({
    resolve: localResolver([setup.verifyEntry]),
    clockInjected: true,
    algorithms: [alg],
    issuer,
    audience,
    refreshAudience,
    clockToleranceMs: milliseconds(options.clockTolerance, 5_000, WHERE, "clockTolerance", true),
    now,
    cacheSize: 0,
    cacheMaxAge: 1,
    maxTokenLength: 8192,
    store,
  });

  async function sign(
    payload: Record<string, unknown>,
    typ: string,
    aud: string,
    iat: number,
    exp: number,
  ): Promise<string> {
    return await new SignJWT(payload)
      .setProtectedHeader({ alg, kid: kid as string, typ })
      .setIssuer(issuer)
      .setAudience(aud)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(crypto.randomUUID())
      .sign(await setup.signKey);
  }

  async function pair(payload: Record<string, unknown>, family: string): Promise<TokenPair> {
    const t = now();
    const iat = Math.floor(t / 1000);
    const accessExp = Math.floor((t + accessTtl) / 1000);
    const refreshExp = Math.floor((t + refreshTtl) / 1000);
    const body = { ...payload, fam: family };
    const [accessToken, refreshToken] = await Promise.all([
      sign(body, "at+jwt", audience, iat, accessExp),
      sign(body, "refresh+jwt", refreshAudience, iat, refreshExp),
    ]);
    return {
      accessToken,
      refreshToken,
      tokenType: "Bearer",
      expiresIn: accessExp - iat,
      refreshExpiresIn: refreshExp - iat,
      expiresAt: accessExp * 1000,
      refreshExpiresAt: refreshExp * 1000,
    };
  }

  function subjectOf(claims: RefreshTokenClaims): Record<string, unknown> {
    const payload: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(claims)) {
      if (!RESERVED.has(name) || name === "sub" || name === "org_id" || name === "role") {
        payload[name] = value;
      }
    }
    if (claims.scope !== undefined) payload["scope"] = claims.scope;
    return payload;
  }

  // Entries about a token are kept until it can no longer verify, clock tolerance included;
  // a family's newest tokens were issued at the latest now, so they expire within the longer TTL.
  const familyRetention = Math.max(accessTtl, refreshTtl);

  async function revokeFamily(claims: RefreshTokenClaims, reason: string): Promise<void> {
    await store.revoke(claims.fam, core.retainUntil(now() + familyRetention));
    safeWarn(logger, reason, { user_id: claims.sub, org_id: claims.org_id, family: claims.fam });
  }

  return {
    kid,
    algorithm: alg,
    store,
    async generateTokenPair(subject: TokenSubject): Promise<TokenPair> {
      return await pair(checkSubject(subject), crypto.randomUUID());
    },
    async rotateRefreshToken(refreshToken: string): Promise<TokenPair> {
      const claims = await core.verify(refreshToken, "refresh");
      const t = now();
      const firstUse = await store.useRefreshToken(
        claims.jti,
        core.retainUntil(claims.exp * 1000),
        t,
      );
      // reuseGrace 0: no grace at all, so a second use in the same millisecond is reuse too.
      if (firstUse !== undefined && (reuseGrace === 0 || t - firstUse > reuseGrace)) {
        await revokeFamily(claims, "Refresh token reuse detected; its family is revoked");
        throw new AuthError(
          "Cannot rotate refresh token: it was used before; its family is revoked",
          {
            code: "refresh_token_reused",
            tokenKind: "refresh",
          },
        );
      }
      let payload = subjectOf(claims);
      if (refreshSubject !== undefined) {
        const fresh = await refreshSubject(claims);
        if (fresh === null) {
          await revokeFamily(claims, "Refresh refused by refreshSubject; its family is revoked");
          throw new AuthError("Cannot rotate refresh token: its subject is gone", {
            code: "token_revoked",
            tokenKind: "refresh",
          });
        }
        payload = checkSubject(fresh);
      }
      return pair(payload, claims.fam);
    },
    async revokeRefreshToken(refreshToken: string): Promise<void> {
      const claims = await core.verify(refreshToken, "refresh");
      await store.revoke(claims.fam, core.retainUntil(now() + familyRetention));
    },
    async revoke(id: string, expiresAt?: number): Promise<void> {
      if (typeof id !== "string" || id === "") {
        throw new TypeError("Cannot revoke token: id must be a non-empty string");
      }
      if (expiresAt !== undefined && !Number.isFinite(expiresAt)) {
        throw new TypeError("Cannot revoke token: expiresAt must be epoch milliseconds");
      }
      await store.revoke(id, core.retainUntil(expiresAt ?? now() + familyRetention));
    },
    async jwks(): Promise<JwkSet> {
      const jwk = await setup.publicJwk;
      return jwk === undefined
        ? { keys: [] }
        : { keys: [{ ...jwk, kid: kid as string, alg, use: "sig" }] };
    },
  };
}
