import { AppError, type AppErrorOptions, isAppError } from "./app_error.ts";
import { isAggregate, read } from "./_inspect.ts";

/**
 * Options of {@linkcode errorChain}.
 *
 * @example
 * ```ts
 * import { errorChain, type ErrorChainOptions } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const options: ErrorChainOptions = { limit: 2 };
 * const chain = errorChain(new Error("a", { cause: new Error("b", { cause: new Error("c") }) }), options);
 * assert.equal(chain.length, 2);
 * ```
 */
export interface ErrorChainOptions {
  /** Most entries returned; a longer (or endless) chain is cut there. @default {100} */
  readonly limit?: number | undefined;
}

/**
 * Lists an error and everything behind it: depth first, each error followed by its
 * `AggregateError.errors` and then its `cause`. Each object appears once, so circular causes
 * terminate; non-Error values (a thrown string) appear as they are.
 *
 * @param error Anything that was thrown.
 * @param options `limit` on the number of entries.
 * @returns The chain, starting with `error` itself.
 *
 * @example
 * ```ts
 * import { errorChain } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const io = new Error("ECONNRESET");
 * const top = new Error("Cannot load user", { cause: io });
 * assert.deepEqual(errorChain(top), [top, io]);
 * ```
 */
export function errorChain(error: unknown, options: ErrorChainOptions = {}): unknown[] {
  const limit = options.limit ?? 100;
  const chain: unknown[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (chain.length >= limit) return;
    const isObject = (typeof value === "object" && value !== null) || typeof value === "function";
    if (isObject) {
      if (seen.has(value)) return;
      seen.add(value);
    }
    chain.push(value);
    if (!isObject) return;
    if (isAggregate(value)) {
      const errors = read(value, "errors");
      if (Array.isArray(errors)) { for (const inner of errors) visit(inner); }
    }
    const cause = read(value, "cause");
    if (cause !== undefined) visit(cause);
  };
  visit(error);
  return chain;
}

/**
 * Follows `cause` to the end: the error that started it all. Stops at a cycle.
 *
 * @param error Anything that was thrown.
 * @returns The last error of the `cause` chain (`error` itself when it has no cause).
 *
 * @example
 * ```ts
 * import { rootCause, wrap } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const io = new Error("ECONNREFUSED");
 * const wrapped = wrap(wrap(io, "Cannot connect"), "Cannot start");
 * assert.equal(rootCause(wrapped), io);
 * ```
 */
export function rootCause(error: unknown): unknown {
  const seen = new Set<unknown>([error]);
  let current = error;
  for (;;) {
    const cause = read(current, "cause");
    if (cause === undefined || seen.has(cause)) return current;
    seen.add(cause);
    current = cause;
  }
}

/**
 * Adds context to an error and keeps the chain (`cause`). Wrapping an {@linkcode AppError}
 * keeps its status, code, detail, extensions and headers, so a 404 stays a 404; anything
 * else becomes a 500 whose message stays out of the response.
 *
 * @param error The caught error (any value).
 * @param message What was being done, for the logs.
 * @param options Overrides for the status, code, detail and the rest.
 * @returns A new {@linkcode AppError} whose `cause` is `error`.
 *
 * @example
 * ```ts
 * import { notFound, wrap } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const inner = notFound("No organisation acme");
 * const outer = wrap(inner, "Cannot create API key");
 * assert.equal(outer.status, 404);
 * assert.equal(outer.detail, "No organisation acme");
 * assert.equal(outer.cause, inner);
 *
 * const crash = wrap(new Error("socket hang up"), "Cannot call billing");
 * assert.equal(crash.status, 500);
 * ```
 */
export function wrap(
  error: unknown,
  message: string,
  options: Omit<AppErrorOptions, "cause"> = {},
): AppError {
  if (isAppError(error)) {
    return new AppError(message, {
      status: error.status,
      code: error.code,
      title: error.title,
      detail: options.status === undefined ? error.detail : undefined,
      type: error.type,
      instance: error.instance,
      extensions: error.extensions,
      // A new status decides afresh whether extensions are shown (hidden again for a 5xx).
      exposeExtensions: options.status === undefined ? error.exposeExtensions : undefined,
      headers: error.headers,
      retryAfter: error.retryAfter,
      errors: error.errors,
      ...options,
      cause: error,
    });
  }
  return new AppError(message, { ...options, cause: error });
}

/**
 * Turns anything that was thrown into an {@linkcode AppError}: an `AppError` is returned as it
 * is; anything else (an `Error`, a string, `null`) becomes a 500 with the value as `cause`.
 *
 * @param error The caught value.
 * @returns An `AppError` to render.
 *
 * @example
 * ```ts
 * import { toAppError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = toAppError("a thrown string");
 * assert.equal(error.status, 500);
 * assert.equal(error.cause, "a thrown string");
 * ```
 */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  let isError = false;
  try {
    isError = error instanceof Error;
  } catch {
    // A revoked proxy or a throwing getPrototypeOf trap: not an Error we can trust.
  }
  return new AppError(
    isError ? "Unexpected error" : "Unexpected non-error value thrown",
    { cause: error },
  );
}
