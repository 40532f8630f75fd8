import type { TokenClaims } from "./token_verifier.ts";

/**
 * A request authenticated with a user's access token. `orgId` is `null` for a system
 * administrator, who belongs to no organisation (`role: "system_admin"`); for every other role
 * it is the organisation the token acts in.
 *
 * @example
 * ```ts
 * import type { UserAuth } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const auth: UserAuth = {
 *   kind: "user", userId: "u1", orgId: "acme", role: "org_user", scopes: [],
 *   tokenId: "j1", expiresAt: 1_800_000_900_000, claims: {
 *     sub: "u1", org_id: "acme", role: "org_user", jti: "j1",
 *     iat: 1_800_000_000, exp: 1_800_000_900, iss: "auth", aud: "api",
 *   },
 * };
 * assert.equal(auth.kind, "user");
 *
 * // Narrow before using orgId as an organisation: a system administrator has none.
 * const scope = (a: UserAuth): string => a.orgId === null ? "every organisation" : a.orgId;
 * assert.equal(scope({ ...auth, orgId: null, role: "system_admin" }), "every organisation");
 * ```
 */
export interface UserAuth {
  /** Always `"user"`. */
  readonly kind: "user";
  /** The user id (`sub`). */
  readonly userId: string;
  /** Never set for users. */
  readonly keyId?: undefined;
  /** The organisation the token acts in (`org_id`); `null` for a system administrator. */
  readonly orgId: string | null;
  /** The role there. */
  readonly role: string;
  /** The token's scopes (from `scope`); empty when it has none. */
  readonly scopes: readonly string[];
  /** The token's `jti`. */
  readonly tokenId: string;
  /** When the token expires: its `exp`, as epoch milliseconds. */
  readonly expiresAt: number;
  /** Every verified claim. */
  readonly claims: TokenClaims;
}

/**
 * A request authenticated with an organisation's API key. Keys always belong to an
 * organisation, so `orgId` is never `null` here.
 *
 * @example
 * ```ts
 * import type { ApiKeyAuth } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const auth: ApiKeyAuth = { kind: "api_key", keyId: "AbC123dEf456", orgId: "acme", role: "org_user", scopes: ["usage:read"] };
 * assert.equal(auth.userId, undefined);
 * ```
 */
export interface ApiKeyAuth {
  /** Always `"api_key"`. */
  readonly kind: "api_key";
  /** Never set for API keys. */
  readonly userId?: undefined;
  /** The key's public id. */
  readonly keyId: string;
  /** The organisation that owns the key. */
  readonly orgId: string;
  /** The key's role. */
  readonly role: string;
  /** The key's scopes; empty when it has none. */
  readonly scopes: readonly string[];
}

/**
 * Who a request is from, as `authenticate()` (from `@plinth/auth/hono`) sets it on `c.var.auth`.
 * Its `orgId` is `string | null`: `null` only for a system administrator's access token.
 *
 * @example
 * ```ts
 * import type { AuthContext } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * function who(auth: AuthContext): string {
 *   return auth.kind === "user" ? `user ${auth.userId}` : `key ${auth.keyId}`;
 * }
 * assert.equal(who({ kind: "api_key", keyId: "k1", orgId: "o", role: "org_user", scopes: [] }), "key k1");
 * ```
 */
export type AuthContext = UserAuth | ApiKeyAuth;

/**
 * The context variables `authenticate()` (from `@plinth/auth/hono`) sets: `c.var.auth`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { AuthVariables } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<{ Variables: AuthVariables }>();
 * app.get("/me", (c) => c.json({ org: c.var.auth.orgId }));
 * assert.ok(app);
 * ```
 */
export interface AuthVariables {
  /** Who the request is from. */
  auth: AuthContext;
}

/**
 * The context variables of `authenticate({ optional: true })`: `c.var.auth` is absent for
 * anonymous requests.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { OptionalAuthVariables } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<{ Variables: OptionalAuthVariables }>();
 * app.get("/", (c) => c.text(c.var.auth === undefined ? "hello, stranger" : "hello"));
 * assert.equal(await (await app.request("/")).text(), "hello, stranger");
 * ```
 */
export interface OptionalAuthVariables {
  /** Who the request is from, when it sent credentials. */
  auth?: AuthContext | undefined;
}

/**
 * What `lookupApiKey` returns for a key id: the stored hash and what the key may do. A record
 * that breaks this shape — a `hash` that is not 64 hex digits, an `orgId` or `role` that is
 * not a non-empty string, `scopes` that are not a list of strings, a `revokedAt` or `expiresAt`
 * that is not a number (epoch milliseconds: convert a `Date` with `getTime()`), fields that cannot be read — is a storage fault:
 * `authenticate()` answers 503 `api_key_store_failed` and logs it, never authenticating with it.
 *
 * @example
 * ```ts
 * import { type ApiKeyRecord, generateApiKey } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const { hash } = generateApiKey();
 * const record: ApiKeyRecord = { hash, orgId: "acme", role: "org_user", scopes: ["usage:read"], revokedAt: null };
 * assert.equal(record.orgId, "acme");
 * ```
 *
 * @example A malformed record is a storage fault, not a bad credential
 * ```ts
 * import { Hono } from "hono";
 * import { generateApiKey } from "@plinth/auth";
 * import { authenticate } from "@plinth/auth/hono";
 * import assert from "node:assert/strict";
 *
 * const { key, hash } = generateApiKey();
 * const faults: unknown[] = [];
 * const app = new Hono();
 * app.use(authenticate({
 *   lookupApiKey: () => ({ hash, role: "org_user" }) as never, // orgId lost by the store
 *   logger: { warn: () => {}, error: (_message, fields) => faults.push(fields?.["fault"]) },
 * }));
 * app.get("/", (c) => c.text("ok"));
 *
 * const res = await app.request("/", { headers: { "x-api-key": key } });
 * assert.equal(res.status, 503);
 * assert.equal((await res.json()).code, "api_key_store_failed");
 * assert.deepEqual(faults, ["orgId is missing or not a non-empty string"]);
 * ```
 */
export interface ApiKeyRecord {
  /** The stored SHA-256 hash of the key ({@linkcode hashApiKey}). */
  readonly hash: string;
  /** The organisation that owns the key. */
  readonly orgId: string;
  /** The key's role. */
  readonly role: string;
  /** Scopes that narrow what the key may do; `null` or absent: none. @default {[]} */
  readonly scopes?: readonly string[] | null | undefined;
  /** When the key was revoked, epoch milliseconds; revoked from then on. @default {null} */
  readonly revokedAt?: number | null | undefined;
  /** When the key expires, epoch milliseconds. @default {null (never)} */
  readonly expiresAt?: number | null | undefined;
}
