import { EventError } from "./errors.ts";
import type { PublishOptions } from "./event_bus.ts";
import { checkHeaders, checkId, encodePayload, envelopeHeaders, headersSize } from "./_envelope.ts";
import { checkPublishSchema } from "./_options.ts";
import { checkPublishSubject } from "./_subject.ts";
import { validate } from "./_dispatch.ts";

/** An event ready to send: checked, validated, written as JSON, with its envelope headers. */
export interface PreparedEvent {
  readonly subject: string;
  readonly id: string;
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** The action every publish error message starts with. */
export const PUBLISH_ACTION = "Cannot publish event";

const encoder = new TextEncoder();

/** Byte length of `text` in UTF-8, without encoding it when it is short ASCII. */
function utf8Length(text: string): number {
  // deno-lint-ignore no-control-regex
  return text.length < 4096 && /^[\u0000-\u007f]*$/.test(text)
    ? text.length
    : encoder.encode(text).length;
}

let lastMillis = NaN;
let lastTime = "";

/** `new Date().toISOString()`, formatted once per millisecond. */
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMillis) {
    lastTime = new Date(now).toISOString();
    lastMillis = now;
  }
  return lastTime;
}

/**
 * Checks and builds an event, throwing an {@linkcode EventError} for anything invalid. Without
 * a schema it returns the event itself (no promise, no microtask); with one, a promise.
 */
export function prepareEvent<T>(
  subject: string,
  payload: T,
  options: PublishOptions<T> | undefined,
  source: string,
  maxPayload: number,
): PreparedEvent | Promise<PreparedEvent> {
  checkPublishSubject(subject, PUBLISH_ACTION);
  if (options === undefined) {
    return build(subject, payload, undefined, undefined, source, maxPayload);
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${PUBLISH_ACTION} to "${subject}": options must be an object`);
  }
  const id = options.id;
  if (id !== undefined) checkId(id, subject, PUBLISH_ACTION);
  const headers = options.headers;
  checkHeaders(headers, subject, PUBLISH_ACTION);
  if (options.schema === undefined) return build(subject, payload, id, headers, source, maxPayload);
  const schema = checkPublishSchema<T>(options.schema, `${PUBLISH_ACTION} to "${subject}"`)!;
  return validate(schema, payload).then((result) => {
    if (!result.ok) {
      throw new EventError(
        `${PUBLISH_ACTION} to "${subject}": the payload does not match the schema: ${
          result.issues.join("; ")
        }`,
        { code: "schema_violation", subject, issues: result.issues },
      );
    }
    return build(subject, result.value, id, headers, source, maxPayload);
  });
}

function build(
  subject: string,
  value: unknown,
  id: string | undefined,
  extra: Readonly<Record<string, string>> | undefined,
  source: string,
  maxPayload: number,
): PreparedEvent {
  const body = encodePayload(value, subject, PUBLISH_ACTION);
  const eventId = id ?? crypto.randomUUID();
  const headers = envelopeHeaders(subject, eventId, source, isoNow(), extra);
  const headerBytes = headersSize(headers);
  // A UTF-8 byte is at most 3 per UTF-16 unit: count exactly only when that bound is too big.
  const size = body.length * 3 + headerBytes <= maxPayload
    ? body.length + headerBytes
    : utf8Length(body) + headerBytes;
  if (size > maxPayload) {
    throw new EventError(
      `${PUBLISH_ACTION} to "${subject}": payload too large: ${size} bytes with headers, the server allows ${maxPayload}`,
      { code: "payload_too_large", subject },
    );
  }
  return { subject, id: eventId, body, headers };
}
