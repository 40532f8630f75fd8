import { AppError } from "@plinth/errors";

/**
 * Why the outbox refused or failed: the stable `code` of an {@linkcode OutboxError}.
 *
 * - `invalid_subject` (400): `enqueue()` got an empty, wildcard, `$`-prefixed or otherwise
 *   unpublishable subject.
 * - `invalid_header` (400): a header name that is not an HTTP token, a value that is not a string
 *   or holds CR/LF, or a reserved `ce-*`/`nats-*`/`content-type` name.
 * - `invalid_payload` (422): the payload cannot be written as JSON (`undefined`, `bigint`, a
 *   cycle, `NaN`, `±Infinity`).
 * - `enqueue_failed` (503): the insert failed (the transaction is aborted; the cause is the
 *   driver's error, e.g. a missing outbox table).
 * - `publish_rejected` (500): the bus refused an event for good (the relay sets the row aside as
 *   failed and logs this error; it never retries it).
 *
 * @example
 * ```ts
 * import { OutboxError, type OutboxErrorCode } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const code: OutboxErrorCode = "invalid_subject";
 * assert.equal(new OutboxError("Cannot enqueue event", { code }).status, 400);
 * ```
 */
export type OutboxErrorCode =
  | "invalid_subject"
  | "invalid_header"
  | "invalid_payload"
  | "enqueue_failed"
  | "publish_rejected";

/**
 * Every {@linkcode OutboxErrorCode}, frozen, in the order of the README's error codes table.
 *
 * @example
 * ```ts
 * import { OUTBOX_ERROR_CODES } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * assert.ok(OUTBOX_ERROR_CODES.includes("enqueue_failed"));
 * assert.ok(Object.isFrozen(OUTBOX_ERROR_CODES));
 * ```
 */
export const OUTBOX_ERROR_CODES: readonly OutboxErrorCode[] = Object.freeze([
  "invalid_subject",
  "invalid_header",
  "invalid_payload",
  "enqueue_failed",
  "publish_rejected",
] as OutboxErrorCode[]);

const STATUS: Readonly<Record<OutboxErrorCode, number>> = {
  invalid_subject: 400,
  invalid_header: 400,
  invalid_payload: 422,
  enqueue_failed: 503,
  publish_rejected: 500,
};

/**
 * Options of {@linkcode OutboxError}.
 *
 * @example
 * ```ts
 * import { OutboxError, type OutboxErrorOptions } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const options: OutboxErrorOptions = { code: "enqueue_failed", cause: new Error("down") };
 * assert.equal(new OutboxError("Cannot enqueue event", options).status, 503);
 * ```
 */
export interface OutboxErrorOptions {
  /** What went wrong. */
  readonly code: OutboxErrorCode;
  /** The error behind this one. @default {undefined} */
  readonly cause?: unknown;
}

/**
 * An outbox failure: an {@linkcode AppError} with a stable `code` and the status of its code.
 *
 * @example
 * ```ts
 * import { OutboxError } from "@plinth/outbox";
 * import { isAppError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new OutboxError("Cannot enqueue event: payload is NaN", { code: "invalid_payload" });
 * assert.equal(error.name, "OutboxError");
 * assert.equal(error.status, 422);
 * assert.equal(isAppError(error), true);
 * ```
 */
export class OutboxError extends AppError {
  /** What went wrong. */
  declare readonly code: OutboxErrorCode;

  /**
   * Creates an outbox error.
   *
   * @param message Text for logs.
   * @param options The `code`, and the `cause`.
   * @throws {TypeError} When `message` is not a string or `code` is not an
   *   {@linkcode OutboxErrorCode}.
   */
  constructor(message: string, options: OutboxErrorOptions) {
    if (typeof message !== "string") {
      throw new TypeError("Cannot create OutboxError: message must be a string");
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Cannot create OutboxError: options must be an object with a code");
    }
    if (!OUTBOX_ERROR_CODES.includes(options.code)) {
      throw new TypeError("Cannot create OutboxError: code must be one of OUTBOX_ERROR_CODES");
    }
    super(message, { status: STATUS[options.code], code: options.code, cause: options.cause });
    this.name = "OutboxError";
  }
}
