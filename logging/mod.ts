/**
 * Structured JSON logging for plinth services: one JSON object per line, in the same shape
 * everywhere (`timestamp`, `level`, `service_name`, `message`, the request's `request_id`,
 * `trace_id` and `span_id`, then the fields), fast enough to leave on, and safe with any value.
 *
 * {@linkcode createLogger} makes a logger; {@linkcode log} is the default one, usable before any
 * set-up. {@linkcode runWithContext} (or the `requestId` Hono middleware) puts fields such as
 * `request_id` on every line logged inside it, across `await`s. Secrets are redacted by key, and
 * errors are written with their whole cause chain. The Hono middleware, `requestId` and
 * `requestLogger` (one access line per request), come from `@plinth/logging/hono`.
 *
 * @example
 * ```ts
 * import { createLogger, withRequestId } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({
 *   service: "user-svc",
 *   destination: { write: (line) => lines.push(line) },
 * });
 * await withRequestId("req-1", async () => {
 *   await Promise.resolve();
 *   logger.error("Cannot create org", new Error("db down"), { org: "acme", password: "x" });
 * });
 *
 * const line = JSON.parse(lines[0]!);
 * assert.equal(line.level, "error");
 * assert.equal(line.request_id, "req-1");
 * assert.equal(line.err.message, "db down");
 * assert.equal(line.password, "[REDACTED]");
 * ```
 *
 * @module
 */
export * from "./logger.ts";
export * from "./logger_like.ts";
export * from "./logging_error.ts";
export * from "./level.ts";
export * from "./context.ts";
export * from "./destination.ts";
export * from "./default_logger.ts";
export * from "./redact.ts";
