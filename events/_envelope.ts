import { getContext, type LogContext } from "@plinth/logging";
import { createTraceContext, currentTrace, injectTraceHeaders } from "@plinth/tracing";
import { EventError } from "./errors.ts";
import type { EventMeta } from "./event_bus.ts";

/** The CloudEvents spec version written in `ce-specversion`. */
export const SPEC_VERSION = "1.0";
/** The request id header. */
export const REQUEST_ID_HEADER = "x-request-id";

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CRLF = /[\r\n]/;
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const RESERVED = /^(ce-|nats-|content-type$)/i;

/** Throws unless `id` is usable as an event id (a non-empty printable string, at most 256). */
export function checkId(id: unknown, subject: string, action: string): asserts id is string {
  if (typeof id !== "string" || id === "" || id.length > 256 || CONTROL.test(id)) {
    throw new EventError(
      `${action} to "${subject}": invalid id: must be 1 to 256 characters without CR, LF or other control characters`,
      { code: "invalid_header", subject },
    );
  }
}

/** Throws unless every user header has a token name, a CR/LF-free value and no reserved name. */
export function checkHeaders(
  headers: Readonly<Record<string, string>> | undefined,
  subject: string,
  action: string,
): void {
  if (headers === undefined) return;
  if (typeof headers !== "object" || headers === null || Array.isArray(headers)) {
    throw new EventError(`${action} to "${subject}": headers must be an object`, {
      code: "invalid_header",
      subject,
    });
  }
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    let problem: string | undefined;
    if (!TOKEN.test(name)) problem = "the name must be an HTTP token";
    else if (RESERVED.test(name)) problem = "the name is reserved for the event envelope";
    else if (typeof value !== "string") problem = "the value must be a string";
    else if (CRLF.test(value)) problem = "the value must not contain CR or LF";
    if (problem !== undefined) {
      throw new EventError(
        `${action} to "${subject}": invalid header ${JSON.stringify(name)}: ${problem}`,
        { code: "invalid_header", subject },
      );
    }
  }
}

/** Writes `payload` as JSON, or throws an `invalid_payload` {@linkcode EventError}. */
export function encodePayload(payload: unknown, subject: string, action: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (cause) {
    throw new EventError(`${action} to "${subject}": the payload cannot be written as JSON`, {
      code: "invalid_payload",
      subject,
      cause,
    });
  }
  if (json === undefined) {
    throw new EventError(
      `${action} to "${subject}": the payload cannot be written as JSON: ${typeof payload}`,
      { code: "invalid_payload", subject },
    );
  }
  // JSON writes NaN, ±Infinity and an invalid Date as null: look for them only when the JSON
  // has a null.
  if (json.includes("null")) {
    const found = nonFinitePath(payload);
    if (found !== undefined) {
      throw new EventError(
        `${action} to "${subject}": the payload cannot be written as JSON: ${found.what} (JSON would store null) at ${found.path}`,
        { code: "invalid_payload", subject },
      );
    }
  }
  return json;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * The JSON path (`$.items[2].price`) of the first `NaN`, `±Infinity` or invalid `Date` that
 * `JSON.stringify` would write as `null`, and what it is; or `undefined`. It walks with
 * `JSON.stringify` itself, so `toJSON`, skipped properties and boxed numbers count exactly as
 * they do when the payload is written.
 */
export function nonFinitePath(payload: unknown): { path: string; what: string } | undefined {
  const paths = new WeakMap<object, string>();
  let found: { path: string; what: string } | undefined;
  try {
    JSON.stringify(payload, function (this: unknown, key: string, value: unknown): unknown {
      if (found !== undefined) return undefined;
      const parent = typeof this === "object" && this !== null ? paths.get(this) : undefined;
      const path = parent === undefined
        ? "$"
        : Array.isArray(this)
        ? `${parent}[${key}]`
        : IDENTIFIER.test(key)
        ? `${parent}.${key}`
        : `${parent}[${JSON.stringify(key)}]`;
      const number = value instanceof Number ? value.valueOf() : value;
      if (typeof number === "number" && !Number.isFinite(number)) {
        found = { path, what: "a number that is not finite" };
        return undefined;
      }
      // What toJSON was called on: an invalid Date writes itself as null.
      const original = (this as Record<string, unknown>)[key];
      if (value === null && original instanceof Date && Number.isNaN(original.getTime())) {
        found = { path, what: "an invalid Date" };
        return undefined;
      }
      if (typeof value === "object" && value !== null) paths.set(value, path);
      return value;
    });
  } catch {
    // The payload was written once already; a second toJSON that throws proves nothing here.
  }
  return found;
}

/**
 * The headers of an event: the CloudEvents attributes, the context's request id, the current
 * trace's `traceparent`/`tracestate` (a new trace when there is none, so every event has one),
 * then the user's own headers (already checked).
 */
export function envelopeHeaders(
  subject: string,
  id: string,
  source: string,
  time: string,
  extra: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    "ce-specversion": SPEC_VERSION,
    "ce-id": id,
    "ce-source": source,
    "ce-type": subject,
    "ce-time": time,
    "content-type": "application/json",
  };
  const context = getContext();
  if (context !== undefined) {
    const requestId = context.request_id;
    if (typeof requestId === "string" && requestId !== "" && !CRLF.test(requestId)) {
      headers[REQUEST_ID_HEADER] = requestId;
    }
  }
  injectTraceHeaders(headers, { context: currentTrace() ?? createTraceContext() });
  if (extra !== undefined) {
    for (const name of Object.keys(extra)) headers[name.toLowerCase()] = extra[name]!;
  }
  return headers;
}

/** Bytes the headers take on the wire (an estimate by UTF-16 length, exact for ASCII). */
export function headersSize(headers: Readonly<Record<string, string>>): number {
  let size = 12; // "NATS/1.0\r\n" + final "\r\n"
  for (const name in headers) size += name.length + headers[name]!.length + 4;
  return size + 30; // Nats-Msg-Id added by the transport
}

/**
 * The logging context to restore around a handler: the request id from the headers (the trace
 * ids come from the handler's span, a child of the event's `traceparent`).
 */
export function contextFromHeaders(headers: Readonly<Record<string, string>>): LogContext {
  const requestId = headers[REQUEST_ID_HEADER];
  return requestId !== undefined && requestId !== "" ? { request_id: requestId } : {};
}

/** The {@linkcode EventMeta} of a delivery. */
export function metaFromHeaders(
  headers: Readonly<Record<string, string>>,
  subject: string,
  deliveryCount: number,
  stream: string,
  sequence: number,
  signal: AbortSignal,
): EventMeta {
  const time = headers["ce-time"];
  const parsed = time === undefined ? NaN : Date.parse(time);
  return {
    id: headers["ce-id"] ?? headers["nats-msg-id"] ?? `${stream}:${sequence}`,
    subject,
    source: headers["ce-source"] ?? "",
    time: Number.isNaN(parsed) ? 0 : parsed,
    deliveryCount,
    stream,
    sequence,
    headers,
    signal,
  };
}

/** `error` as one line for a header or a log field: `Name: message`, at most 1024 characters. */
export function describeError(error: unknown): string {
  const text = error instanceof Error
    ? `${error.name}: ${error.message}`
    : `thrown value: ${String(error)}`;
  // deno-lint-ignore no-control-regex
  const line = text.replace(/[\r\n]+/g, " ").replace(/[\u0000-\u001f\u007f]/g, "");
  return line.length > 1024 ? `${line.slice(0, 1023)}…` : line;
}
