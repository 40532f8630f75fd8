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
  /** Most rows one batch reads, publishes and marks. @default {500} */
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
  /** Milliseconds published rows are kept before they are deleted. @default {3600000} */
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
  /** Batches committed. */
  readonly batches: number;
  /** Batches that failed (database or bus unavailable) and were retried after a back-off. */
  readonly errors: number;
  /** Published rows deleted after `retention`. */
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

/** Settles like `promise`, or rejects with a `TimeoutError` at `deadline` (epoch ms). */
function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new DOMException("Publishing outlasted the batch's lease", "TimeoutError")),
      Math.max(0, deadline - Date.now()),
    );
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

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
      const meta = await db.sql.listen(table, onNotify);
      listening = true;
      unlisten = meta.unlisten;
    } catch (error) {
      logger.warn("Outbox relay cannot listen; polling", { table, err: error });
    }
  };

  /** Publishes one subject's rows in order; stops at the first transient failure. */
  /** Publishes one row; resolves with a transient failure, or undefined. */
  const publishRow = async (
    row: Row,
    deadline: number,
    marked: string[],
    failed: { id: string; error: string }[],
  ): Promise<unknown> => {
    try {
      const ack = await beforeDeadline(
        bus.publish(row.subject, row.data, { id: row.event_id, headers: row.headers ?? {} }),
        deadline,
      );
      if (ack.duplicate) stats.duplicates++;
      marked.push(row.id);
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
      failed.push({ id: row.id, error: (error as Error).message.slice(0, 500) });
      return undefined;
    }
  };

  /**
   * Publishes one subject's rows in order, `window` at a time; stops after the first window
   * with a transient failure (what that window did publish is marked too).
   */
  const publishSubject = async (
    rows: readonly Row[],
    deadline: number,
    marked: string[],
    failed: { id: string; error: string }[],
  ): Promise<unknown> => {
    for (let at = 0; at < rows.length; at += window) {
      if (Date.now() > deadline) return undefined;
      const errors = window === 1
        ? [await publishRow(rows[at]!, deadline, marked, failed)]
        : await Promise.all(
          rows.slice(at, at + window).map((row) => publishRow(row, deadline, marked, failed)),
        );
      const error = errors.find((e) => e !== undefined);
      if (error !== undefined) return error;
    }
    return undefined;
  };

  /** One batch: lock partitions, read, publish, mark, commit. Resolves with rows handled. */
  const batch = async (): Promise<{ handled: number; failure: unknown }> => {
    return await db.transaction(async (sql) => {
      const start = Date.now();
      await sql`select set_config('idle_in_transaction_session_timeout', ${String(lease)}, true)`;
      const pending = await sql.unsafe(
        `select p from generate_series(0, ${PARTITIONS - 1}) p where exists (select 1 from ${table}
          where partition = p and published_at is null and failed_at is null)`,
      );
      const partitions = pending.map((r) => Number(r.p));
      for (let i = partitions.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [partitions[i], partitions[j]] = [partitions[j]!, partitions[i]!];
      }
      if (partitions.length === 0) return { handled: 0, failure: undefined };
      const locked = await sql.unsafe(
        `select p from unnest($1::int[]) with ordinality as t(p, n)
          where pg_try_advisory_xact_lock(hashtext($2), p) order by n`,
        [partitions, table],
      );
      if (locked.length === 0) return { handled: 0, failure: undefined };
      const rows = await sql.unsafe(
        `select id, event_id, subject, data, headers from ${table}
          where partition = any($1::int[]) and published_at is null and failed_at is null
          order by id limit $2`,
        [locked.map((r) => Number(r.p)), batchSize],
      ) as unknown as Row[];
      const bySubject = new Map<string, Row[]>();
      for (const row of rows) {
        const list = bySubject.get(row.subject);
        if (list === undefined) bySubject.set(row.subject, [row]);
        else list.push(row);
      }
      const groups = [...bySubject.values()];
      const marked: string[] = [];
      const failed: { id: string; error: string }[] = [];
      let failure: unknown;
      let next = 0;
      const deadline = start + lease / 2;
      const worker = async (): Promise<void> => {
        while (next < groups.length && failure === undefined) {
          const group = groups[next++]!;
          const error = await publishSubject(group, deadline, marked, failed);
          if (error !== undefined && failure === undefined) failure = error;
        }
      };
      await Promise.all(
        Array.from({ length: Math.min(concurrency, groups.length) }, worker),
      );
      if (marked.length > 0) {
        await sql.unsafe(
          `update ${table} set published_at = now() where id = any($1::bigint[])`,
          [marked],
        );
      }
      for (const row of failed) {
        await sql.unsafe(`update ${table} set failed_at = now(), error = $2 where id = $1`, [
          row.id,
          row.error,
        ]);
      }
      stats.published += marked.length;
      stats.failed += failed.length;
      stats.batches++;
      return { handled: rows.length, failure };
    });
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
        const { handled, failure } = await batch();
        if (failure !== undefined) throw failure;
        failures = 0;
        if (handled < batchSize) {
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
