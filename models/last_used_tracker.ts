import type postgres from "postgres";
import type { Sql } from "./sql.ts";

/**
 * Options of {@linkcode createLastUsedTracker}.
 *
 * @example
 * ```ts
 * import type { LastUsedTrackerOptions } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const options: LastUsedTrackerOptions = { flushInterval: 30_000 };
 * assert.equal(options.flushInterval, 30_000);
 * ```
 */
export interface LastUsedTrackerOptions {
  /** How often the pending times are written, milliseconds; 0 writes only on `flush()`/`close()`. @default {60000} */
  readonly flushInterval?: number | undefined;
  /** The clock, epoch milliseconds. @default {Date.now} */
  readonly now?: (() => number) | undefined;
  /** Gets a warning when a periodic write fails (the times are kept for the next one). @default {undefined (silent)} */
  readonly logger?: { warn(message: string, fields?: Record<string, unknown>): void } | undefined;
}

/**
 * Batches `last_used_at` of API keys: {@linkcode LastUsedTracker.touch} remembers a key's
 * latest use in memory (no query), and one `UPDATE` per flush writes every touched key.
 *
 * @example
 * ```ts
 * import type { LastUsedTracker } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const size = (tracker: LastUsedTracker): number => tracker.pending;
 * assert.equal(typeof size, "function");
 * ```
 */
export interface LastUsedTracker {
  /** Records that the key with this public id authenticated a request now. */
  touch(publicId: string): void;
  /** Writes the pending times now; resolves to how many keys were written. */
  flush(): Promise<number>;
  /** How many keys wait to be written. */
  readonly pending: number;
  /** Stops the timer and writes what is pending. */
  close(): Promise<void>;
  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a {@linkcode LastUsedTracker}: `last_used_at` without a write per request. Each
 * touched key is written at most once per `flushInterval`, all of them in one statement that
 * only moves `last_used_at` forward (so replicas flushing in any order agree) and does not
 * change `updated_at`. Touch after authentication succeeded (from `c.var.auth.keyId`), not in
 * `lookupApiKey`, so a made-up secret for a real key id leaves no trace. A crash loses at most
 * one interval of times.
 *
 * @param sql A postgres.js `sql` (a pool's).
 * @param options `flushInterval`, `now`, `logger`.
 * @returns The tracker; `close()` it at shutdown.
 * @throws {RangeError} When `flushInterval` is not a non-negative finite number.
 * @throws {TypeError} When `now` is not a function.
 *
 * @example
 * ```ts
 * import { createLastUsedTracker } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const queries: string[] = [];
 * const fake = ((strings: TemplateStringsArray) => {
 *   queries.push(strings.join("?"));
 *   return Promise.resolve(Object.assign([], { count: 1 }));
 * }) as never;
 * await using tracker = createLastUsedTracker(fake, { flushInterval: 0 });
 * tracker.touch("AbC123dEf456");
 * tracker.touch("AbC123dEf456");
 * assert.equal(tracker.pending, 1);
 * assert.equal(await tracker.flush(), 1);
 * assert.equal(queries.length, 1);
 * ```
 */
export function createLastUsedTracker(
  sql: Sql,
  options: LastUsedTrackerOptions = {},
): LastUsedTracker {
  const flushInterval = options.flushInterval ?? 60_000;
  if (typeof flushInterval !== "number" || !Number.isFinite(flushInterval) || flushInterval < 0) {
    throw new RangeError(
      "Cannot create last-used tracker: flushInterval must be a non-negative number of milliseconds",
    );
  }
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new TypeError("Cannot create last-used tracker: now must be a function");
  }
  const now = options.now ?? Date.now;
  const logger = options.logger;
  let touched = new Map<string, number>();
  let closed = false;
  let running: Promise<number> | undefined;

  async function write(batch: Map<string, number>): Promise<number> {
    const rows = JSON.stringify([...batch].map(([public_id, at]) => ({ public_id, at })));
    const result = await (sql as postgres.Sql)`update api_keys k
      set last_used_at = to_timestamp(v.at / 1000.0)
      from jsonb_to_recordset(${rows}::text::jsonb) as v(public_id text, at float8)
      where k.public_id = v.public_id
        and (k.last_used_at is null or k.last_used_at < to_timestamp(v.at / 1000.0))`;
    return result.count;
  }

  async function flush(): Promise<number> {
    while (running !== undefined) await running.catch(() => 0);
    if (touched.size === 0) return 0;
    const batch = touched;
    touched = new Map();
    running = write(batch);
    try {
      return await running;
    } catch (error) {
      // Keep the times for the next flush (the newest per key wins).
      for (const [id, at] of batch) {
        const later = touched.get(id);
        if (later === undefined || later < at) touched.set(id, at);
      }
      throw error;
    } finally {
      running = undefined;
    }
  }

  const timer = flushInterval > 0
    ? setInterval(() => {
      flush().catch((error: unknown) => {
        logger?.warn("Cannot write API key last_used_at; retrying at the next flush", {
          keys: touched.size,
          error: error instanceof Error ? error.message : String(error),
        });
      });
    }, flushInterval)
    : undefined;
  (timer as { unref?: () => void } | undefined)?.unref?.();

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearInterval(timer);
    await flush();
  }

  return {
    touch(publicId: string): void {
      if (closed || typeof publicId !== "string") return;
      touched.set(publicId, now());
    },
    flush,
    get pending(): number {
      return touched.size;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
