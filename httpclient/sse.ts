/**
 * One Server-Sent Event: its `event` type, its `data` (the `data:` lines joined with `\n`), the
 * last event `id` seen on the stream, and `retry` when the event set one.
 *
 * @example
 * ```ts
 * import { createSseParser, type SseEvent } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const events: SseEvent[] = [];
 * createSseParser((event) => events.push(event)).feed("id: 7\ndata: hi\n\n");
 * assert.deepEqual(events, [{ event: "message", data: "hi", id: "7" }]);
 * ```
 */
export interface SseEvent {
  /** The `event:` field, `"message"` when the event had none. */
  readonly event: string;
  /** The `data:` lines, joined with `\n`. */
  readonly data: string;
  /** The last event id of the stream (ids persist from one event to the next). */
  readonly id: string | undefined;
  /** The reconnection time in ms, when this event carried a valid `retry:` field. */
  readonly retry?: number;
}

/**
 * An incremental SSE parser: feed it text as it arrives, split anywhere; it calls back once per
 * complete event.
 *
 * @example
 * ```ts
 * import { createSseParser, type SseParser } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const data: string[] = [];
 * const parser: SseParser = createSseParser((event) => data.push(event.data));
 * parser.feed("data: a");
 * parser.feed("b\r");
 * parser.feed("\n\r\n");
 * assert.deepEqual(data, ["ab"]);
 * ```
 */
export interface SseParser {
  /**
   * Parses the next piece of the stream, decoded to text.
   * @param chunk Any piece of the stream: lines and fields may be split anywhere.
   */
  feed(chunk: string): void;
  /** Forgets a partial line and event (not the last event id), as at the start of a stream. */
  reset(): void;
}

/**
 * Options of {@linkcode createSseParser}.
 *
 * @example
 * ```ts
 * import { createSseParser, type SseParserOptions } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const comments: string[] = [];
 * const options: SseParserOptions = { onComment: (text) => comments.push(text) };
 * createSseParser(() => {}, options).feed(": keep-alive\n\n");
 * assert.deepEqual(comments, [" keep-alive"]);
 * ```
 */
export interface SseParserOptions {
  /** Called with each comment line's text (after the `:`). @default {undefined} */
  readonly onComment?: ((text: string) => void) | undefined;
  /**
   * The most characters a line or an event's data may hold; more throws a `RangeError` from
   * `feed()`, so an upstream that never ends a line cannot exhaust memory. @default {16777216}
   */
  readonly maxEventSize?: number | undefined;
}

const LF = 10;

/**
 * Creates an incremental Server-Sent Events parser following the WHATWG `text/event-stream`
 * rules: lines end in LF, CR or CRLF (a CRLF split across two chunks counts once); a leading
 * byte-order mark is skipped; `:` lines are comments; `data`, `event`, `id` and `retry` fields,
 * one optional space after the colon removed; an event is dispatched at an empty line when it has
 * data. Decode bytes with a streaming `TextDecoder` first (as {@linkcode readServerSentEvents}
 * does), so a UTF-8 character split between chunks stays whole.
 *
 * @param onEvent Called with each complete event, in order.
 * @param options A comment callback and the size cap.
 * @returns The parser.
 * @throws {TypeError} When `onEvent` is not a function or an option has the wrong type.
 * @throws {RangeError} When `maxEventSize` is not a positive integer.
 *
 * @example
 * ```ts
 * import { createSseParser } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const events: string[] = [];
 * const parser = createSseParser((event) => events.push(`${event.event}:${event.data}`));
 * for (const piece of ["event: delta\nda", "ta: {\"a\"", ":1}\n\ndata: [DONE]\n\n"]) {
 *   parser.feed(piece);
 * }
 * assert.deepEqual(events, ['delta:{"a":1}', "message:[DONE]"]);
 * ```
 */
export function createSseParser(
  onEvent: (event: SseEvent) => void,
  options: SseParserOptions = {},
): SseParser {
  if (typeof onEvent !== "function") {
    throw new TypeError("Cannot create SSE parser: onEvent must be a function");
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Cannot create SSE parser: options must be an object");
  }
  const onComment = options.onComment;
  if (onComment !== undefined && typeof onComment !== "function") {
    throw new TypeError('Cannot create SSE parser: option "onComment" must be a function');
  }
  const max = options.maxEventSize ?? 16_777_216;
  if (!Number.isSafeInteger(max) || max <= 0) {
    throw new RangeError(
      'Cannot create SSE parser: option "maxEventSize" must be a positive integer',
    );
  }

  let pending = ""; // the start of a line whose end has not arrived
  let first = true; // before any text: a BOM may follow
  let skipLf = false; // the last chunk ended in CR: a leading LF belongs to it
  let data = "";
  let hasData = false;
  let event = "";
  let lastId: string | undefined;
  let retry: number | undefined;

  function dispatch(): void {
    if (!hasData) {
      event = "";
      retry = undefined;
      return;
    }
    const out: SseEvent = retry === undefined
      ? { event: event === "" ? "message" : event, data, id: lastId }
      : { event: event === "" ? "message" : event, data, id: lastId, retry };
    data = "";
    hasData = false;
    event = "";
    retry = undefined;
    onEvent(out);
  }

  function line(text: string, start: number, end: number): void {
    if (start === end) {
      dispatch();
      return;
    }
    const c = text.charCodeAt(start);
    if (c === 58 /* : */) {
      if (onComment !== undefined) onComment(text.slice(start + 1, end));
      return;
    }
    // Fast path: "data: " (the common case).
    let colon: number;
    let name: string;
    if (
      c === 100 && end - start >= 5 && text.charCodeAt(start + 4) === 58 &&
      text.startsWith("data", start)
    ) {
      colon = start + 4;
      name = "data";
    } else {
      colon = text.indexOf(":", start);
      if (colon === -1 || colon > end) colon = end;
      name = text.slice(start, colon);
    }
    let valueStart = colon + 1;
    if (valueStart < end && text.charCodeAt(valueStart) === 32) valueStart++;
    const value = colon >= end ? "" : text.slice(valueStart, end);
    switch (name) {
      case "data":
        addData(value);
        break;
      case "event":
        event = value;
        break;
      case "id":
        if (!value.includes("\0")) lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  function addData(value: string): void {
    if (hasData) {
      if (data.length + value.length + 1 > max) tooLarge();
      data += "\n" + value;
    } else {
      data = value;
      hasData = true;
    }
  }

  function tooLarge(): never {
    pending = "";
    data = "";
    hasData = false;
    throw new RangeError("Cannot parse SSE stream: a line or an event exceeds maxEventSize");
  }

  return {
    feed(chunk: string): void {
      if (typeof chunk !== "string") {
        throw new TypeError("Cannot parse SSE stream: chunk must be a string");
      }
      if (chunk === "") return;
      let text = chunk;
      let pos = 0;
      if (first) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) pos = 1;
      }
      if (skipLf) {
        skipLf = false;
        if (text.charCodeAt(pos) === LF) pos++;
      }
      let length = text.length;
      // `pending` never holds a CR (a line ends at one), so only the new chunk needs looking at.
      if (chunk.indexOf("\r") === -1) {
        // The usual case: LF line ends only. The line begun in an earlier chunk is finished
        // first, so the loop below runs over the chunk itself, never a copy joined to it.
        if (pending !== "") {
          const end = chunk.indexOf("\n");
          if (end === -1) {
            pending += chunk;
            if (pending.length > max) tooLarge();
            return;
          }
          const head = pending + chunk.slice(0, end);
          pending = "";
          line(head, 0, head.length);
          pos = end + 1;
        }
        let lf = text.indexOf("\n", pos);
        while (lf !== -1) {
          if (lf === pos) {
            dispatch();
          } else if (isDataField(text, pos)) {
            const value = text.slice(text.charCodeAt(pos + 5) === 32 ? pos + 6 : pos + 5, lf);
            if (!hasData && retry === undefined && text.charCodeAt(lf + 1) === LF) {
              // A one-line event: dispatch it at once, skipping the empty line.
              const type = event === "" ? "message" : event;
              event = "";
              pos = lf + 2;
              lf = text.indexOf("\n", pos);
              onEvent({ event: type, data: value, id: lastId });
              continue;
            }
            addData(value);
          } else {
            line(text, pos, lf);
          }
          pos = lf + 1;
          lf = text.indexOf("\n", pos);
        }
      } else {
        if (pending !== "") {
          text = pending + chunk;
          length = text.length;
          pending = "";
        }
        let nextCr = text.indexOf("\r", pos);
        while (pos < length) {
          const nextLf = text.indexOf("\n", pos);
          if (nextCr !== -1 && nextCr < pos) nextCr = text.indexOf("\r", pos);
          let end: number;
          let after: number;
          if (nextCr !== -1 && (nextLf === -1 || nextCr < nextLf)) {
            end = nextCr;
            if (nextCr + 1 === length) {
              skipLf = true;
              after = length;
            } else {
              after = text.charCodeAt(nextCr + 1) === LF ? nextCr + 2 : nextCr + 1;
            }
          } else if (nextLf !== -1) {
            end = nextLf;
            after = nextLf + 1;
          } else {
            break;
          }
          line(text, pos, end);
          pos = after;
        }
      }
      if (pos < length) {
        pending = pos === 0 ? text : text.slice(pos);
        if (pending.length > max) tooLarge();
      }
      text = "";
    },
    reset(): void {
      pending = "";
      first = true;
      skipLf = false;
      data = "";
      hasData = false;
      event = "";
      retry = undefined;
    },
  };
}

/** Whether the line at `start` begins with `data:`. */
function isDataField(text: string, start: number): boolean {
  return text.charCodeAt(start) === 100 && text.charCodeAt(start + 1) === 97 &&
    text.charCodeAt(start + 2) === 116 && text.charCodeAt(start + 3) === 97 &&
    text.charCodeAt(start + 4) === 58;
}

/**
 * Options of {@linkcode readServerSentEvents}.
 *
 * @example
 * ```ts
 * import { readServerSentEvents, type ReadServerSentEventsOptions } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const options: ReadServerSentEventsOptions = { idleTimeout: 1000 };
 * const body = new Response("data: 1\n\n").body!;
 * const seen: string[] = [];
 * for await (const event of readServerSentEvents(body, options)) seen.push(event.data);
 * assert.deepEqual(seen, ["1"]);
 * ```
 */
export interface ReadServerSentEventsOptions {
  /**
   * The longest wait for the next chunk in ms; longer throws what `onIdle` returns and cancels
   * the stream. @default {undefined (no limit)}
   */
  readonly idleTimeout?: number | undefined;
  /** The error to throw when `idleTimeout` passes. @default {a `RangeError`} */
  readonly onIdle?: (() => unknown) | undefined;
  /** The most characters a line or an event may hold. @default {16777216} */
  readonly maxEventSize?: number | undefined;
}

/**
 * Reads a `text/event-stream` body event by event. The bytes are decoded as a stream (a UTF-8
 * character split between chunks stays whole) and parsed by {@linkcode createSseParser}. Leaving
 * the loop early, an error, or an idle timeout cancels the body, which closes the connection.
 *
 * @param body The response body.
 * @param options Idle timeout and size cap.
 * @returns The events, in order.
 * @throws {TypeError} When `body` is not a `ReadableStream`; what the body's reader throws.
 * @throws {RangeError} When an event exceeds `maxEventSize` (and, by default, on an idle timeout).
 *
 * @example
 * ```ts
 * import { readServerSentEvents } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("data: caf\u00e9\n\n");
 * const body = new ReadableStream<Uint8Array>({
 *   start(controller) {
 *     controller.enqueue(bytes.subarray(0, 10)); // splits the two bytes of "é"
 *     controller.enqueue(bytes.subarray(10));
 *     controller.close();
 *   },
 * });
 * const seen: string[] = [];
 * for await (const event of readServerSentEvents(body)) seen.push(event.data);
 * assert.deepEqual(seen, ["caf\u00e9"]);
 * ```
 */
export async function* readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  options: ReadServerSentEventsOptions = {},
): AsyncGenerator<SseEvent, void, undefined> {
  if (typeof body !== "object" || body === null || typeof body.getReader !== "function") {
    throw new TypeError("Cannot read SSE stream: body must be a ReadableStream");
  }
  const idle = options.idleTimeout;
  if (idle !== undefined && (!Number.isFinite(idle) || idle <= 0)) {
    throw new RangeError('Cannot read SSE stream: option "idleTimeout" must be a positive number');
  }
  const queue: SseEvent[] = [];
  const parser = createSseParser((event) => queue.push(event), {
    maxEventSize: options.maxEventSize,
  });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let done = false;
  try {
    while (true) {
      const result = idle === undefined ? await reader.read() : await readWithin(reader, idle);
      if (result === undefined) {
        throw options.onIdle?.() ??
          new RangeError("Cannot read SSE stream: no data within idleTimeout");
      }
      if (result.done) {
        parser.feed(decoder.decode()); // an event with no final empty line is dropped
        done = true;
      } else {
        parser.feed(decoder.decode(result.value, { stream: true }));
      }
      for (let i = 0; i < queue.length; i++) yield queue[i]!;
      queue.length = 0;
      if (done) return;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    try {
      reader.releaseLock();
    } catch {
      // A read still pending on an old runtime: the stream is cancelled anyway.
    }
  }
}

/** `reader.read()`, or `undefined` when nothing arrives within `ms`. */
function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
): Promise<ReadableStreamReadResult<Uint8Array> | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    reader.read().then((result) => {
      clearTimeout(timer);
      resolve(result);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
