import {
  addContextSource,
  ContextRecord,
  currentContext,
  runInContext,
  storedContext,
} from "./_context_store.ts";

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
  // The stored context only: a source's fields describe the running code, not this record.
  const merged: Record<string, unknown> = { ...storedContext()?.fields };
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
 * The fields of the current request context (with those of any
 * {@linkcode registerContextSource context source}).
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

/**
 * A function logging asks, on every log line and {@linkcode getContext} call, for fields of the
 * running code's context that another library keeps in its own async context (the active
 * OpenTelemetry span's ids, say). It returns them as an object, or `undefined` when it has none.
 * Return the same object for the same state: logging caches its work by the object's identity.
 * It must be cheap; it should not throw (a source that throws is skipped for that line).
 *
 * @example
 * ```ts
 * import { type ContextSource, getContext, registerContextSource } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const fields = Object.freeze({ tenant_id: "acme" }); // one object per state
 * const source: ContextSource = () => fields;
 * const unregister = registerContextSource(source);
 * assert.equal(getContext()?.tenant_id, "acme");
 * unregister();
 * assert.equal(getContext(), undefined);
 * ```
 */
export type ContextSource = () => LogContext | undefined;

/**
 * Adds a {@linkcode ContextSource}: while it is registered, every log line and
 * {@linkcode getContext} has its fields over those of the request context (they win over a
 * field of the same name; `undefined` values are ignored). This lets a library whose context
 * lives elsewhere — `@plinth/tracing` reading the active OpenTelemetry span — put its ids on
 * every line without a second `runWithContext()` per request, and without logging depending on
 * it. {@linkcode runWithContext} does not copy a source's fields into the context it enters.
 * Sources are asked in the order they were registered; a later one wins.
 *
 * @param source The function to ask.
 * @returns A function that removes the source (calling it again does nothing).
 * @throws {TypeError} When `source` is not a function.
 *
 * @example
 * ```ts
 * import { createLogger, registerContextSource, withRequestId } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
 * let active: { span_id: string } | undefined; // another library's own context
 * const unregister = registerContextSource(() => active);
 * try {
 *   withRequestId("req-1", () => {
 *     active = { span_id: "00f067aa0ba902b7" };
 *     logger.info("in span");
 *     active = undefined;
 *     logger.info("after");
 *   });
 * } finally {
 *   unregister();
 * }
 * const [inside, after] = lines.map((l) => JSON.parse(l));
 * assert.equal(inside.request_id, "req-1");
 * assert.equal(inside.span_id, "00f067aa0ba902b7");
 * assert.equal(after.span_id, undefined);
 * ```
 */
export function registerContextSource(source: ContextSource): () => void {
  if (typeof source !== "function") {
    throw new TypeError("Cannot register context source: source must be a function");
  }
  return addContextSource(source);
}
