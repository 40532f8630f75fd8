import type { Database } from "@plinth/database";
import type { EventBus } from "@plinth/events";
import { isAppError } from "@plinth/errors";
import { getLogger } from "@plinth/logging";
import { type OutboxLag, outboxLag } from "./outbox_lag.ts";
import { OutboxError } from "./outbox_error.ts";
import { intOption, optionsObject, PARTITIONS, tableName } from "./_options.ts";

/**
 * The logger a relay writes to: any object with `debug`, `info`, `warn` and `error` methods
 * taking `(message, fields?)`, such as `@plinth/logging`'s `Logger` or `console`.
 *
 * @example
 * ```ts
 * import type { RelayLogger } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const logger: RelayLogger = console;
 * assert.equal(typeof logger.warn, "function");
 * ```
 */
export interface RelayLogger {
  /** Writes a `debug` line. */
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Writes an `info` line. */
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Writes a `warn` line; the error, when there is one, is `fields.err`. */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Writes an `error` line; the error, when there is one, is `fields.err`. */
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/**
 * Options of {@linkcode startRelay}.
 *
 * @example
 * ```ts
 * import type { RelayOptions } from "@plinth/outbox";
 * import { createMemoryBus } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus();
 * const options: Omit<RelayOptions, "db"> = { bus, batchSize: 200, idle: 500 };
 * assert.equal(options.batchSize, 200);
 * await bus.close();
 * ```
 */
export interface RelayOptions {
  /** The database holding the outbox table. */
  readonly db: Database;
  /** Where events are published (`connectEvents()`, or `createMemoryBus()` in tests and demos). */
  readonly bus: EventBus;
  /** The outbox table. @default {"plinth_outbox"} */
  readonly table?: string | undefined;
  /**
   * Most rows one read fetches. A batch publishes and marks what it read while reading the next
   * rows, and goes on for up to 250 ms (a quarter of `lease` if less) before it commits.
   * @default {500}
   */
  readonly batchSize?: number | undefined;
  /**
   * Milliseconds to wait before looking again when the outbox is empty and no `NOTIFY` arrives
   * (the polling fallback; the only wake-up on the embedded database). @default {1000}
   */
  readonly idle?: number | undefined;
  /**
   * Milliseconds one batch may hold its partitions: the batch's transaction gets this as
   * `idle_in_transaction_session_timeout`, so a relay stuck mid-batch loses its locks; publishing
   * stops at half of it (a publish still waiting then counts as failed, and the batch marks what
   * was acknowledged before). @default {30000}
   */
  readonly lease?: number | undefined;
  /** Subjects published at once within a batch. @default {32} */
  readonly concurrency?: number | undefined;
  /**
   * Publishes of one subject in flight at once. With 1, a subject's events reach the stream in
   * order even across failures. Above 1 they are sent in order and stored in order while the
   * bus is healthy, but a publish that fails (and is retried) while later ones of its subject
   * succeed lands after them: more throughput on few subjects, order only when nothing fails.
   * @default {1}
   */
  readonly window?: number | undefined;
  /**
   * Milliseconds published rows are kept before they are deleted. With 0 a batch deletes the
   * rows it published instead of marking them (much cheaper for PostgreSQL). @default {3600000}
   */
  readonly retention?: number | undefined;
  /** Most published rows one clean-up statement deletes. @default {1000} */
  readonly cleanupBatch?: number | undefined;
  /** Milliseconds before the first retry after a failed batch, doubling, ±20 % jitter. @default {500} */
  readonly retryDelay?: number | undefined;
  /** The longest wait between retries. @default {30000} */
  readonly maxRetryDelay?: number | undefined;
  /** Where problems go. @default {getLogger() of @plinth/logging} */
  readonly logger?: RelayLogger | undefined;
}

/**
 * Counters of a relay since it started, for metrics.
 *
 * @example
 * ```ts
 * import type { RelayStats } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const stats: RelayStats = { published: 0, duplicates: 0, failed: 0, batches: 0, errors: 0, deleted: 0 };
 * assert.equal(stats.errors, 0);
 * ```
 */
export interface RelayStats {
  /** Events published and marked. */
  readonly published: number;
  /** Of those, how many the stream reported as duplicates (a retry after a crash). */
  readonly duplicates: number;
  /** Events the bus refused for good, set aside with `failed_at`. */
  readonly failed: number;
  /** Reads of up to `batchSize` rows published, marked and committed. */
  readonly batches: number;
  /** Batches that failed (database or bus unavailable) and were retried after a back-off. */
  readonly errors: number;
  /** Published rows deleted: after `retention`, or as they are published when it is 0. */
  readonly deleted: number;
}

/**
 * A running relay: publishes committed outbox rows until closed.
 *
 * @example
 * ```ts
 * import type { Relay } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const check = (relay: Relay) => relay.closed;
 * assert.equal(typeof check, "function");
 * ```
 */
export interface Relay {
  /** `true` once `close()` was called. */
  readonly closed: boolean;
  /** Whether it is listening for `NOTIFY` (false on the embedded database: it polls). */
  readonly listening: boolean;
  /** Counters since start. */
  stats(): RelayStats;
  /** The outbox's lag (every relay's, read from the table). */
  lag(): Promise<OutboxLag>;
  /** Stops: finishes the batch in flight (marks what it published), then stops listening. */
  close(): Promise<void>;
  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface Row {
  id: string;
  event_id: string;
  subject: string;
  data: unknown;
  headers: Record<string, string> | null;
}

/** What publishing one read's rows did. */
interface Chunk {
  /** Ids of the rows published (acknowledged by the stream). */
  marked: string[];
  /** Ids of the rows the bus refused for good, and why (same order). */
  failed: string[];
  errors: string[];
  duplicates: number;
  /** The first transient failure: the batch stops after this read. */
  failure: unknown;
}

/** How long one batch goes on reading more rows before it commits its marks. */
const BATCH_TIME = 250;

/** How long a batch that caught up waits for a `NOTIFY` of more rows before it commits. */
const LINGER = 20;

function permanent(error: unknown): boolean {
  return isAppError(error) && error.status >= 400 && error.status < 500;
}

/**
 * Starts a relay that publishes committed outbox rows to the bus, oldest first, with the event
 * id as the JetStream message id, and marks them published in the same transaction that locked
 * them.
 *
 * Several replicas may run relays at once. Subjects hash into 16 partitions; a batch takes
 * transaction-scoped advisory locks (`pg_try_advisory_xact_lock`) on the partitions it works on,
 * so one relay at a time publishes a subject (keeping its order), and a crashed relay's locks go
 * with its connection. It wakes on `NOTIFY` (sent by {@linkcode enqueue} at commit) and polls
 * every `idle` ms. When the bus or the database fails it backs off (`retryDelay` doubling up to
 * `maxRetryDelay`), logs a warning, and never throws. An event the bus refuses for good (a 4xx
 * `EventError`, such as a payload too large) is set aside with `failed_at` and an error log.
 *
 * @param options The database, the bus and tuning.
 * @returns The running {@linkcode Relay}, once it listens.
 * @throws {TypeError} When `db` or `bus` is missing or an option has the wrong type.
 * @throws {RangeError} When a number option is out of range.
 *
 * @example
 * ```ts
 * import { connectDatabase } from "@plinth/database";
 * import { createMemoryBus } from "@plinth/events";
 * import { enqueue, migrateOutbox, startRelay } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 2 },
 * );
 * const table = `doc_relay_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
 * await migrateOutbox(db, { table });
 * await using bus = createMemoryBus({ streams: [{ name: "USAGE", subjects: ["usage.>"] }] });
 * const seen: unknown[] = [];
 * let arrived!: () => void;
 * const done = new Promise<void>((resolve) => (arrived = resolve));
 * await bus.subscribe("usage.recorded", (payload) => {
 *   seen.push(payload);
 *   arrived();
 * }, { durable: "analytics" });
 *
 * const relay = await startRelay({ db, bus, table });
 * await db.transaction((sql) => enqueue(sql, { subject: "usage.recorded", payload: { tokens: 12 } }, { table }));
 * await done;
 * await relay.close();
 * assert.deepEqual(seen, [{ tokens: 12 }]);
 * await db.sql.unsafe(`drop table ${table}`);
 * ```
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const action = "Cannot start the outbox relay";
  const o = optionsObject(options, action);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${action}: options must be an object`);
  }
  const db = o.db;
  if (typeof db !== "object" || db === null || typeof db.transaction !== "function") {
    throw new TypeError(`${action}: db must be a Database`);
  }
  const bus = o.bus;
  if (typeof bus !== "object" || bus === null || typeof bus.publish !== "function") {
    throw new TypeError(`${action}: bus must be an EventBus`);
  }
  const table = tableName(o.table, action);
  const batchSize = intOption(o.batchSize, "batchSize", action, 500, 1, 100_000);
  const idle = intOption(o.idle, "idle", action, 1000, 1, 3_600_000);
  const lease = intOption(o.lease, "lease", action, 30_000, 100, 3_600_000);
  const concurrency = intOption(o.concurrency, "concurrency", action, 32, 1, 10_000);
  const window = intOption(o.window, "window", action, 1, 1, 10_000);
  const retention = intOption(o.retention, "retention", action, 3_600_000, 0, 2 ** 31);
  const cleanupBatch = intOption(o.cleanupBatch, "cleanupBatch", action, 1000, 1, 100_000);
  const retryDelay = intOption(o.retryDelay, "retryDelay", action, 500, 1, 3_600_000);
  const maxRetryDelay = intOption(o.maxRetryDelay, "maxRetryDelay", action, 30_000, 1, 3_600_000);
  if (maxRetryDelay < retryDelay) {
    throw new RangeError(`${action}: maxRetryDelay must not be below retryDelay`);
  }
  const logger = o.logger ?? getLogger();
  if (typeof logger !== "object" || logger === null || typeof logger.warn !== "function") {
    throw new TypeError(`${action}: logger must have debug, info, warn and error methods`);
  }

  const stats = { published: 0, duplicates: 0, failed: 0, batches: 0, errors: 0, deleted: 0 };
  let closed = false;
  let listening = false;
  let unlisten: (() => Promise<void>) | undefined;
  let notified = false;
  let wake: (() => void) | undefined;
  let lastCleanup = 0;

  /** Sleeps `ms`, cut short by close() and, when `byNotify`, by a NOTIFY. */
  const pause = (ms: number, byNotify: boolean): Promise<void> => {
    if (closed || (byNotify && notified)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = () => {
        if (closed || byNotify) done();
      };
    });
  };

  const onNotify = (): void => {
    notified = true;
    wake?.();
  };

  const listen = async (): Promise<void> => {
    if (db.embedded || listening || closed) return;
    try {
      // onNotify also after each LISTEN (the first, and again after a reconnect or a replaced
      // driver): what was committed while nobody listened is read at once.
      const meta = await db.sql.listen(table, onNotify, onNotify);
      listening = true;
      unlisten = meta.unlisten;
    } catch (error) {
      logger.warn("Outbox relay cannot listen; polling", { table, err: error });
    }
  };

  /** Publishes one row; resolves with a transient failure, or undefined. */
  const publishRow = async (row: Row, late: Promise<never>, chunk: Chunk): Promise<unknown> => {
    try {
      const ack = await Promise.race([
        bus.publish(row.subject, row.data, { id: row.event_id, headers: row.headers ?? {} }),
        late,
      ]);
      if (ack.duplicate) chunk.duplicates++;
      chunk.marked.push(row.id);
      return undefined;
    } catch (error) {
      if (!permanent(error)) return error;
      const reason = new OutboxError(
        `Cannot publish outbox event: the bus refused it for good`,
        { code: "publish_rejected", cause: error },
      );
      logger.error("Outbox event set aside", {
        table,
        event_id: row.event_id,
        subject: row.subject,
        err: reason,
      });
      chunk.failed.push(row.id);
      chunk.errors.push((error as Error).message.slice(0, 500));
      return undefined;
    }
  };

  /**
   * Publishes one subject's rows in order, `window` at a time; stops after the first window
   * with a transient failure (what that window did publish is marked too).
   */
  const publishSubject = async (
    rows: readonly Row[],
    late: Promise<never>,
    chunk: Chunk,
  ): Promise<unknown> => {
    for (let at = 0; at < rows.length; at += window) {
      const errors = window === 1
        ? [await publishRow(rows[at]!, late, chunk)]
        : await Promise.all(rows.slice(at, at + window).map((row) => publishRow(row, late, chunk)));
      const error = errors.find((e) => e !== undefined);
      if (error !== undefined) return error;
    }
    return undefined;
  };

  /** Publishes the rows of one read: subjects side by side, each in order. */
  const publishChunk = async (rows: readonly Row[], late: Promise<never>): Promise<Chunk> => {
    const chunk: Chunk = { marked: [], failed: [], errors: [], duplicates: 0, failure: undefined };
    const bySubject = new Map<string, Row[]>();
    for (const row of rows) {
      const list = bySubject.get(row.subject);
      if (list === undefined) bySubject.set(row.subject, [row]);
      else list.push(row);
    }
    const groups = [...bySubject.values()];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < groups.length && chunk.failure === undefined) {
        const error = await publishSubject(groups[next++]!, late, chunk);
        if (error !== undefined && chunk.failure === undefined) chunk.failure = error;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, groups.length) }, worker));
    return chunk;
  };

  /**
   * One batch, in one transaction: lock the partitions with work, then read up to `batchSize`
   * rows, publish them and mark them, reading the next rows while publishing, for up to
   * `BATCH_TIME` ms (or until nothing is left, a publish fails or close() is called); commit.
   */
  const batch = async (): Promise<{ drained: boolean; failure: unknown }> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let tally: (() => void) | undefined;
    try {
      const result = await db.transaction(async (sql) => {
        const start = Date.now();
        const writes: Promise<unknown>[] = [];
        const write = (query: string, parameters: unknown[]): void => {
          const done = sql.unsafe(query, parameters as never[]);
          done.catch(() => {}); // awaited below; a failure aborts the transaction
          writes.push(done);
        };
        // Sent without waiting: the statements of a transaction run in order.
        write(`select set_config('idle_in_transaction_session_timeout', $1, true)`, [
          String(lease),
        ]);
        /** The partitions this batch holds (transaction-scoped advisory locks). */
        const held: number[] = [];
        // One statement per read: lock the partitions that have work and are not held yet
        // (shuffled, so that relays starting together spread; those another relay holds are
        // skipped), then read the held partitions' rows after `after` and all of the newly
        // locked ones', oldest first. Rows of a new partition are all below any later cursor,
        // since the read is ordered by id and cut at the end.
        const read = async (after: string): Promise<Row[]> => {
          const rows = await sql.unsafe(
            `with added as materialized (
              select p from (
                select p from generate_series(0, ${PARTITIONS - 1}) p
                where not (p = any($1::int[])) and exists (select 1 from ${table}
                  where partition = p and published_at is null and failed_at is null)
                order by random()
              ) c where pg_try_advisory_xact_lock(hashtext($2), p)
            )
            select id, event_id, subject, data, headers,
              (select array_agg(p) from added)::int[] as added
            from ${table}
            where ((partition = any($1::int[]) and id > $3::bigint)
                or partition in (select p from added))
              and published_at is null and failed_at is null
            order by id limit $4`,
            [[...held], table, after, batchSize],
          ) as unknown as (Row & { added: number[] | null })[];
          for (const p of rows[0]?.added ?? []) if (!held.includes(p)) held.push(p);
          return rows;
        };
        const late = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(
            () =>
              reject(new DOMException("Publishing outlasted the batch's lease", "TimeoutError")),
            Math.max(0, start + lease / 2 - Date.now()),
          );
        });
        late.catch(() => {});
        let published = 0;
        let failed = 0;
        let duplicates = 0;
        let chunks = 0;
        let drained = false;
        let failure: unknown;
        const budget = Math.min(BATCH_TIME, lease / 4);
        let cursor = "0";
        let rows = await read(cursor);
        for (;;) {
          if (rows.length === 0) {
            // Caught up. While events keep coming (a NOTIFY within LINGER ms), read them in
            // this transaction rather than paying for a new batch each time.
            if (chunks > 0 && listening && !closed && Date.now() - start < budget) {
              if (!notified) await pause(LINGER, true);
              if (notified && !closed) {
                notified = false;
                rows = await read(cursor);
                continue;
              }
            }
            drained = true;
            break;
          }
          cursor = rows[rows.length - 1]!.id;
          const more = !closed && Date.now() - start < budget;
          // Read on while publishing: the next rows after these (of the same partitions, so the
          // same subjects come after their earlier rows).
          if (more) notified = false;
          const next = more ? read(cursor) : undefined;
          next?.catch(() => {});
          const chunk = await publishChunk(rows, late);
          if (chunk.marked.length > 0) {
            // With no retention a published row goes at once: a delete costs PostgreSQL far
            // less than an update, which writes a new row version and three index entries.
            write(
              retention === 0
                ? `delete from ${table} where id = any($1::bigint[])`
                : `update ${table} set published_at = now() where id = any($1::bigint[])`,
              [chunk.marked],
            );
          }
          if (chunk.failed.length > 0) {
            write(
              `update ${table} as o set failed_at = now(), error = f.error
                from unnest($1::bigint[], $2::text[]) as f(id, error) where o.id = f.id`,
              [chunk.failed, chunk.errors],
            );
          }
          published += chunk.marked.length;
          failed += chunk.failed.length;
          duplicates += chunk.duplicates;
          chunks++;
          if (chunk.failure !== undefined) {
            failure = chunk.failure;
            break;
          }
          if (next === undefined) {
            drained = rows.length < batchSize;
            break;
          }
          rows = await next;
        }
        await Promise.all(writes);
        tally = () => {
          stats.published += published;
          stats.failed += failed;
          stats.duplicates += duplicates;
          stats.batches += chunks;
          if (retention === 0) stats.deleted += published;
        };
        return { drained, failure };
      });
      tally?.(); // counted once the transaction committed
      return result;
    } finally {
      clearTimeout(timer);
    }
  };

  const cleanup = async (): Promise<void> => {
    if (Date.now() - lastCleanup < Math.min(10_000, Math.max(retention, 1000))) return;
    lastCleanup = Date.now();
    const deleted = await db.sql.unsafe(
      `delete from ${table} where id in (select id from ${table}
        where published_at is not null and published_at < now() - make_interval(secs => $1::float8 / 1000)
        order by published_at limit $2)`,
      [retention, cleanupBatch],
    );
    stats.deleted += deleted.count;
  };

  const loop = async (): Promise<void> => {
    let failures = 0;
    while (!closed) {
      let waitFor = 0;
      let byNotify = true;
      try {
        notified = false;
        const { drained, failure } = await batch();
        if (failure !== undefined) throw failure;
        failures = 0;
        if (drained) {
          await cleanup();
          waitFor = idle;
          if (!listening) void listen();
        }
      } catch (error) {
        failures++;
        stats.errors++;
        const base = Math.min(maxRetryDelay, retryDelay * 2 ** Math.min(failures - 1, 30));
        waitFor = Math.round(base * (0.8 + Math.random() * 0.4));
        byNotify = false;
        logger.warn("Outbox relay batch failed; retrying", {
          table,
          failures,
          retry_in: waitFor,
          err: error,
        });
      }
      if (waitFor > 0) await pause(waitFor, byNotify);
    }
  };

  await listen();
  const running = loop();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      wake?.();
      await running;
      listening = false;
      const stop = unlisten;
      unlisten = undefined;
      if (stop !== undefined) await stop().catch(() => {});
    })();
    return closing;
  };
  return {
    get closed() {
      return closed;
    },
    get listening() {
      return listening;
    },
    stats: () => ({ ...stats }),
    lag: () => outboxLag(db, { table }),
    close,
    [Symbol.asyncDispose]: close,
  };
}
