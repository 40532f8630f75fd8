import { AppError } from "@plinth/errors";

/**
 * Machine codes of {@linkcode EventError}: why an event could not be published or consumed.
 * Each has a fixed HTTP status (the error is an `AppError`, so it renders as problem details):
 *
 * - `invalid_subject` (400): not a valid NATS subject (empty token, whitespace or control
 *   character, a wildcard in a publish, or a publish to a `$`-prefixed system subject such as
 *   `$JS.API.*`).
 * - `invalid_header` (400): a header name that is not an HTTP token, a value with CR/LF, or a
 *   reserved name (`ce-*`, `nats-*`, `content-type`).
 * - `invalid_payload` (422): the payload cannot be written as JSON (`undefined`, a `bigint`, a
 *   cycle, or `NaN`, `±Infinity` or an invalid `Date`, which JSON would turn into `null`; the
 *   message names its JSON path).
 * - `schema_violation` (422): the payload does not match the given schema.
 * - `payload_too_large` (413): headers and body exceed the server's `max_payload`.
 * - `no_stream` (500): no JetStream stream covers the subject (checked before anything is sent).
 * - `durable_conflict` (500): the durable consumer exists with another subject.
 * - `stream_setup_failed` (503): a stream or durable consumer cannot be created, updated, read
 *   or deleted.
 * - `bus_closed` (503): the bus, or the connection under it, was closed.
 * - `connect_failed` (503): the NATS server(s) could not be reached within `connectTimeout` at
 *   start; the message names `host:port`, never credentials.
 * - `event_publish_failed` (503): the server did not acknowledge a publish after its retries, or
 *   refused it.
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
  | "schema_violation"
  | "payload_too_large"
  | "no_stream"
  | "durable_conflict"
  | "stream_setup_failed"
  | "bus_closed"
  | "connect_failed"
  | "event_publish_failed";

const STATUS: Readonly<Record<EventErrorCode, number>> = Object.freeze({
  invalid_subject: 400,
  invalid_header: 400,
  invalid_payload: 422,
  schema_violation: 422,
  payload_too_large: 413,
  no_stream: 500,
  durable_conflict: 500,
  stream_setup_failed: 503,
  bus_closed: 503,
  connect_failed: 503,
  event_publish_failed: 503,
});

/**
 * Every {@linkcode EventErrorCode}, in the order of its documentation: what `@plinth/events`
 * can throw, for tables, tests and exhaustive switches.
 *
 * @example
 * ```ts
 * import { EVENT_ERROR_CODES, EventError } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * assert.ok(EVENT_ERROR_CODES.includes("bus_closed"));
 * for (const code of EVENT_ERROR_CODES) {
 *   const status = new EventError("x", { code }).status;
 *   assert.ok(status >= 400 && status <= 599);
 * }
 * ```
 */
export const EVENT_ERROR_CODES: readonly EventErrorCode[] = Object.freeze(
  Object.keys(STATUS) as EventErrorCode[],
);

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
  /** What went wrong; it also sets the HTTP `status`. */
  readonly code: EventErrorCode;
  /** The subject concerned. @default {undefined} */
  readonly subject?: string | undefined;
  /** The id of the event concerned. @default {undefined} */
  readonly eventId?: string | undefined;
  /** Each problem found by a schema, as `path: message`. @default {[]} */
  readonly issues?: readonly string[] | undefined;
  /** The underlying error. @default {undefined} */
  readonly cause?: unknown;
}

/**
 * An event that cannot be published or subscribed as asked: a bad subject or header, a payload
 * that is not JSON, too large or against its schema, a subject no stream covers, a closed bus,
 * a server unreachable at start, a publish the server never acknowledged. It is an `AppError`
 * of `@plinth/errors`, with the `status` of its `code` (see {@linkcode EventErrorCode}), so an
 * error handler renders it as problem details; the subject and event id are extensions kept
 * for the logs, never sent to clients.
 *
 * @example
 * ```ts
 * import { EventError } from "@plinth/events";
 * import { isAppError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new EventError("Cannot publish event to \"a b\": invalid subject", {
 *   code: "invalid_subject",
 *   subject: "a b",
 * });
 * assert.equal(error.name, "EventError");
 * assert.equal(error.code, "invalid_subject");
 * assert.equal(error.status, 400);
 * assert.equal(isAppError(error), true);
 * assert.equal(new EventError("Cannot publish event", { code: "bus_closed" }).status, 503);
 * ```
 */
export class EventError extends AppError {
  /** What went wrong, for callers that switch on it. */
  declare readonly code: EventErrorCode;
  /** The subject concerned, when there is one. */
  readonly subject: string | undefined;
  /** The id of the event concerned, when there is one. */
  readonly eventId: string | undefined;
  /** Each problem found by a schema (`path: message`); empty for other codes. */
  readonly issues: readonly string[];

  /**
   * Creates the error.
   *
   * @param message The failed action first, details after a colon.
   * @param options Code, subject, event id, issues and cause.
   * @throws {TypeError} When `code` is not an {@linkcode EventErrorCode}.
   */
  constructor(message: string, options: EventErrorOptions) {
    const code = options?.code;
    const status = typeof code === "string" && Object.hasOwn(STATUS, code)
      ? STATUS[code]
      : undefined;
    if (status === undefined) throw new TypeError("Cannot create EventError: unknown code");
    const extensions: Record<string, unknown> = {};
    if (options.subject !== undefined) extensions["subject"] = options.subject;
    if (options.eventId !== undefined) extensions["event_id"] = options.eventId;
    super(message, { status, code, cause: options.cause, extensions, exposeExtensions: false });
    this.name = "EventError";
    this.subject = options.subject;
    this.eventId = options.eventId;
    this.issues = Object.freeze([...(options.issues ?? [])]);
  }
}
