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
  /** Bytes of headers and body on the wire (an estimate for non-ASCII text). */
  readonly size: number;
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

/** Checks and builds an event, throwing an {@linkcode EventError} for anything invalid. */
export async function prepareEvent<T>(
  subject: string,
  payload: T,
  options: PublishOptions<T> | undefined,
  source: string,
  maxPayload: number,
): Promise<PreparedEvent> {
  checkPublishSubject(subject, PUBLISH_ACTION);
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new TypeError(`${PUBLISH_ACTION} to "${subject}": options must be an object`);
  }
  const id = options?.id ?? crypto.randomUUID();
  if (options?.id !== undefined) checkId(id, subject, PUBLISH_ACTION);
  checkHeaders(options?.headers, subject, PUBLISH_ACTION);
  let value: unknown = payload;
  const schema = checkPublishSchema<T>(options?.schema, `${PUBLISH_ACTION} to "${subject}"`);
  if (schema !== undefined) {
    const result = await validate(schema, payload);
    if (!result.ok) {
      throw new EventError(
        `${PUBLISH_ACTION} to "${subject}": the payload does not match the schema: ${
          result.issues.join("; ")
        }`,
        { code: "schema_violation", subject, issues: result.issues },
      );
    }
    value = result.value;
  }
  const body = encodePayload(value, subject, PUBLISH_ACTION);
  const headers = envelopeHeaders(subject, id, source, new Date().toISOString(), options?.headers);
  const size = utf8Length(body) + headersSize(headers);
  if (size > maxPayload) {
    throw new EventError(
      `${PUBLISH_ACTION} to "${subject}": payload too large: ${size} bytes with headers, the server allows ${maxPayload}`,
      { code: "payload_too_large", subject },
    );
  }
  return { subject, id, body, headers, size };
}
