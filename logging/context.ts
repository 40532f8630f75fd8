import { ContextRecord, currentContext, runInContext } from "./_context_store.ts";

/**
 * Fields of a request context. `request_id`, `trace_id` and `span_id` have fixed places on
 * every line; any other field is written after them, before the logger's own fields.
 *
 * @example
 * ```ts
 * import { getContext, type LogContext, runWithContext } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const fields: LogContext = { request_id: "req-1", tenant_id: "acme" };
 * runWithContext(fields, () => assert.equal(getContext()?.tenant_id, "acme"));
 * ```
 */
export interface LogContext {
  /** The request's id (set by the `requestId()` middleware). */
  readonly request_id?: string | undefined;
  /** The W3C trace id. */
  readonly trace_id?: string | undefined;
  /** The W3C span id. */
  readonly span_id?: string | undefined;
  /** Any other field to put on every line. */
  readonly [key: string]: unknown;
}

/**
 * Runs `fn` inside a request context: every line any logger writes while `fn` runs — across
 * `await`s, timers and promise callbacks started from it — carries `fields`. Contexts nest: an
 * inner context keeps the outer fields and overrides those it names again.
 *
 * @param fields The fields to add (plain object; `undefined` values are ignored).
 * @param fn The code to run.
 * @returns What `fn` returns (its promise, for an async function).
 * @throws {TypeError} When `fields` is not a readable plain object or `fn` is not a function;
 *   whatever `fn` throws.
 *
 * @example
 * ```ts
 * import { createLogger, runWithContext } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
 * await runWithContext({ request_id: "req-7" }, async () => {
 *   await Promise.resolve();
 *   logger.info("inside");
 * });
 * assert.equal(JSON.parse(lines[0]!).request_id, "req-7");
 * ```
 */
export function runWithContext<T>(fields: LogContext, fn: () => T): T {
  if (typeof fields !== "object" || fields === null || isArray(fields)) {
    throw new TypeError("Cannot run with context: fields must be a plain object");
  }
  if (typeof fn !== "function") {
    throw new TypeError("Cannot run with context: fn must be a function");
  }
  const merged: Record<string, unknown> = { ...currentContext()?.fields };
  try {
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      if (value !== undefined) merged[key] = value;
    }
  } catch (cause) {
    // A revoked proxy or a throwing trap or getter: say so rather than the engine's words.
    throw new TypeError("Cannot run with context: fields cannot be read", { cause });
  }
  return runInContext(new ContextRecord(merged), fn);
}

/** `Array.isArray`, where a revoked proxy counts as an array: it is no plain object either. */
function isArray(value: object): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return true;
  }
}

/**
 * The fields of the current request context.
 *
 * @returns A frozen object with every field in effect, or `undefined` outside any context.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { getContext, withRequestId } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * assert.equal(getContext(), undefined);
 * withRequestId("req-9", () => assert.deepEqual(getContext(), { request_id: "req-9" }));
 * ```
 */
export function getContext(): LogContext | undefined {
  return currentContext()?.fields;
}

/**
 * Runs `fn` with `request_id` set in the request context (a shorthand of
 * {@linkcode runWithContext}).
 *
 * @param id The request id.
 * @param fn The code to run.
 * @returns What `fn` returns.
 * @throws {TypeError} When `id` is not a non-empty string or `fn` is not a function.
 *
 * @example
 * ```ts
 * import { createLogger, withRequestId } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
 * withRequestId("req-3", () => logger.warn("slow"));
 * assert.equal(JSON.parse(lines[0]!).request_id, "req-3");
 * ```
 */
export function withRequestId<T>(id: string, fn: () => T): T {
  if (typeof id !== "string" || id === "") {
    throw new TypeError("Cannot run with request id: id must be a non-empty string");
  }
  return runWithContext({ request_id: id }, fn);
}
