// The listeners of `db.onQuery()`: told, once per query that ran, how long it held its
// connection and whether it failed. Nothing is timed or allocated while there is none.
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

/** The error's `code` (a SQLSTATE such as `23505`, or plinth's own), else `"unknown"`. */
function codeOf(error: unknown): string {
  const code = typeof error === "object" && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
  return typeof code === "string" && code !== "" ? code.slice(0, 64) : "unknown";
}
