/**
 * The keys whose values every logger replaces with `"[REDACTED]"`, at any depth and in any case
 * (`Authorization`, `headers.cookie`, `{ user: { password } }`). Loggers add their `redact`
 * option's keys to these.
 *
 * @example
 * ```ts
 * import { DEFAULT_REDACT_KEYS } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * assert.ok(DEFAULT_REDACT_KEYS.includes("authorization"));
 * assert.ok(DEFAULT_REDACT_KEYS.includes("set-cookie"));
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
