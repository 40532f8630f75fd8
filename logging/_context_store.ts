// The request context behind runWithContext(): one AsyncLocalStorage, found and created on
// first use (no top-level `node:` import, so edge bundles load this module).
import { CONTEXT_ID_KEYS, LINE_KEYS, Serializer } from "./_json.ts";

const plain = new Serializer(() => false);

/** The part of `AsyncLocalStorage` the context store uses. */
export interface ContextStorage<T> {
  getStore(): T | undefined;
  run<R>(store: T, fn: () => R): R;
}

/** A constructor of {@linkcode ContextStorage}s (`AsyncLocalStorage` or the synchronous fallback). */
export type ContextStorageConstructor = new <T>() => ContextStorage<T>;

/**
 * The degraded mode, where the runtime has no `AsyncLocalStorage`: the context holds while `fn`
 * runs synchronously and is restored when it returns, so it is not seen after an `await`
 * (never leaked into another request either).
 */
export class SyncContextStorage<T> implements ContextStorage<T> {
  #current: T | undefined;

  getStore(): T | undefined {
    return this.#current;
  }

  run<R>(store: T, fn: () => R): R {
    const outer = this.#current;
    this.#current = store;
    try {
      return fn();
    } finally {
      this.#current = outer;
    }
  }
}

interface ScopeLike {
  readonly AsyncLocalStorage?: unknown;
  readonly process?: unknown;
}

/**
 * `AsyncLocalStorage` as `scope` offers it: a global one (Vercel's edge runtime, or one the app
 * sets), else `node:async_hooks` through `process.getBuiltinModule` (Node ≥ 20.16, Deno, Bun,
 * workerd with `nodejs_compat`), else `undefined`.
 */
export function findAsyncLocalStorage(
  scope: ScopeLike = globalThis as ScopeLike,
): ContextStorageConstructor | undefined {
  if (typeof scope.AsyncLocalStorage === "function") {
    return scope.AsyncLocalStorage as ContextStorageConstructor;
  }
  const process = scope.process as { getBuiltinModule?: unknown } | undefined;
  if (typeof process !== "object" || process === null) return undefined;
  if (typeof process.getBuiltinModule !== "function") return undefined;
  try {
    const hooks = process.getBuiltinModule("node:async_hooks") as
      | { AsyncLocalStorage?: unknown }
      | undefined;
    return typeof hooks?.AsyncLocalStorage === "function"
      ? hooks.AsyncLocalStorage as ContextStorageConstructor
      : undefined;
  } catch {
    return undefined;
  }
}

let storage: ContextStorage<ContextRecord> | undefined;

/**
 * Replaces the storage (tests): `AsyncLocalStorage` as found in `scope`, else the synchronous
 * fallback. Contexts running at the time are no longer seen.
 */
export function resetContextStorage(scope?: ScopeLike): void {
  const found = findAsyncLocalStorage(scope);
  storage = found === undefined
    ? new SyncContextStorage<ContextRecord>()
    : new found<ContextRecord>();
}

/** One request context: its fields, with the parts of a log line made from them cached. */
export class ContextRecord {
  /** Every field, the outer contexts' merged with this one's. */
  readonly fields: Readonly<Record<string, unknown>>;
  // The views below are built on the first log line that needs them: a context entered by
  // middleware for a request that logs nothing (or only through the access line's own fields)
  // costs a frozen object and no more.
  #ids: string | undefined;
  #idValues: ReadonlyMap<string, unknown> | undefined;
  #extras: readonly (readonly [string, unknown])[] | undefined;
  #keys: ReadonlySet<string> | undefined;
  #chunkFor: Serializer | undefined;
  #chunk = "";
  #overlapFor: ReadonlySet<string> | undefined;
  #overlap = false;
  // This context with a source's fields over it, by the source's (stable) fields object.
  #sourced: WeakMap<object, ContextRecord> | undefined;

  constructor(fields: Record<string, unknown>) {
    this.fields = Object.freeze(fields);
  }

  /** `,"request_id":…,"trace_id":…,"span_id":…` for the ids present. */
  get ids(): string {
    if (this.#ids === undefined) this.#split();
    return this.#ids!;
  }

  /** The ids present and their values. */
  get idValues(): ReadonlyMap<string, unknown> {
    if (this.#idValues === undefined) this.#split();
    return this.#idValues!;
  }

  /** The other fields. */
  get extras(): readonly (readonly [string, unknown])[] {
    if (this.#extras === undefined) this.#split();
    return this.#extras!;
  }

  /** Every key present (ids and extras). */
  get keys(): ReadonlySet<string> {
    if (this.#keys === undefined) {
      // The ids present (not null or undefined) and every other field: what #split() keeps.
      const keys = new Set<string>();
      const fields = this.fields;
      for (const key of Object.keys(fields)) {
        const value = fields[key];
        if ((value !== undefined && value !== null) || !CONTEXT_ID_KEYS.includes(key)) {
          keys.add(key);
        }
      }
      this.#keys = keys;
    }
    return this.#keys;
  }

  #split(): void {
    const fields = this.fields;
    const idValues = new Map<string, unknown>();
    let ids = "";
    for (const key of CONTEXT_ID_KEYS) {
      const value = fields[key];
      if (value === undefined || value === null) continue;
      idValues.set(key, value);
      ids += plain.entry(key, value);
    }
    const extras: (readonly [string, unknown])[] = [];
    for (const key of Object.keys(fields)) {
      if (!idValues.has(key) && !CONTEXT_ID_KEYS.includes(key)) extras.push([key, fields[key]]);
    }
    this.#ids = ids;
    this.#idValues = idValues;
    this.#extras = extras;
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

  /**
   * This context with `extra`'s defined fields over its own, cached by `extra`'s identity: a
   * source that returns the same object for the same state costs a lookup per line.
   */
  with(extra: Readonly<Record<string, unknown>>): ContextRecord {
    let sourced = this.#sourced;
    let record = sourced?.get(extra);
    if (record !== undefined) return record;
    const merged: Record<string, unknown> = { ...this.fields };
    for (const key of Object.keys(extra)) {
      const value = extra[key];
      if (value !== undefined) merged[key] = value;
    }
    record = new ContextRecord(merged);
    sourced ??= this.#sourced = new WeakMap();
    sourced.set(extra, record);
    return record;
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

/** Gives fields of the running code's context kept outside logging, or `undefined`. */
export type ContextSourceFn = () => Readonly<Record<string, unknown>> | undefined;

let sources: readonly ContextSourceFn[] = [];
const NO_FIELDS = new ContextRecord({});

/** Adds a context source; the returned function removes it (once). */
export function addContextSource(source: ContextSourceFn): () => void {
  sources = [...sources, source];
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    const at = sources.indexOf(source);
    if (at !== -1) sources = [...sources.slice(0, at), ...sources.slice(at + 1)];
  };
}

/** The context entered with runInContext(), without the sources' fields. */
export function storedContext(): ContextRecord | undefined {
  return storage === undefined ? undefined : storage.getStore();
}

/** The context of the running code, if any: the stored one with the sources' fields over it. */
export function currentContext(): ContextRecord | undefined {
  let record = storage === undefined ? undefined : storage.getStore();
  const list = sources;
  for (let i = 0; i < list.length; i++) {
    let extra: unknown;
    try {
      extra = list[i]!();
    } catch {
      continue; // A log line never fails because a source did.
    }
    if (typeof extra === "object" && extra !== null) {
      record = (record ?? NO_FIELDS).with(extra as Readonly<Record<string, unknown>>);
    }
  }
  return record;
}

/** Runs `fn` with `record` as the current context. */
export function runInContext<T>(record: ContextRecord, fn: () => T): T {
  if (storage === undefined) resetContextStorage();
  return storage!.run(record, fn);
}
