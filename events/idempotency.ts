/**
 * Where a subscription remembers the idempotency keys of events it processed. `has` and `set`
 * may be synchronous or return promises (for Redis, PostgreSQL, …). A check-then-set store does
 * not stop two deliveries of one event running at the very same time (after an `ackWait`
 * expiry); it stops every later one.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type IdempotencyStore } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const keys = new Set<string>();
 * const store: IdempotencyStore = {
 *   has: (key) => keys.has(key),
 *   set: (key) => void keys.add(key),
 * };
 * const bus = createMemoryBus();
 * let calls = 0;
 * await bus.subscribe("order.paid", () => void calls++, {
 *   durable: "shipping",
 *   idempotencyKey: (payload) => (payload as { order: string }).order,
 *   idempotencyStore: store,
 * });
 * await bus.publish("order.paid", { order: "o-1" });
 * await bus.publish("order.paid", { order: "o-1" });
 * await bus.close();
 * assert.equal(calls, 1);
 * assert.deepEqual([...keys], ["shipping:o-1"]);
 * ```
 */
export interface IdempotencyStore {
  /** Whether `key` was recorded and has not expired. */
  has(key: string): boolean | Promise<boolean>;
  /** Records `key` for `ttl` milliseconds. */
  set(key: string, ttl: number): void | Promise<void>;
}

/**
 * Options of {@linkcode createMemoryIdempotencyStore}.
 *
 * @example
 * ```ts
 * import { createMemoryIdempotencyStore, type MemoryIdempotencyStoreOptions } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const options: MemoryIdempotencyStoreOptions = { maxKeys: 2 };
 * const store = createMemoryIdempotencyStore(options);
 * store.set("a", 1000);
 * store.set("b", 1000);
 * store.set("c", 1000);
 * assert.equal(store.has("a"), false);
 * ```
 */
export interface MemoryIdempotencyStoreOptions {
  /** Most keys kept; the oldest are forgotten first. @default {100000} */
  readonly maxKeys?: number | undefined;
  /** The clock keys expire on: epoch milliseconds, like `Date.now`. @default {Date.now} */
  readonly now?: (() => number) | undefined;
}

/**
 * The in-memory {@linkcode IdempotencyStore}: synchronous, bounded, per process.
 *
 * @example
 * ```ts
 * import { createMemoryIdempotencyStore, type MemoryIdempotencyStore } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const store: MemoryIdempotencyStore = createMemoryIdempotencyStore();
 * store.set("k", 1000);
 * assert.equal(store.size, 1);
 * ```
 */
export interface MemoryIdempotencyStore extends IdempotencyStore {
  /** Whether `key` was recorded and has not expired. */
  has(key: string): boolean;
  /** Records `key` for `ttl` milliseconds. */
  set(key: string, ttl: number): void;
  /** Keys held (expired ones included until they are swept). */
  readonly size: number;
}

/**
 * Creates an in-memory idempotency store: keys expire after their ttl, and beyond `maxKeys` the
 * oldest are forgotten. It lives and dies with the process, so it deduplicates redeliveries to
 * this process only; use a shared store (a database table, Redis) across replicas.
 *
 * @param options Capacity and clock (`now`).
 * @returns A new store.
 * @throws {RangeError} When `maxKeys` is not a positive integer.
 * @throws {TypeError} When `now` is not a function.
 *
 * @example
 * ```ts
 * import { createMemoryIdempotencyStore } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * let now = 0;
 * const store = createMemoryIdempotencyStore({ now: () => now });
 * store.set("user.created:e1", 1000);
 * assert.equal(store.has("user.created:e1"), true);
 * now = 1000;
 * assert.equal(store.has("user.created:e1"), false);
 * ```
 */
export function createMemoryIdempotencyStore(
  options: MemoryIdempotencyStoreOptions = {},
): MemoryIdempotencyStore {
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new RangeError(
      "Cannot create idempotency store: maxKeys must be a positive integer",
    );
  }
  const clock = options.now ?? Date.now;
  if (typeof clock !== "function") {
    throw new TypeError("Cannot create idempotency store: now must be a function");
  }
  const expiries = new Map<string, number>();
  return {
    has(key: string): boolean {
      const expiry = expiries.get(key);
      if (expiry === undefined) return false;
      if (expiry > clock()) return true;
      expiries.delete(key);
      return false;
    },
    set(key: string, ttl: number): void {
      expiries.delete(key);
      expiries.set(key, clock() + ttl);
      if (expiries.size > maxKeys) {
        const oldest = expiries.keys().next().value;
        if (oldest !== undefined) expiries.delete(oldest);
      }
    },
    get size(): number {
      return expiries.size;
    },
  };
}
