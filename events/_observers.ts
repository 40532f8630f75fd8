// The listeners of `bus.onEvent()`: told when an event is published, handled, fails in its
// handler, or goes to the dead-letter queue. Nothing is built for them while there is none.
import type { EventObservation, EventObserver } from "./event_bus.ts";

/** The `onEvent()` listeners of one bus. */
export class EventObservers {
  #listeners: readonly EventObserver[] = [];

  /** Whether anyone listens. */
  get active(): boolean {
    return this.#listeners.length > 0;
  }

  /** Adds `listener`; the returned function removes it (once). */
  add(listener: EventObserver): () => void {
    if (typeof listener !== "function") {
      throw new TypeError("Invalid onEvent argument listener: must be a function");
    }
    this.#listeners = [...this.#listeners, listener];
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** Tells every listener; a listener that throws is ignored (it must not fail the event). */
  emit(observation: EventObservation): void {
    for (const listener of this.#listeners) {
      try {
        listener(observation);
      } catch {
        // An observer's failure is its own.
      }
    }
  }
}
