/**
 * What `@plinth/auth` needs from a logger: `warn` for every rejected request (with the reason
 * and the principal, never a token or key), and optionally `error` (storage faults; `warn` gets
 * them without it). Any object with `debug`, `info`, `warn` and `error(message, fields)` fits —
 * `@plinth/logging`'s loggers, `console`, or an adapter over pino — and so does one with `warn`
 * alone.
 *
 * @example
 * ```ts
 * import type { AuthLogger } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger: AuthLogger = {
 *   warn: (message, fields) => lines.push(`${message} ${JSON.stringify(fields)}`),
 * };
 * logger.warn("Authentication failed", { reason: "token_expired" });
 * assert.equal(lines[0], 'Authentication failed {"reason":"token_expired"}');
 *
 * const withErrors: AuthLogger = { ...logger, error: (message) => lines.push(`error ${message}`) };
 * withErrors.error?.("API key store failed", { fault: "hash is missing or not 64 hex digits" });
 * assert.equal(lines[1], "error API key store failed");
 * ```
 */
export interface AuthLogger {
  /** Writes a warning: a request was refused (401 or 403). */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Writes an error: a fault on the server's side, such as a malformed stored API key record. */
  error?(message: string, fields?: Record<string, unknown>): void;
  /** Writes an informational line (not used by `@plinth/auth` today). */
  info?(message: string, fields?: Record<string, unknown>): void;
  /** Writes a debug line, when the logger has the level. */
  debug?(message: string, fields?: Record<string, unknown>): void;
}
