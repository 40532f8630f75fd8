import { AppError } from "@plinth/errors";

/**
 * Why tracing could not be set up: the stable `code` of a {@linkcode TracingError}. Every code
 * is a 500: they are deployment faults, found at start-up.
 *
 * - `sdk_missing`: `registerTracing()` could not load the OpenTelemetry SDK packages (they are
 *   optional peer dependencies: install them).
 * - `unsupported_runtime`: `registerTracing()` ran on Deno, which exports spans itself with
 *   `OTEL_DENO=true`.
 * - `already_registered`: another tracer provider is registered already.
 *
 * @example
 * ```ts
 * import { TracingError, type TracingErrorCode } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const code: TracingErrorCode = "sdk_missing";
 * assert.equal(new TracingError("Cannot register tracing", { code }).status, 500);
 * ```
 */
export type TracingErrorCode = "sdk_missing" | "unsupported_runtime" | "already_registered";

/**
 * Every {@linkcode TracingErrorCode}, frozen, in the order of the README's error codes table.
 *
 * @example
 * ```ts
 * import { TRACING_ERROR_CODES } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * assert.ok(TRACING_ERROR_CODES.includes("unsupported_runtime"));
 * assert.ok(Object.isFrozen(TRACING_ERROR_CODES));
 * ```
 */
export const TRACING_ERROR_CODES: readonly TracingErrorCode[] = Object.freeze([
  "sdk_missing",
  "unsupported_runtime",
  "already_registered",
] as TracingErrorCode[]);

/**
 * Options of {@linkcode TracingError}.
 *
 * @example
 * ```ts
 * import { TracingError, type TracingErrorOptions } from "@plinth/tracing";
 * import assert from "node:assert/strict";
 *
 * const options: TracingErrorOptions = { code: "sdk_missing", cause: new Error("not found") };
 * assert.equal(new TracingError("Cannot register tracing", options).code, "sdk_missing");
 * ```
 */
export interface TracingErrorOptions {
  /** Why set-up failed. */
  readonly code: TracingErrorCode;
  /** The error behind this one. @default {undefined} */
  readonly cause?: unknown;
}

/**
 * A tracing set-up failure: a 500 {@linkcode AppError} with a stable `code`.
 *
 * @example
 * ```ts
 * import { TracingError } from "@plinth/tracing";
 * import { isAppError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new TracingError("Cannot register tracing: no SDK", { code: "sdk_missing" });
 * assert.equal(error.name, "TracingError");
 * assert.equal(isAppError(error), true);
 * ```
 */
export class TracingError extends AppError {
  /** Why set-up failed. */
  declare readonly code: TracingErrorCode;

  /**
   * Creates a tracing error.
   *
   * @param message Text for logs.
   * @param options The `code`, and the `cause`.
   * @throws {TypeError} When `message` is not a string or `code` is not a
   *   {@linkcode TracingErrorCode}.
   */
  constructor(message: string, options: TracingErrorOptions) {
    if (typeof message !== "string") {
      throw new TypeError("Cannot create TracingError: message must be a string");
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Cannot create TracingError: options must be an object with a code");
    }
    if (!TRACING_ERROR_CODES.includes(options.code)) {
      throw new TypeError("Cannot create TracingError: code must be one of TRACING_ERROR_CODES");
    }
    super(message, { status: 500, code: options.code, cause: options.cause });
    this.name = "TracingError";
  }
}
