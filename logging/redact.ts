/**
 * The keys whose values every logger replaces with `"[REDACTED]"`, at any depth (`Authorization`,
 * `headers.cookie`, `{ user: { password } }`). Keys are matched by normalised name — lower case,
 * without `-`, `_` or other punctuation — and by suffix, so `accessToken`, `X-Api-Key`,
 * `db_password`, `dbPassword` and `secretAccessKey` are all secret. Booleans and `null` are
 * written as they are: they hold no secret. Loggers add their `redact` option's keys to these.
 *
 * @example
 * ```ts
 * import { createLogger, DEFAULT_REDACT_KEYS } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * assert.ok(DEFAULT_REDACT_KEYS.includes("authorization"));
 * const lines: string[] = [];
 * const logger = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
 * logger.info("login", { dbPassword: "hunter2", "x-api-key": "k", secret: true });
 * const line = JSON.parse(lines[0]!);
 * assert.equal(line.dbPassword, "[REDACTED]");
 * assert.equal(line["x-api-key"], "[REDACTED]");
 * assert.equal(line.secret, true);
 * ```
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = Object.freeze([
  "authorization",
  "cookie",
  "set-cookie",
  "password",
  "passwd",
  "secret",
  "token",
  "api_key",
  "apikey",
  "access_token",
  "refresh_token",
  "client_secret",
  "private_key",
  "secret_key",
  "secret_access_key",
]);

/**
 * The text that replaces a redacted value.
 *
 * @example
 * ```ts
 * import { createLogger, REDACTED } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
 * logger.info("login", { password: "hunter2" });
 * assert.equal(JSON.parse(lines[0]!).password, REDACTED);
 * ```
 */
export const REDACTED = "[REDACTED]";

/**
 * Query parameters whose values are redacted besides {@linkcode DEFAULT_REDACT_KEYS}, in the
 * access line's `query` and in URLs inside logged strings: signed-URL signatures (`sig`,
 * `X-Amz-Signature`), bare keys, JWTs and session ids. Matched like every redact key, by
 * normalised name and suffix (`api-key`, `x_api_key`), also with trailing brackets
 * (`password[]`, `password[0]`).
 *
 * @example
 * ```ts
 * import { QUERY_REDACT_KEYS } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * assert.ok(QUERY_REDACT_KEYS.includes("signature"));
 * ```
 */
export const QUERY_REDACT_KEYS: readonly string[] = Object.freeze([
  "key",
  "sig",
  "signature",
  "jwt",
  "session",
  "session_id",
  "sid",
]);
