// The request context behind runWithContext(): one AsyncLocalStorage, created on first use.
import { AsyncLocalStorage } from "node:async_hooks";
import { CONTEXT_ID_KEYS, LINE_KEYS, Serializer } from "./_json.ts";

const plain = new Serializer(() => false);
let storage: AsyncLocalStorage<ContextRecord> | undefined;

/** One request context: its fields, with the parts of a log line made from them cached. */
export class ContextRecord {
  /** Every field, the outer contexts' merged with this one's. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** `,"request_id":…,"trace_id":…,"span_id":…` for the ids present. */
  readonly ids: string;
  /** The ids present and their values. */
  readonly idValues: ReadonlyMap<string, unknown>;
  /** The other fields. */
  readonly extras: readonly (readonly [string, unknown])[];
  /** Every key present (ids and extras). */
  readonly keys: ReadonlySet<string>;
  #chunkFor: Serializer | undefined;
  #chunk = "";
  #overlapFor: ReadonlySet<string> | undefined;
  #overlap = false;

  constructor(fields: Record<string, unknown>) {
    this.fields = Object.freeze(fields);
    const idValues = new Map<string, unknown>();
    let ids = "";
    for (const key of CONTEXT_ID_KEYS) {
      const value = fields[key];
      if (value === undefined || value === null) continue;
      idValues.set(key, value);
      ids += plain.entry(key, value);
    }
    this.ids = ids;
    this.idValues = idValues;
    const extras: (readonly [string, unknown])[] = [];
    for (const key of Object.keys(fields)) {
      if (!idValues.has(key) && !CONTEXT_ID_KEYS.includes(key)) extras.push([key, fields[key]]);
    }
    this.extras = extras;
    this.keys = new Set([...idValues.keys(), ...extras.map(([key]) => key)]);
  }

  /** The ids and extras as line text, with `serializer`'s redaction; cached for the last one. */
  chunk(serializer: Serializer): string {
    if (this.#chunkFor === serializer) return this.#chunk;
    let out = this.ids;
    for (const [key, value] of this.extras) {
      out += serializer.entry(LINE_KEYS.has(key) ? `fields.${key}` : key, value);
    }
    this.#chunkFor = serializer;
    this.#chunk = out;
    return out;
  }

  /** Whether any of `keys` is also a key of this context; cached for the last set asked. */
  overlaps(keys: ReadonlySet<string>): boolean {
    if (this.#overlapFor === keys) return this.#overlap;
    let found = false;
    for (const key of keys) {
      if (this.keys.has(key)) {
        found = true;
        break;
      }
    }
    this.#overlapFor = keys;
    this.#overlap = found;
    return found;
  }
}

/** The context of the running code, if any. */
export function currentContext(): ContextRecord | undefined {
  return storage === undefined ? undefined : storage.getStore();
}

/** Runs `fn` with `record` as the current context. */
export function runInContext<T>(record: ContextRecord, fn: () => T): T {
  storage ??= new AsyncLocalStorage<ContextRecord>();
  return storage.run(record, fn);
}
