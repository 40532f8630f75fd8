import { stringifyOr, truncate } from "./_json.ts";
import { isAggregate, read } from "./_inspect.ts";
import { isAppError } from "./app_error.ts";

/**
 * A log-safe plain-object view of an error and its chain.
 *
 * @example
 * ```ts
 * import { type SerializedError, serializeError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const out: SerializedError = serializeError(new RangeError("too big"), { stack: false });
 * assert.deepEqual(out, { type: "RangeError", message: "too big" });
 * ```
 */
export interface SerializedError {
  /** The error's name (`TypeError`, `AppError`), or the kind of a non-Error value (`string`, `null`, `Object`). */
  type: string;
  /** The message (cut to `maxStringLength`). */
  message: string;
  /** The error's `code` (`ECONNREFUSED`, `23505`, `not_found`), when it has one. */
  code?: string | number;
  /** The HTTP status, for errors that carry one. */
  status?: number;
  /**
   * An {@linkcode AppError}'s extension members, also those a 5xx keeps from clients;
   * `"[Truncated]"` when their JSON is longer than `maxStringLength`, `"[Unserializable]"` when
   * JSON cannot hold them.
   */
  extensions?: Record<string, unknown> | string;
  /** The stack trace (cut to `maxStringLength`). */
  stack?: string;
  /** The cause, serialised; `"[Circular]"` when it was already seen, `"[Truncated]"` past `maxDepth`. */
  cause?: SerializedError | string;
  /** The errors of an `AggregateError`, serialised the same way. */
  errors?: (SerializedError | string)[];
}

/**
 * Options of {@linkcode serializeError}.
 *
 * @example
 * ```ts
 * import { serializeError, type SerializeErrorOptions } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const options: SerializeErrorOptions = { maxStringLength: 5, stack: false };
 * assert.equal(serializeError(new Error("a long message"), options).message, "a lo…");
 * ```
 */
export interface SerializeErrorOptions {
  /** How many causes deep to go. @default {16} */
  readonly maxDepth?: number | undefined;
  /** Longest message or stack kept, in UTF-16 units. @default {16384} */
  readonly maxStringLength?: number | undefined;
  /** Whether to include stacks. @default {true} */
  readonly stack?: boolean | undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object" && typeof value !== "function") return typeof value;
  const name = read(value, "name");
  if (typeof name === "string" && name !== "") return name;
  const ctor = read(value, "constructor");
  const ctorName = read(ctor, "name");
  return typeof ctorName === "string" && ctorName !== "" ? ctorName : "Object";
}

function primitiveText(value: unknown): string {
  try {
    return typeof value === "symbol" ? value.toString() : String(value);
  } catch {
    return "";
  }
}

/** A JSON-safe copy of an AppError's extensions, or `undefined` when it has none. */
function extensionsOf(
  error: object,
  maxString: number,
): Record<string, unknown> | string | undefined {
  const extensions = read(error, "extensions");
  try {
    if (typeof extensions !== "object" || extensions === null) return undefined;
    if (Object.keys(extensions).length === 0) return undefined;
  } catch {
    return "[Unserializable]";
  }
  const json = stringifyOr(extensions, () => "[Unserializable]");
  if (json.length > maxString) return "[Truncated]";
  const copy: unknown = JSON.parse(json);
  return typeof copy === "object" && copy !== null ? copy as Record<string, unknown> : String(copy);
}

/**
 * Turns an error (or any thrown value) into a plain object for a log line: type, message,
 * code, status, an {@linkcode AppError}'s `extensions` (a 5xx's included, which clients never
 * see), stack, and the whole `cause` chain including `AggregateError.errors`. It never throws —
 * not on circular causes, throwing getters or thrown non-Error values — and copies no other
 * properties, so driver errors that carry row values leak none of them.
 *
 * @param error Anything that was thrown.
 * @param options Depth and length limits.
 * @returns A JSON-safe object.
 *
 * @example
 * ```ts
 * import { serializeError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const cause = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
 * const error = new Error("Cannot load user", { cause });
 * const out = serializeError(error, { stack: false });
 * assert.deepEqual(out, {
 *   type: "Error",
 *   message: "Cannot load user",
 *   cause: { type: "Error", message: "connect ECONNREFUSED", code: "ECONNREFUSED" },
 * });
 * ```
 *
 * @example A 5xx's extensions reach the logs, not the client
 * ```ts
 * import { serializeError, serviceUnavailable } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = serviceUnavailable("Pool exhausted", { extensions: { pool_max: 25 } });
 * assert.equal(error.toProblem()["pool_max"], undefined);
 * assert.deepEqual(serializeError(error, { stack: false }).extensions, { pool_max: 25 });
 * ```
 */
export function serializeError(
  error: unknown,
  options: SerializeErrorOptions = {},
): SerializedError {
  const maxDepth = options.maxDepth ?? 16;
  const maxString = options.maxStringLength ?? 16384;
  const withStack = options.stack ?? true;
  const seen = new Set<unknown>();

  const visit = (value: unknown, depth: number): SerializedError | string => {
    if (typeof value === "object" && value !== null) {
      if (seen.has(value)) return "[Circular]";
      seen.add(value);
    }
    if (depth > maxDepth) return "[Truncated]";
    const isObject = (typeof value === "object" && value !== null) ||
      typeof value === "function";
    const out: SerializedError = { type: kindOf(value), message: "" };
    if (!isObject) {
      out.message = truncate(primitiveText(value), maxString);
      return out;
    }
    const message = read(value, "message");
    out.message = typeof message === "string" ? truncate(message, maxString) : "";
    const code = read(value, "code");
    if (typeof code === "string") out.code = truncate(code, 256);
    else if (typeof code === "number" && Number.isFinite(code)) out.code = code;
    const status = read(value, "status");
    if (typeof status === "number" && Number.isInteger(status)) out.status = status;
    if (isAppError(value)) {
      const extensions = extensionsOf(value, maxString);
      if (extensions !== undefined) out.extensions = extensions;
    }
    if (withStack) {
      const stack = read(value, "stack");
      if (typeof stack === "string") out.stack = truncate(stack, maxString);
    }
    if (isAggregate(value)) {
      const errors = read(value, "errors");
      if (Array.isArray(errors)) {
        out.errors = errors.slice(0, 100).map((inner) => visit(inner, depth + 1));
      }
    }
    const cause = read(value, "cause");
    if (cause !== undefined) out.cause = visit(cause, depth + 1);
    return out;
  };

  const result = visit(error, 0);
  // The top level is never circular or truncated: it is the first value seen.
  return typeof result === "string" ? { type: "unknown", message: result } : result;
}
