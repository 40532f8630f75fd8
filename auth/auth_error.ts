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
 * assert.equal(new AuthError(code).status, 401);
 * assert.equal(new AuthError("key_set_unavailable").status, 503);
 * assert.equal(new AuthError("api_key_store_failed").status, 503);
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

/**
 * Options of {@linkcode AuthError}.
 *
 * @example
 * ```ts
 * import { AuthError, type AuthErrorOptions } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const options: AuthErrorOptions = { realm: "billing", cause: new Error("jose said no") };
 * const error = new AuthError("token_invalid", undefined, options);
 * assert.match(error.headers["www-authenticate"] ?? "", /^Bearer realm="billing"/);
 *
 * const refresh = new AuthError("token_wrong_kind", undefined, { tokenKind: "refresh" });
 * assert.equal(refresh.detail, "The token is not a refresh token");
 * ```
 */
export interface AuthErrorOptions {
  /** The error behind this one (a jose error, say). @default {undefined} */
  readonly cause?: unknown;
  /** `realm` of the `WWW-Authenticate` challenge. @default {undefined (no realm)} */
  readonly realm?: string | undefined;
  /** The kind of token the failure concerns, which the client-facing `detail` names. @default {"access"} */
  readonly tokenKind?: "access" | "refresh" | undefined;
}

type Text = readonly [message: string, detail: string, refreshDetail?: string];

const TEXT: Readonly<Record<AuthErrorCode, Text>> = {
  credentials_missing: ["No credentials were sent", "Authentication is required"],
  credentials_conflict: [
    "More than one credential was sent",
    "Send either a bearer token or an API key, not both",
  ],
  token_malformed: [
    "The token is malformed",
    "The access token is malformed",
    "The refresh token is malformed",
  ],
  token_invalid: [
    "The token signature or key is not valid",
    "The access token is not valid",
    "The refresh token is not valid",
  ],
  token_expired: [
    "The token has expired",
    "The access token has expired",
    "The refresh token has expired",
  ],
  token_not_yet_valid: [
    "The token is not valid yet",
    "The access token is not valid yet",
    "The refresh token is not valid yet",
  ],
  token_wrong_kind: [
    "The token is of the wrong kind (access and refresh tokens are not interchangeable)",
    "The token is not an access token",
    "The token is not a refresh token",
  ],
  token_claims_invalid: [
    "The token's claims are missing or wrong",
    "The access token is not valid",
    "The refresh token is not valid",
  ],
  token_revoked: ["The token has been revoked", "The token has been revoked"],
  refresh_token_reused: [
    "A used refresh token was presented again; its family is revoked",
    "The refresh token has already been used",
  ],
  api_key_malformed: ["The API key is malformed", "The API key is malformed"],
  api_key_invalid: ["The API key is unknown or does not match", "The API key is not valid"],
  api_key_revoked: ["The API key has been revoked", "The API key has been revoked"],
  api_key_expired: ["The API key has expired", "The API key has expired"],
  key_set_unavailable: [
    "The key set could not be fetched",
    "Credentials cannot be checked right now; try again later",
  ],
  api_key_store_failed: [
    "The API key lookup failed or returned a malformed record",
    "Credentials cannot be checked right now; try again later",
  ],
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
 * (`tokenKind`), and an RFC 6750 `WWW-Authenticate: Bearer` challenge. Thrown by the verifier, the issuer and the
 * `authenticate()` middleware; `@plinth/errors` renders it as problem+json.
 *
 * @example
 * ```ts
 * import { AuthError } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const error = new AuthError("token_expired");
 * assert.equal(error.code, "token_expired");
 * assert.equal(error.status, 401);
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
   * @param code Why authentication failed.
   * @param message Text for logs. @default {a sentence for the code}
   * @param options `cause`, the challenge's `realm`, and the `tokenKind` the detail names.
   * @throws {TypeError} When `code` is not an {@linkcode AuthErrorCode}, `realm` cannot be quoted or `tokenKind` is unknown.
   */
  constructor(code: AuthErrorCode, message?: string, options: AuthErrorOptions = {}) {
    const text = Object.hasOwn(TEXT, code) ? TEXT[code] : undefined;
    if (text === undefined) throw new TypeError("Cannot create AuthError: unknown code");
    const tokenKind = options.tokenKind;
    if (tokenKind !== undefined && tokenKind !== "access" && tokenKind !== "refresh") {
      throw new TypeError('Cannot create AuthError: tokenKind must be "access" or "refresh"');
    }
    const status = code === "key_set_unavailable" || code === "api_key_store_failed" ? 503 : 401;
    const detail = tokenKind === "refresh" ? text[2] ?? text[1] : text[1];
    super(message ?? text[0], {
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
 * assert.equal(isAuthError(new AuthError("token_revoked")), true);
 * assert.equal(isAuthError(new Error("boom")), false);
 * ```
 */
export function isAuthError(value: unknown): value is AuthError {
  return value instanceof AuthError;
}
