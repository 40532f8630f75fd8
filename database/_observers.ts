// The listeners of `db.onQuery()`: told, once per query that ran, how long it held its
// connection and whether it failed. Nothing is timed or allocated while there is none. The
// queries of a transaction, which the pool does not route (they run on the connection the
// transaction holds), are reported through `transactionSql()`.
import type { QueryObservation, QueryObserver } from "./database.ts";

/** The `onQuery()` listeners of one pool. */
export class QueryObservers {
  #listeners: readonly QueryObserver[] = [];

  /** Whether anyone listens (the pool times queries only then, or for the slow-query log). */
  get active(): boolean {
    return this.#listeners.length > 0;
  }

  /** Adds `listener`; the returned function removes it (once). */
  add(listener: QueryObserver): () => void {
    if (typeof listener !== "function") {
      throw new TypeError("Invalid onQuery argument listener: must be a function");
    }
    this.#listeners = [...this.#listeners, listener];
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** Tells every listener; a listener that throws is ignored (it must not fail the query). */
  emit(duration: number, error: unknown): void {
    const observation: QueryObservation = error === undefined
      ? { duration, ok: true }
      : { duration, ok: false, code: codeOf(error) };
    for (const listener of this.#listeners) {
      try {
        listener(observation);
      } catch {
        // An observer's failure is its own: the query has settled already.
      }
    }
  }
}

/** A postgres.js query as far as observing it goes: a promise the driver runs from `handle()`. */
interface RunnableQuery extends Promise<unknown> {
  handle(): unknown;
}

function isTemplate(value: unknown): value is TemplateStringsArray {
  return Array.isArray(value) && Array.isArray((value as { raw?: unknown }).raw);
}

/**
 * The `sql` of a transaction (or of a savepoint inside it) reporting to `observers` each query
 * it runs: timed from the moment the query is executed (awaited) to its result. A query made but
 * never run (a fragment inside another query) is not reported, nor an iterated cursor.
 */
export function transactionSql<S extends object>(
  sql: S,
  observers: QueryObservers,
  now: () => number,
): S {
  const observe = (query: unknown): unknown => {
    if (!(query instanceof Promise)) return query; // an identifier or helper, not a query
    const q = query as RunnableQuery;
    const handle = q.handle;
    if (typeof handle !== "function") return query;
    q.handle = function (this: RunnableQuery): unknown {
      q.handle = handle; // once: then(), catch() and finally() each call handle()
      const start = now();
      // Promise's own then(): no second handle() and no unhandled rejection (the caller's
      // await sees the query's outcome as before).
      Promise.prototype.then.call(
        q,
        () => observers.emit(now() - start, undefined),
        (error: unknown) => observers.emit(now() - start, error ?? null),
      );
      return Reflect.apply(handle, this, []);
    };
    return query;
  };
  const target = sql as unknown as Record<string, unknown>;
  const making = (key: string) =>
    function (this: unknown): unknown {
      return observe(Reflect.apply(target[key] as () => unknown, this, arguments));
    };
  const own: Record<string, unknown> = {
    unsafe: making("unsafe"),
    file: making("file"),
    // savepoint(fn), savepoint(name, fn) or savepoint`…`: its own sql, observed the same way.
    savepoint: (...args: unknown[]): unknown => {
      const savepoint = target.savepoint as (...a: unknown[]) => unknown;
      if (isTemplate(args[0])) {
        return savepoint((inner: object) =>
          Reflect.apply(transactionSql(inner, observers, now) as () => unknown, undefined, args)
        );
      }
      const fn = args.at(-1);
      if (typeof fn === "function") {
        args[args.length - 1] = (inner: object) => fn(transactionSql(inner, observers, now));
      }
      return Reflect.apply(savepoint, undefined, args);
    },
  };
  return new Proxy(sql, {
    apply: (fn, self, args) => observe(Reflect.apply(fn as () => unknown, self, args)),
    get: (obj, key) =>
      typeof key === "string" && Object.hasOwn(own, key) && key in obj
        ? own[key]
        : Reflect.get(obj, key),
  });
}

/** The error's `code` (a SQLSTATE such as `23505`, or plinth's own), else `"unknown"`. */
function codeOf(error: unknown): string {
  const code = typeof error === "object" && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
  return typeof code === "string" && code !== "" ? code.slice(0, 64) : "unknown";
}
