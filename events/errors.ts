/**
 * Machine codes of {@linkcode EventError}: why an event could not be published or consumed.
 *
 * - `invalid_subject`: not a valid NATS subject (empty token, whitespace or control character, a
 *   wildcard in a publish, or a publish to a `$`-prefixed system subject such as `$JS.API.*`).
 * - `invalid_header`: a header name that is not an HTTP token, a value with CR/LF, or a reserved
 *   name (`ce-*`, `nats-*`, `content-type`).
 * - `invalid_payload`: the payload cannot be written as JSON (`undefined`, a `bigint`, a cycle,
 *   or `NaN`, `±Infinity` or an invalid `Date`, which JSON would turn into `null`; the message names
 *   its JSON path).
 * - `payload_too_large`: headers and body exceed the server's `max_payload`.
 * - `schema_violation`: the payload does not match the given schema.
 * - `no_stream`: no JetStream stream covers the subject (checked before anything is sent).
 * - `durable_conflict`: the durable consumer exists with another subject.
 * - `stream_setup_failed`: a stream or durable consumer cannot be created or updated.
 * - `bus_closed`: the bus was closed.
 * - `connect_failed`: the NATS server(s) could not be reached within `connectTimeout` at start
 *   (a service-unavailable condition, 503); the message names `host:port`, never credentials.
 *
 * @example
 * ```ts
 * import { createMemoryBus, EventError, type EventErrorCode } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus();
 * let code: EventErrorCode | undefined;
 * try {
 *   await bus.publish("user..created", {});
 * } catch (error) {
 *   if (error instanceof EventError) code = error.code;
 * }
 * assert.equal(code, "invalid_subject");
 * await bus.close();
 * ```
 */
export type EventErrorCode =
  | "invalid_subject"
  | "invalid_header"
  | "invalid_payload"
  | "payload_too_large"
  | "schema_violation"
  | "no_stream"
  | "durable_conflict"
  | "stream_setup_failed"
  | "bus_closed"
  | "connect_failed";

/**
 * Options of {@linkcode EventError}.
 *
 * @example
 * ```ts
 * import { EventError, type EventErrorOptions } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const options: EventErrorOptions = { code: "no_stream", subject: "user.created" };
 * assert.equal(new EventError("Cannot publish", options).subject, "user.created");
 * ```
 */
export interface EventErrorOptions {
  /** What went wrong. */
  readonly code: EventErrorCode;
  /** The subject concerned. @default {undefined} */
  readonly subject?: string | undefined;
  /** Each problem found by a schema, as `path: message`. @default {[]} */
  readonly issues?: readonly string[] | undefined;
  /** The underlying error. @default {undefined} */
  readonly cause?: unknown;
}

/**
 * An event that cannot be published or subscribed as asked: a bad subject or header, a payload
 * that is not JSON, too large or against its schema, a subject no stream covers, a closed bus,
 * a server unreachable at start (`connect_failed`). A publish the server fails to acknowledge
 * is a 503 `AppError` from `@plinth/errors` instead.
 *
 * @example
 * ```ts
 * import { EventError } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const error = new EventError("Cannot publish event to \"a b\": invalid subject", {
 *   code: "invalid_subject",
 *   subject: "a b",
 * });
 * assert.equal(error.name, "EventError");
 * assert.equal(error.code, "invalid_subject");
 * ```
 */
export class EventError extends Error {
  /** What went wrong, for callers that switch on it. */
  readonly code: EventErrorCode;
  /** The subject concerned, when there is one. */
  readonly subject: string | undefined;
  /** Each problem found by a schema (`path: message`); empty for other codes. */
  readonly issues: readonly string[];

  /**
   * Creates the error.
   *
   * @param message The failed action first, details after a colon.
   * @param options Code, subject, issues and cause.
   */
  constructor(message: string, options: EventErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "EventError";
    this.code = options.code;
    this.subject = options.subject;
    this.issues = Object.freeze([...(options.issues ?? [])]);
  }
}
