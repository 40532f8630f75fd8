// Hand-built JSON for log lines: never throws, redacts by key, handles what JSON.stringify
// cannot (BigInt, Map, Set, typed arrays, cycles, throwing getters, lone surrogates).
import { serializeError } from "@plinth/errors";
import { DEFAULT_REDACT_KEYS, QUERY_REDACT_KEYS, REDACTED } from "./redact.ts";
import { maskUrlPasswords, secretKeyMatcher } from "./_secret_keys.ts";

/** Query parameters of URLs inside strings that are masked when no logger's keys apply. */
const isDefaultSecretParam = secretKeyMatcher([...DEFAULT_REDACT_KEYS, ...QUERY_REDACT_KEYS]);

/** Deepest nesting written; deeper objects become `"[Truncated]"`. */
export const MAX_DEPTH = 10;
/** Most array, Set, Map and typed-array items written; the rest are counted in a marker. */
export const MAX_ITEMS = 1000;
/** Most distinct keys whose JSON form is cached per serializer. */
const KEY_CACHE_SIZE = 4096;

/** Keys the logger owns on every line. */
export const LINE_KEYS: ReadonlySet<string> = new Set([
  "timestamp",
  "level",
  "service_name",
  "message",
]);
/** Keys the request context owns when it carries them. */
export const CONTEXT_ID_KEYS: readonly string[] = ["request_id", "trace_id", "span_id"];

// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** A JSON string literal for `text`: control characters and lone surrogates escaped. */
export function quote(text: string): string {
  if (text.length < 64) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) {
        return JSON.stringify(text);
      }
    }
    return `"${text}"`;
  }
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** What a serializer knows about one key. */
export interface KeyInfo {
  /** `,"key":` */
  readonly prefix: string;
  /** Whether the value is replaced by `"[REDACTED]"`. */
  readonly redacted: boolean;
  /** Whether the key is one of the line's own keys ({@linkcode LINE_KEYS}). */
  readonly reserved: boolean;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return "[Unprintable]";
  }
}

function isError(value: object): boolean {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/** Whether a redacted key's value is written anyway: booleans and null carry no secret. */
function harmless(value: unknown): boolean {
  return typeof value === "boolean" || value === null;
}

/** Serialises field values to JSON text with one logger's redaction rules. */
export class Serializer {
  readonly #isSecret: (key: string) => boolean;
  readonly #isSecretParam: (name: string) => boolean;
  readonly #keys = new Map<string, KeyInfo>();

  /**
   * `isSecret` tells which keys' values are replaced by `"[REDACTED]"`, `isSecretParam` which
   * query parameters of URLs inside strings are.
   */
  constructor(
    isSecret: (key: string) => boolean,
    isSecretParam: (name: string) => boolean = isDefaultSecretParam,
  ) {
    this.#isSecret = isSecret;
    this.#isSecretParam = isSecretParam;
  }

  /** `text` with the credentials of the URLs in it masked. */
  mask(text: string): string {
    return maskUrlPasswords(text, this.#isSecretParam);
  }

  /** The cached prefix and redaction flag of `key`. */
  key(key: string): KeyInfo {
    let info = this.#keys.get(key);
    if (info !== undefined) return info;
    info = {
      prefix: `,${quote(key)}:`,
      redacted: this.#isSecret(key),
      reserved: LINE_KEYS.has(key),
    };
    if (this.#keys.size < KEY_CACHE_SIZE) this.#keys.set(key, info);
    return info;
  }

  /** `,"key":value`, or `""` when the value is omitted (`undefined`, a function). */
  entry(key: string, value: unknown): string {
    const info = this.key(key);
    if (info.redacted && value !== undefined && !harmless(value)) {
      return `${info.prefix}"${REDACTED}"`;
    }
    const json = this.value(value, 0, undefined);
    return json === undefined ? "" : info.prefix + json;
  }

  /** The JSON text of `value`, or `undefined` when JSON would omit it. */
  value(value: unknown, depth: number, stack: unknown[] | undefined): string | undefined {
    switch (typeof value) {
      case "string":
        return quote(this.mask(value));
      case "number":
        return Number.isFinite(value) ? `${value}` : `"${value}"`;
      case "boolean":
        return value ? "true" : "false";
      case "bigint":
        return `"${value}"`;
      case "symbol":
        return quote(safeString(value));
      case "undefined":
      case "function":
        return undefined;
    }
    if (value === null) return "null";
    return this.#object(value as object, depth, stack ?? []);
  }

  #object(value: object, depth: number, stack: unknown[]): string {
    if (stack.includes(value)) return '"[Circular]"';
    if (depth >= MAX_DEPTH) return '"[Truncated]"';
    stack.push(value);
    try {
      return this.#objectBody(value, depth + 1, stack);
    } catch {
      return '"[Unserializable]"';
    } finally {
      stack.pop();
    }
  }

  #items(values: Iterable<unknown>, size: number, depth: number, stack: unknown[]): string {
    let out = "[";
    let i = 0;
    for (const item of values) {
      if (i === MAX_ITEMS) {
        out += `,"[${size - MAX_ITEMS} more]"`;
        break;
      }
      if (i > 0) out += ",";
      out += this.value(item, depth, stack) ?? "null";
      i++;
    }
    return `${out}]`;
  }

  #objectBody(value: object, depth: number, stack: unknown[]): string {
    if (Array.isArray(value)) return this.#items(value, value.length, depth, stack);
    if (isError(value)) return this.value(serializeError(value), depth, stack) ?? "null";
    if (value instanceof Date) {
      return Number.isNaN(value.getTime()) ? '"Invalid Date"' : `"${value.toISOString()}"`;
    }
    if (value instanceof Map) return this.#map(value, depth, stack);
    if (value instanceof Set) return this.#items(value, value.size, depth, stack);
    if (ArrayBuffer.isView(value)) {
      if (value instanceof DataView) return `"[DataView(${value.byteLength})]"`;
      const items = value as unknown as ArrayLike<unknown> & Iterable<unknown>;
      return this.#items(items, items.length, depth, stack);
    }
    if (value instanceof ArrayBuffer) return `"[ArrayBuffer(${value.byteLength})]"`;
    if (value instanceof RegExp) return quote(safeString(value));
    let toJSON: unknown;
    try {
      toJSON = (value as { toJSON?: unknown }).toJSON;
    } catch {
      toJSON = undefined;
    }
    if (typeof toJSON === "function") {
      const replaced: unknown = toJSON.call(value);
      if (replaced !== value) return this.value(replaced, depth, stack) ?? "null";
    }
    return this.#plain(value, depth, stack);
  }

  #map(value: Map<unknown, unknown>, depth: number, stack: unknown[]): string {
    let out = "";
    let i = 0;
    for (const [key, item] of value) {
      if (i === MAX_ITEMS) {
        out += `,"[more]":${value.size - MAX_ITEMS}`;
        break;
      }
      out += this.#member(typeof key === "string" ? key : safeString(key), item, depth, stack);
      i++;
    }
    return out === "" ? "{}" : `{${out.slice(1)}}`;
  }

  #member(key: string, item: unknown, depth: number, stack: unknown[]): string {
    const info = this.key(key);
    if (info.redacted && item !== undefined && !harmless(item)) {
      return `${info.prefix}"${REDACTED}"`;
    }
    const json = this.value(item, depth, stack);
    return json === undefined ? "" : info.prefix + json;
  }

  #plain(value: object, depth: number, stack: unknown[]): string {
    let out = "";
    for (const key of Object.keys(value)) {
      let item: unknown;
      try {
        item = (value as Record<string, unknown>)[key];
      } catch {
        item = "[Unreadable]";
      }
      out += this.#member(key, item, depth, stack);
    }
    return out === "" ? "{}" : `{${out.slice(1)}}`;
  }
}
