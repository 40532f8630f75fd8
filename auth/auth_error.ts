import { AppError } from "@plinth/errors";

/**
 * Why authentication failed: the stable `code` of an {@linkcode AuthError}, also the
 * problem's `code` and the `reason` the middleware logs. Every code is a 401 except
 * `key_set_unavailable` (503: the remote key set could not be fetched) and
 * `api_key_store_failed` (503: the API key lookup threw or returned a malformed record).
 *
 * @example
 * ```ts
 * import { AuthError, type AuthErrorCode } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const code: AuthErrorCode = "token_expired";
 * assert.equal(new AuthError("Cannot verify access token: exp", { code }).status, 401);
 * assert.equal(new AuthError("JWKS down", { code: "key_set_unavailable" }).status, 503);
 * assert.equal(new AuthError("Lookup threw", { code: "api_key_store_failed" }).status, 503);
 * ```
 */
export type AuthErrorCode =
  | "credentials_missing"
  | "credentials_conflict"
  | "token_malformed"
  | "token_invalid"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_wrong_kind"
  | "token_claims_invalid"
  | "token_revoked"
  | "refresh_token_reused"
  | "api_key_malformed"
  | "api_key_invalid"
  | "api_key_revoked"
  | "api_key_expired"
  | "key_set_unavailable"
  | "api_key_store_failed";

/** The HTTP status of each code: outages are 503s, every refusal a 401. */
const STATUS: Readonly<Record<AuthErrorCode, 401 | 503>> = {
  credentials_missing: 401,
  credentials_conflict: 401,
  token_malformed: 401,
  token_invalid: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  token_wrong_kind: 401,
  token_claims_invalid: 401,
  token_revoked: 401,
  refresh_token_reused: 401,
  api_key_malformed: 401,
  api_key_invalid: 401,
  api_key_revoked: 401,
  api_key_expired: 401,
  key_set_unavailable: 503,
  api_key_store_failed: 503,
};

/**
 * Every {@linkcode AuthErrorCode}, frozen, in the order of the error codes table of the README.
 *
 * @example
 * ```ts
 * import { AUTH_ERROR_CODES, AuthError } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * assert.ok(AUTH_ERROR_CODES.includes("token_expired"));
 * assert.ok(Object.isFrozen(AUTH_ERROR_CODES));
 * for (const code of AUTH_ERROR_CODES) {
 *   assert.ok([401, 503].includes(new AuthError("Refused", { code }).status));
 * }
 * ```
 */
export const AUTH_ERROR_CODES: readonly AuthErrorCode[] = Object.freeze(
  Object.keys(STATUS) as AuthErrorCode[],
);

/**
 * Options of {@linkcode AuthError}: the `code`, and what else the problem carries.
 *
 * @example
 * ```ts
 * import { AuthError, type AuthErrorOptions } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const options: AuthErrorOptions = {
 *   code: "token_invalid",
 *   realm: "billing",
 *   cause: new Error("jose said no"),
 * };
 * const error = new AuthError("Cannot verify access token: bad signature", options);
 * assert.match(error.headers["www-authenticate"] ?? "", /^Bearer realm="billing"/);
 *
 * const refresh = new AuthError("Wrong kind", { code: "token_wrong_kind", tokenKind: "refresh" });
 * assert.equal(refresh.detail, "The token is not a refresh token");
 * ```
 */
export interface AuthErrorOptions {
  /** Why authentication failed; sets the status (401, or 503 for the two outage codes). */
  readonly code: AuthErrorCode;
  /** The error behind this one (a jose error, say). @default {undefined} */
  readonly cause?: unknown;
  /** `realm` of the `WWW-Authenticate` challenge. @default {undefined (no realm)} */
  readonly realm?: string | undefined;
  /** The kind of token the failure concerns, which the client-facing `detail` names. @default {"access"} */
  readonly tokenKind?: "access" | "refresh" | undefined;
}

type Detail = readonly [detail: string, refreshDetail?: string];

/** Client-safe details, per code (and per token kind where the wording differs). */
const DETAIL: Readonly<Record<AuthErrorCode, Detail>> = {
  credentials_missing: ["Authentication is required"],
  credentials_conflict: ["Send either a bearer token or an API key, not both"],
  token_malformed: ["The access token is malformed", "The refresh token is malformed"],
  token_invalid: ["The access token is not valid", "The refresh token is not valid"],
  token_expired: ["The access token has expired", "The refresh token has expired"],
  token_not_yet_valid: ["The access token is not valid yet", "The refresh token is not valid yet"],
  token_wrong_kind: ["The token is not an access token", "The token is not a refresh token"],
  token_claims_invalid: ["The access token is not valid", "The refresh token is not valid"],
  token_revoked: ["The token has been revoked"],
  refresh_token_reused: ["The refresh token has already been used"],
  api_key_malformed: ["The API key is malformed"],
  api_key_invalid: ["The API key is not valid"],
  api_key_revoked: ["The API key has been revoked"],
  api_key_expired: ["The API key has expired"],
  key_set_unavailable: ["Credentials cannot be checked right now; try again later"],
  api_key_store_failed: ["Credentials cannot be checked right now; try again later"],
};

const QUOTABLE_RE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function challenge(code: AuthErrorCode, detail: string, realm: string | undefined): string {
  const parts: string[] = [];
  if (realm !== undefined) {
    if (!QUOTABLE_RE.test(realm)) {
      throw new TypeError("Cannot create AuthError: realm must be printable ASCII without quotes");
    }
    parts.push(`realm="${realm}"`);
  }
  if (code !== "credentials_missing") {
    // RFC 6750 §3.1: a request without credentials gets a bare challenge.
    parts.push('error="invalid_token"', `error_description="${detail}"`);
  }
  return parts.length === 0 ? "Bearer" : `Bearer ${parts.join(", ")}`;
}

/**
 * An authentication failure: a 401 {@linkcode AppError} (503, without a challenge, for
 * `key_set_unavailable` and `api_key_store_failed`) with a stable `code`, a client-safe
 * `detail` that never contains the credential and names the kind of token concerned
 * (`tokenKind`), and an RFC 6750 `WWW-Authenticate: Bearer` challenge. Thrown by the verifier,
 * the issuer and the `authenticate()` middleware; `@plinth/errors` renders it as problem+json.
 * The `message` is for logs; clients see the `detail`.
 *
 * @example
 * ```ts
 * import { AuthError } from "@plinth/auth";
 * import { isAppError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new AuthError("Cannot verify access token: exp", { code: "token_expired" });
 * assert.equal(error.code, "token_expired");
 * assert.equal(error.status, 401);
 * assert.equal(isAppError(error), true);
 * assert.equal(
 *   error.headers["www-authenticate"],
 *   'Bearer error="invalid_token", error_description="The access token has expired"',
 * );
 * const res = error.getResponse();
 * assert.equal(res.headers.get("content-type"), "application/problem+json");
 * ```
 */
export class AuthError extends AppError {
  /** Why authentication failed. */
  declare readonly code: AuthErrorCode;

  /**
   * Creates an authentication error.
   *
   * @param message Text for logs (never shown to clients, who get the code's `detail`).
   * @param options The `code`, and the `cause`, the challenge's `realm`, the `tokenKind` the detail names.
   * @throws {TypeError} When `message` is not a string, `code` is not an {@linkcode AuthErrorCode}, `realm` cannot be quoted or `tokenKind` is unknown.
   */
  constructor(message: string, options: AuthErrorOptions) {
    if (typeof message !== "string") {
      throw new TypeError("Cannot create AuthError: message must be a string");
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Cannot create AuthError: options must be an object with a code");
    }
    const code = options.code;
    const status = typeof code === "string" && Object.hasOwn(STATUS, code)
      ? STATUS[code]
      : undefined;
    if (status === undefined) {
      throw new TypeError("Cannot create AuthError: code must be one of AUTH_ERROR_CODES");
    }
    const tokenKind = options.tokenKind;
    if (tokenKind !== undefined && tokenKind !== "access" && tokenKind !== "refresh") {
      throw new TypeError('Cannot create AuthError: tokenKind must be "access" or "refresh"');
    }
    const text = DETAIL[code];
    const detail = tokenKind === "refresh" ? text[1] ?? text[0] : text[0];
    super(message, {
      status,
      code,
      detail,
      cause: options.cause,
      ...(status === 401 ? { wwwAuthenticate: challenge(code, detail, options.realm) } : {}),
    });
    this.name = "AuthError";
  }
}

/**
 * Whether a value is an {@linkcode AuthError}.
 *
 * @param value Anything, typically a caught error.
 * @returns `true` for an `AuthError`.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { AuthError, isAuthError } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isAuthError(new AuthError("Revoked", { code: "token_revoked" })), true);
 * assert.equal(isAuthError(new Error("boom")), false);
 * ```
 */
export function isAuthError(value: unknown): value is AuthError {
  return value instanceof AuthError;
}
