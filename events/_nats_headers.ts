import { headers as natsHeaders, type Match, type MsgHdrs } from "@nats-io/nats-core";

const encoder = new TextEncoder();
const CRLF = /[\r\n]/;

/** The JetStream message id header. */
export const MSG_ID_HEADER = "Nats-Msg-Id";

/** A header value as nats-core writes it (trimmed); CR or LF would break the protocol. */
function line(value: string): string {
  if (CRLF.test(value)) throw new TypeError("Cannot write NATS header: a value contains CR or LF");
  return value.trim();
}

/**
 * The NATS headers of one event, written straight to the wire format.
 *
 * `headers().set()` of nats-core scans and copies its keys on every call and the transport then
 * joins and encodes them: for the 7 to 9 headers of an event that was the largest cost of a
 * publish. These headers are already checked (token names, no CR/LF, no duplicates), so they
 * are joined once and encoded once, and the bytes are reused by every retry. nats-core's
 * transport asks the headers of each published message for their bytes with `encode()`.
 *
 * Reading or changing them (`get`, `set`, …) goes through a real nats-core `MsgHdrs` built on
 * first use, so they behave like any other headers; a change drops the cached bytes.
 */
export class EnvelopeHeaders implements MsgHdrs {
  readonly #record: Readonly<Record<string, string>>;
  readonly #id: string;
  #bytes: Uint8Array | undefined;
  #full: MsgHdrs | undefined;

  /** `record`: checked header names and values; `id`: the JetStream message id. */
  constructor(record: Readonly<Record<string, string>>, id: string) {
    this.#record = record;
    this.#id = id;
  }

  #headers(): MsgHdrs {
    if (this.#full === undefined) {
      const h = natsHeaders();
      for (const name in this.#record) h.append(name, this.#record[name]!);
      h.set(MSG_ID_HEADER, this.#id);
      this.#full = h;
    }
    return this.#full;
  }

  #changed(): MsgHdrs {
    this.#bytes = undefined;
    return this.#headers();
  }

  /** The headers in the NATS wire format (`NATS/1.0`, one `name: value` line each). */
  toString(): string {
    if (this.#full !== undefined) return String(this.#full);
    let text = "NATS/1.0\r\n";
    for (const name in this.#record) text += `${name}: ${line(this.#record[name]!)}\r\n`;
    return `${text}${MSG_ID_HEADER}: ${line(this.#id)}\r\n\r\n`;
  }

  /** The wire format as bytes, encoded once. */
  encode(): Uint8Array {
    this.#bytes ??= encoder.encode(this.toString());
    return this.#bytes;
  }

  get hasError(): boolean {
    return this.#headers().hasError;
  }

  get status(): string {
    return this.#headers().status;
  }

  get code(): number {
    return this.#headers().code;
  }

  get description(): string {
    return this.#headers().description;
  }

  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.#headers()[Symbol.iterator]();
  }

  get(k: string, match?: Match): string {
    return this.#headers().get(k, match);
  }

  set(k: string, v: string, match?: Match): void {
    this.#changed().set(k, v, match);
  }

  append(k: string, v: string, match?: Match): void {
    this.#changed().append(k, v, match);
  }

  has(k: string, match?: Match): boolean {
    return this.#headers().has(k, match);
  }

  keys(): string[] {
    return this.#headers().keys();
  }

  values(k: string, match?: Match): string[] {
    return this.#headers().values(k, match);
  }

  delete(k: string, match?: Match): void {
    this.#changed().delete(k, match);
  }

  last(k: string, match?: Match): string {
    return this.#headers().last(k, match);
  }
}
