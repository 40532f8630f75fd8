import type { Context, MiddlewareHandler, Next } from "hono";
import { AuthError, type AuthErrorCode } from "./auth_error.ts";
import { parseApiKey, verifyApiKey } from "./api_key.ts";
import type { TokenClaims, TokenVerifier } from "./token_verifier.ts";
import type { AuthLogger } from "./logger.ts";
import { checkLogger, defaultLogger, safeError, safeWarn } from "./_default_logger.ts";
import { CACHE_PROBE, type CacheProbe } from "./_verifier_core.ts";
import type {
  ApiKeyRecord,
  AuthContext,
  AuthVariables,
  OptionalAuthVariables,
  UserAuth,
} from "./auth_context.ts";

/**
 * Options of {@linkcode authenticate}. Give a `verifier` (JWTs), a `lookupApiKey` (API keys),
 * or both.
 *
 * @example
 * ```ts
 * import { createTokenVerifier } from "@plinth/auth";
 * import type { AuthenticateOptions } from "@plinth/auth/hono";
 * import assert from "node:assert/strict";
 *
 * const options: AuthenticateOptions = {
 *   verifier: createTokenVerifier({
 *     secret: "a-secret-of-at-least-thirty-two-bytes!!", issuer: "auth", audience: "api",
 *   }),
 *   lookupApiKey: () => null,
 *   apiKeyPrefixes: ["plk"],
 *   realm: "api",
 * };
 * assert.equal(options.realm, "api");
 * ```
 */
export interface AuthenticateOptions {
  /** Verifies `Authorization: Bearer <jwt>`. @default {undefined (JWTs refused)} */
  readonly verifier?: TokenVerifier | undefined;
  /** Finds an API key by id; `null` when there is none. @default {undefined (API keys refused)} */
  readonly lookupApiKey?:
    | ((id: string) => ApiKeyRecord | null | undefined | Promise<ApiKeyRecord | null | undefined>)
    | undefined;
  /** Prefixes of API keys accepted (a bearer token with one of them is taken as an API key). @default {["plk"]} */
  readonly apiKeyPrefixes?: readonly string[] | undefined;
  /** Header that carries an API key, or `false` for `Authorization` only. @default {"x-api-key"} */
  readonly apiKeyHeader?: string | false | undefined;
  /** Let requests without credentials through, with `c.var.auth` unset (bad credentials are still refused). @default {false} */
  readonly optional?: boolean | undefined;
  /** `realm` of the `WWW-Authenticate` challenge. @default {undefined} */
  readonly realm?: string | undefined;
  /** Gets one warning per refused request (reason, method, path, key id; never the credential), and an error (`warn` without one) per storage fault. @default {`log` from `@plinth/logging`} */
  readonly logger?: AuthLogger | undefined;
  /** The clock for API key expiry and revocation, epoch milliseconds. @default {Date.now} */
  readonly now?: (() => number) | undefined;
}

/** Why a request is refused, for {@linkcode AuthError} and the warning logged with it. */
interface Refusal {
  readonly code: AuthErrorCode;
  /** Which credential was refused: `none`, `both`, `bearer`, `jwt` or `api_key`. */
  readonly credential: string;
  readonly cause?: unknown;
  readonly key_id?: string;
  readonly detail?: string;
}

/** The Hono environment of the middleware: what it sets on `c.var`. */
type AuthEnv = { Variables: OptionalAuthVariables };
/** The context the middleware sees. */
type AuthContextOf = Context<AuthEnv>;

const WHERE = "authenticate middleware";
const MAX_HEADER = 8192 + 7;
const HEADER_NAME_RE = /^[!#$%&'*+.^`|~0-9A-Za-z-]+$/;
const EMPTY: readonly string[] = Object.freeze([]);

function checkOptions(options: AuthenticateOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot create ${WHERE}: options must be an object`);
  }
  const { verifier, lookupApiKey } = options;
  if (verifier === undefined && lookupApiKey === undefined) {
    throw new TypeError(`Cannot create ${WHERE}: give a verifier, a lookupApiKey, or both`);
  }
  if (
    verifier !== undefined &&
    (typeof verifier !== "object" || verifier === null ||
      typeof verifier.verifyAccessToken !== "function")
  ) {
    throw new TypeError(`Cannot create ${WHERE}: verifier must be a TokenVerifier`);
  }
  if (lookupApiKey !== undefined && typeof lookupApiKey !== "function") {
    throw new TypeError(`Cannot create ${WHERE}: lookupApiKey must be a function`);
  }
  const prefixes = options.apiKeyPrefixes;
  if (
    prefixes !== undefined &&
    (!Array.isArray(prefixes) || prefixes.length === 0 ||
      !prefixes.every((p) => typeof p === "string" && /^[a-z][a-z0-9]{1,15}$/.test(p)))
  ) {
    throw new TypeError(
      `Cannot create ${WHERE}: apiKeyPrefixes must list prefixes of 2 to 16 lower-case letters and digits`,
    );
  }
  const header = options.apiKeyHeader;
  if (
    header !== undefined && header !== false &&
    (typeof header !== "string" || !HEADER_NAME_RE.test(header) ||
      header.toLowerCase() === "authorization")
  ) {
    throw new TypeError(`Cannot create ${WHERE}: apiKeyHeader must be a header name or false`);
  }
  if (options.optional !== undefined && typeof options.optional !== "boolean") {
    throw new TypeError(`Cannot create ${WHERE}: optional must be a boolean`);
  }
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new TypeError(`Cannot create ${WHERE}: now must be a function`);
  }
  checkLogger(options.logger, WHERE);
  // Builds a challenge once, so a realm that cannot be quoted fails now, not per request.
  try {
    new AuthError("Checking the realm", { code: "credentials_missing", realm: options.realm });
  } catch (cause) {
    throw new TypeError(
      `Cannot create ${WHERE}: realm must be printable ASCII without quotes or backslashes`,
      { cause },
    );
  }
}

/**
 * Compared against when a key id is unknown, so that an unknown id costs the same hash as a
 * wrong secret (see the README's "API keys"). No key hashes to it in practice.
 */
const NO_SUCH_KEY_HASH = "0".repeat(64);
const HASH_RE = /^[0-9a-f]{64}$/i;

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= 1024;
}

/** What is wrong with a stored record's hash, or `undefined`. */
function hashFault(hash: unknown): string | undefined {
  return typeof hash === "string" && HASH_RE.test(hash)
    ? undefined
    : "hash is missing or not 64 hex digits";
}

/**
 * The record's fields, each read once: a getter or a Proxy that throws is a storage fault (the
 * caller's catch), and nothing read afterwards can change between check and use.
 */
function readRecord(record: object): Record<keyof ApiKeyRecord, unknown> {
  const r = record as Record<keyof ApiKeyRecord, unknown>;
  return {
    hash: r.hash,
    orgId: r.orgId,
    role: r.role,
    scopes: r.scopes,
    revokedAt: r.revokedAt,
    expiresAt: r.expiresAt,
  };
}

/** Whether a stored point in time is absent or a number (epoch milliseconds). */
function isEpochMs(value: unknown): boolean {
  return value === null || value === undefined || typeof value === "number";
}

/** What is wrong with the rest of a stored record (its hash already matched), or `undefined`. */
function recordFault(record: Record<keyof ApiKeyRecord, unknown>): string | undefined {
  if (!isNonEmptyString(record.orgId)) return "orgId is missing or not a non-empty string";
  if (!isNonEmptyString(record.role)) return "role is missing or not a non-empty string";
  const scopes = record.scopes;
  if (scopes !== undefined && scopes !== null) {
    if (!Array.isArray(scopes)) return "scopes is not a list of strings";
    // Indexed, not every(): a hole in a sparse array is not a string either.
    for (let i = 0; i < scopes.length; i++) {
      if (typeof scopes[i] !== "string") return "scopes is not a list of strings";
    }
  }
  if (!isEpochMs(record.revokedAt)) return "revokedAt is not epoch milliseconds (a number)";
  if (!isEpochMs(record.expiresAt)) return "expiresAt is not epoch milliseconds (a number)";
  return undefined;
}

function scopesOf(scope: string | undefined): readonly string[] {
  return scope === undefined || scope === "" ? EMPTY : Object.freeze(scope.split(" "));
}

/**
 * Hono middleware that authenticates a request and sets `c.var.auth`. It accepts
 * `Authorization: Bearer <jwt>` (checked by `verifier`), and API keys either as
 * `Authorization: Bearer <key>` (recognised by prefix) or in `X-API-Key` (checked: shape and
 * checksum, then `lookupApiKey(id)`, then the hash in constant time, then revocation and
 * expiry). Every failure — missing, malformed, oversized, expired, wrongly signed, wrong kind,
 * algorithm confusion, revoked — throws an {@linkcode AuthError}: a 401 problem with a
 * `WWW-Authenticate: Bearer` challenge, never a 500, and one warning to `logger` with the
 * reason but not the credential. A lookup that throws or returns a malformed record is a
 * storage fault: 503 `api_key_store_failed`, logged as an error. With `optional: true`,
 * requests without credentials pass.
 *
 * @param options Verifier, API key lookup, and where keys come from.
 * @returns The middleware.
 * @throws {TypeError} When neither a verifier nor a lookup is given, or an option is malformed.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { type AuthVariables, createTokenIssuer, createTokenVerifier } from "@plinth/auth";
 * import { authenticate } from "@plinth/auth/hono";
 * import assert from "node:assert/strict";
 *
 * const secret = "a-secret-of-at-least-thirty-two-bytes!!";
 * const options = { secret, issuer: "https://auth.example.com", audience: "api" };
 * const issuer = createTokenIssuer({ ...options, kid: "k1" });
 * const app = new Hono<{ Variables: AuthVariables }>();
 * app.use(authenticate({ verifier: createTokenVerifier(options), logger: { warn: () => {} } }));
 * app.get("/me", (c) => c.json({ user: c.var.auth.userId, org: c.var.auth.orgId }));
 *
 * const { accessToken } = await issuer.generateTokenPair({ userId: "u1", orgId: "acme", role: "org_user" });
 * const ok = await app.request("/me", { headers: { authorization: `Bearer ${accessToken}` } });
 * assert.deepEqual(await ok.json(), { user: "u1", org: "acme" });
 *
 * // A system administrator belongs to no organisation: c.var.auth.orgId is null.
 * const root = await issuer.generateTokenPair({ userId: "root", orgId: null, role: "system_admin" });
 * const asRoot = await app.request("/me", { headers: { authorization: `Bearer ${root.accessToken}` } });
 * assert.deepEqual(await asRoot.json(), { user: "root", org: null });
 *
 * const denied = await app.request("/me", { headers: { authorization: "Bearer nonsense" } });
 * assert.equal(denied.status, 401);
 * assert.equal(denied.headers.get("content-type"), "application/problem+json");
 * assert.match(denied.headers.get("www-authenticate") ?? "", /^Bearer error="invalid_token"/);
 * ```
 */
export function authenticate(
  options: AuthenticateOptions & { readonly optional: true },
): MiddlewareHandler<{ Variables: OptionalAuthVariables }>;
/**
 * Hono middleware that authenticates every request and sets `c.var.auth`; see the overload
 * above for what it accepts and refuses.
 *
 * @param options Verifier, API key lookup, and where keys come from.
 * @returns The middleware.
 * @throws {TypeError} When neither a verifier nor a lookup is given, or an option is malformed.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { type AuthVariables, generateApiKey } from "@plinth/auth";
 * import { authenticate } from "@plinth/auth/hono";
 * import assert from "node:assert/strict";
 *
 * const { key, id, hash } = generateApiKey({ prefix: "plk" });
 * const app = new Hono<{ Variables: AuthVariables }>();
 * app.use(authenticate({
 *   lookupApiKey: (keyId) => keyId === id ? { hash, orgId: "acme", role: "org_user" } : null,
 *   logger: { warn: () => {} },
 * }));
 * app.get("/whoami", (c) => c.text(`${c.var.auth.kind} ${c.var.auth.orgId}`));
 *
 * const res = await app.request("/whoami", { headers: { "x-api-key": key } });
 * assert.equal(await res.text(), "api_key acme");
 * assert.equal((await app.request("/whoami")).status, 401);
 * ```
 */
export function authenticate(
  options: AuthenticateOptions,
): MiddlewareHandler<{ Variables: AuthVariables }>;
export function authenticate(
  options: AuthenticateOptions,
):
  | MiddlewareHandler<{ Variables: AuthVariables }>
  | MiddlewareHandler<{ Variables: OptionalAuthVariables }> {
  checkOptions(options);
  const verifier = options.verifier;
  const lookupApiKey = options.lookupApiKey;
  const prefixes = new Set(options.apiKeyPrefixes ?? ["plk"]);
  const apiKeyHeader = lookupApiKey === undefined || options.apiKeyHeader === false
    ? undefined
    : (options.apiKeyHeader ?? "x-api-key").toLowerCase();
  const optional = options.optional === true;
  const realm = options.realm;
  const logger = options.logger ?? defaultLogger;
  const now = options.now ?? Date.now;

  /** A refusal: the 401 to throw, and its one warning (reason, never the credential). */
  function fail(c: AuthContextOf, message: string, refusal: Refusal): AuthError {
    const { code, credential, cause, ...extra } = refusal;
    const error = new AuthError(message, { code, realm, cause });
    safeWarn(logger, "Authentication failed", {
      reason: code,
      credential,
      method: c.req.method,
      path: c.req.path,
      ...extra,
    });
    return error;
  }

  function malformedBearer(c: AuthContextOf): AuthError {
    return fail(c, "Cannot authenticate with bearer token: the Authorization header is malformed", {
      code: "token_malformed",
      credential: "bearer",
    });
  }

  function storeFailed(c: AuthContextOf, keyId: string, fault: string, cause?: unknown): AuthError {
    const code = "api_key_store_failed";
    safeError(logger, "API key store failed", {
      reason: code,
      fault,
      key_id: keyId,
      method: c.req.method,
      path: c.req.path,
    });
    return new AuthError(`Cannot authenticate with API key ${keyId}: ${fault}`, { code, cause });
  }

  function isApiKeyLike(value: string): boolean {
    if (lookupApiKey === undefined || value.includes(".")) return false;
    const cut = value.indexOf("_");
    return cut > 0 && prefixes.has(value.slice(0, cut));
  }

  async function viaApiKey(c: AuthContextOf, key: string): Promise<AuthContext> {
    const parsed = parseApiKey(key);
    if (parsed === null || !prefixes.has(parsed.prefix)) {
      throw fail(c, "Cannot authenticate with API key: it is malformed", {
        code: "api_key_malformed",
        credential: "api_key",
      });
    }
    const keyId = parsed.id;
    let record: ApiKeyRecord | null | undefined;
    try {
      record = await (lookupApiKey as NonNullable<typeof lookupApiKey>)(keyId);
    } catch (cause) {
      throw storeFailed(c, keyId, "the lookup threw", cause);
    }
    if (record === null || record === undefined) {
      // The same SHA-256 as a wrong secret costs, so an unknown id is not answered sooner.
      verifyApiKey(key, NO_SUCH_KEY_HASH);
      throw fail(c, `Cannot authenticate with API key ${keyId}: unknown id or wrong secret`, {
        code: "api_key_invalid",
        credential: "api_key",
        key_id: keyId,
      });
    }
    if (typeof record !== "object") throw storeFailed(c, keyId, "the record is not an object");
    let fields: Record<keyof ApiKeyRecord, unknown>;
    try {
      fields = readRecord(record);
    } catch (cause) {
      throw storeFailed(c, keyId, "the record cannot be read", cause);
    }
    const badHash = hashFault(fields.hash);
    if (badHash !== undefined) throw storeFailed(c, keyId, badHash);
    if (!verifyApiKey(key, fields.hash as string)) {
      throw fail(c, `Cannot authenticate with API key ${keyId}: unknown id or wrong secret`, {
        code: "api_key_invalid",
        credential: "api_key",
        key_id: keyId,
      });
    }
    // Checked once the secret matched: only the key's holder learns that its record is broken.
    const badRecord = recordFault(fields);
    if (badRecord !== undefined) throw storeFailed(c, keyId, badRecord);
    const t = now();
    const revokedAt = fields.revokedAt as ApiKeyRecord["revokedAt"];
    const expiresAt = fields.expiresAt as ApiKeyRecord["expiresAt"];
    // NaN counts as already passed: fail closed.
    if (revokedAt !== null && revokedAt !== undefined && !(revokedAt > t)) {
      throw fail(c, `Cannot authenticate with API key ${keyId}: it has been revoked`, {
        code: "api_key_revoked",
        credential: "api_key",
        key_id: keyId,
      });
    }
    if (expiresAt !== null && expiresAt !== undefined && !(expiresAt > t)) {
      throw fail(c, `Cannot authenticate with API key ${keyId}: it has expired`, {
        code: "api_key_expired",
        credential: "api_key",
        key_id: keyId,
      });
    }
    const scopes = fields.scopes as ApiKeyRecord["scopes"];
    return {
      kind: "api_key",
      keyId,
      orgId: fields.orgId as string,
      role: fields.role as string,
      scopes: scopes === undefined || scopes === null ? EMPTY : Object.freeze([...scopes]),
    };
  }

  // The AuthContext of each verified claims object, built once: a cached token's claims are the
  // same frozen object on every hit, so its (frozen) context is shared by all its requests.
  const contexts = new WeakMap<TokenClaims, UserAuth>();
  function userAuth(claims: TokenClaims): UserAuth {
    let auth = contexts.get(claims);
    if (auth === undefined) {
      auth = Object.freeze({
        kind: "user",
        userId: claims.sub,
        orgId: claims.org_id,
        role: claims.role,
        scopes: scopesOf(claims.scope),
        tokenId: claims.jti,
        expiresAt: claims.exp * 1000,
        claims,
      });
      contexts.set(claims, auth);
    }
    return auth;
  }

  function refused(c: AuthContextOf, error: unknown): unknown {
    if (!(error instanceof AuthError)) return error;
    if (error.code === "key_set_unavailable") {
      safeWarn(logger, "Authentication unavailable", {
        reason: error.code,
        method: c.req.method,
        path: c.req.path,
      });
      return error;
    }
    return fail(c, error.message, {
      code: error.code,
      credential: "jwt",
      detail: error.message,
      cause: error,
    });
  }

  // createTokenVerifier()'s synchronous cache probe; absent on other TokenVerifiers.
  const probe = verifier === undefined
    ? undefined
    : (verifier as { readonly [CACHE_PROBE]?: CacheProbe })[CACHE_PROBE];

  function viaToken(c: AuthContextOf, token: string): Promise<AuthContext> {
    if (verifier === undefined) {
      return Promise.reject(
        fail(c, "Cannot authenticate with bearer token: no verifier accepts JWTs here", {
          code: "token_malformed",
          credential: "bearer",
        }),
      );
    }
    return verifier.verifyAccessToken(token).then(userAuth, (error: unknown) => {
      throw refused(c, error);
    });
  }

  function authenticated(
    c: AuthContextOf,
    next: Next,
    pending: Promise<AuthContext>,
  ): Promise<void> {
    return pending.then((auth) => {
      c.set("auth", auth);
      return next();
    });
  }

  // Not async: a cached token (the usual case) is answered with no promise of its own, the
  // middleware returns `next()`. Failures are returned as rejections, never thrown.
  const middleware: MiddlewareHandler<AuthEnv> = function authenticateMiddleware(
    c,
    next,
  ): Promise<void> {
    const headers = c.req.raw.headers;
    const authorization = headers.get("authorization");
    const apiKey = apiKeyHeader === undefined ? null : headers.get(apiKeyHeader);
    if (authorization === null && apiKey === null) {
      if (optional) return next();
      return Promise.reject(
        fail(c, "Cannot authenticate request: no credentials were sent", {
          code: "credentials_missing",
          credential: "none",
        }),
      );
    }
    if (authorization !== null && apiKey !== null) {
      return Promise.reject(
        fail(c, "Cannot authenticate request: both a bearer token and an API key were sent", {
          code: "credentials_conflict",
          credential: "both",
        }),
      );
    }
    if (apiKey !== null) return authenticated(c, next, viaApiKey(c, apiKey.trim()));
    const value = authorization as string;
    if (value.length > MAX_HEADER) return Promise.reject(malformedBearer(c));
    const space = value.indexOf(" ");
    const credential = space < 0 ? "" : value.slice(space + 1).trim();
    if (
      space < 0 || value.slice(0, space).toLowerCase() !== "bearer" || credential === "" ||
      credential.includes(" ")
    ) {
      return Promise.reject(malformedBearer(c));
    }
    if (isApiKeyLike(credential)) return authenticated(c, next, viaApiKey(c, credential));
    if (probe !== undefined) {
      let hit: TokenClaims | Promise<TokenClaims> | undefined;
      try {
        hit = probe(credential);
      } catch (error) {
        return Promise.reject(refused(c, error));
      }
      if (hit !== undefined && !(hit instanceof Promise)) {
        c.set("auth", userAuth(hit));
        return next();
      }
      if (hit !== undefined) {
        return authenticated(
          c,
          next,
          hit.then(userAuth, (error: unknown) => {
            throw refused(c, error);
          }),
        );
      }
    }
    return authenticated(c, next, viaToken(c, credential));
  };
  return middleware;
}
