import type postgres from "postgres";
import * as timers from "node:timers";
import { getContext, getLogger } from "@plinth/logging";
import type {
  CloseOptions,
  Database,
  DatabaseLogger,
  HealthOptions,
  HealthReport,
  PoolStats,
  QueryObserver,
} from "./database.ts";
import { DatabaseError } from "./database_error.ts";
import { isConnectionError } from "./_connection_codes.ts";
import {
  dispatch,
  type Driver,
  driverOf,
  type QueryInternals,
  queryText,
  shareTypes,
  stopFetchingTypes,
} from "./_driver_internals.ts";
import type { EmbeddedServer } from "./_embedded.ts";
import { Gate, type Waiter } from "./_gate.ts";
import { QueryObservers, transactionSql } from "./_observers.ts";
import { measureHealth } from "./_health.ts";
import { destroyedError, drained } from "./_close.ts";
import { retireDriver } from "./_recycle.ts";
import { backoffDelay, sleep } from "./_backoff.ts";
import { closeIdle, idleConnections, SWEEPS } from "./_idle_sweep.ts";
import { duration, type Settings } from "./_options.ts";
import type { SocketBook } from "./_sockets.ts";

/** Waits between attempts to listen again on a replacing driver. */
const RELISTEN_BACKOFF = { baseDelay: 100, maxDelay: 5_000 } as const;

/** A `sql.listen()` the pool keeps across driver replacements. */
interface Listener {
  readonly channel: string;
  readonly onnotify: (payload: string) => void;
  readonly onlisten: (() => void) | undefined;
  /** The LISTEN on `inner`, the driver it runs on. */
  meta: postgres.ListenMeta;
  inner: postgres.Sql;
  removed: boolean;
  /** Whether #relisten() runs for it. */
  relistening: boolean;
}
/** A postgres.js query with plinth's state on it, once instrumented. */
type Query = QueryInternals & { [RUN]?: QueryRun };

/** The key of plinth's state on a postgres.js query. */
const RUN: unique symbol = Symbol("plinth.run");

/**
 * What plinth keeps per query: one object, and no closure. The driver calls the query's
 * `handle`, `resolve` and `reject` as methods, so plinth's replacements are functions shared by
 * every query that find this state through `this`.
 */
class QueryRun {
  /** 0: made, 1: asked for a slot, 2: running (holding a slot), 3: settled. */
  state = 0;
  /** When it started waiting for a slot (-1: it did not wait). */
  queuedAt = -1;
  /** When it was handed to the driver (-1: not timed, the slow-query log is off). */
  startedAt = -1;
  /** The driver instance it ran on. */
  generation = 0;
  /** Its index in the pool's running queries (-1: none). */
  slot = -1;
  /** The caller's request context, for the slow-query log. */
  context: Readonly<Record<string, unknown>> | undefined = undefined;
  /** Its place in the gate's queue while it waits for a slot. */
  waiter: Waiter | undefined = undefined;
  /** The driver's own settle functions, which plinth's replace while it runs. */
  resolve: ((value: unknown) => void) | undefined = undefined;
  reject: ((error: unknown) => void) | undefined = undefined;
  readonly pool: Pool;
  readonly query: Query;

  constructor(pool: Pool, query: Query) {
    this.pool = pool;
    this.query = query;
  }
}

function isTemplate(value: unknown): value is TemplateStringsArray {
  return Array.isArray(value) &&
    Array.isArray((value as { raw?: unknown }).raw);
}

/** The pool behind {@linkcode Database}: postgres.js with a gate, a slow-query log, recycling, an idle sweep and a graceful close. */
export class Pool implements Database {
  readonly sql: postgres.Sql;
  readonly target: string;
  readonly embedded: boolean;
  /**
   * The current driver instance, in a plain object the per-query wrapper captures. With
   * `Reflect.apply(pool.#inner, …)` there instead (a private field read per query), V8 (Node
   * and Deno) promoted several megabytes of short-lived query objects per scavenge, which then
   * cost mark-compacts: the largest part of plinth's overhead in the benchmark.
   */
  readonly #driver: Driver;
  /** The dispatchers of every instance made so far. */
  #handlers = new WeakSet<object>();
  #generation = 0;
  #bornAt = performance.now();
  readonly #observers = new QueryObservers();
  #recycling = false;
  #typesKnown = false;
  #retiring = new Set<Promise<void>>();
  /**
   * The queries the driver is running, one slot each (at most `max`: each holds a slot of the
   * gate), with a stack of the free slots: cheaper per query than a Set on Bun, where adding and
   * deleting a query object costs more than the rest of plinth's wrapper.
   */
  #running: (Query | undefined)[];
  #free: number[];
  #makeInner: (fetchTypes: boolean) => postgres.Sql;
  #settings: Settings;
  #gate: Gate;
  #book: SocketBook;
  #ownsIdle: boolean;
  /** The idle sweep's timer, when plinth closes idle connections itself. */
  #sweeper: ReturnType<typeof timers.setInterval> | undefined;
  /** Gate slots the sweep holds while idle connections close. */
  #sweeping = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  #server: EmbeddedServer | undefined;
  /** What `sql.listen()` set up and was not unlistened: listened again on a replacing driver. */
  #listeners = new Set<Listener>();

  constructor(
    makeInner: (fetchTypes: boolean) => postgres.Sql,
    settings: Settings,
    target: string,
    book: SocketBook,
    ownsIdle: boolean,
    server: EmbeddedServer | undefined,
  ) {
    this.#makeInner = makeInner;
    this.#settings = settings;
    this.#book = book;
    this.#ownsIdle = ownsIdle;
    this.#driver = this.#adopt(makeInner(true));
    this.#gate = new Gate(settings.max, settings.queueTimeout);
    this.#running = Array.from({ length: settings.max }, () => undefined);
    this.#free = Array.from({ length: settings.max }, (_, i) => settings.max - 1 - i);
    this.#server = server;
    this.target = target;
    this.embedded = server !== undefined;
    this.sql = Pool.#wrap(this);
    if (ownsIdle) {
      this.#sweeper = timers.setInterval(
        () => this.#sweep(),
        Math.max(1, settings.idleTimeout / SWEEPS),
      );
      this.#sweeper.unref();
    }
  }

  get #inner(): postgres.Sql {
    return this.#driver.sql;
  }

  #logger(): DatabaseLogger {
    return this.#settings.logger ?? getLogger();
  }

  #closedError(): DatabaseError {
    return new DatabaseError(`Cannot run query on ${this.target}: the database is closed`, {
      code: "database_closed",
    });
  }

  #queueTimeoutError(): DatabaseError {
    return new DatabaseError(
      `Cannot run query on ${this.target}: no free connection within ${this.#settings.queueTimeout} ms`,
      {
        code: "database_busy",
        extensions: {
          pool: {
            open: this.#book.count,
            busy: this.#gate.busy - this.#sweeping,
            max: this.#settings.max,
          },
        },
      },
    );
  }

  /** The tagged template handed to callers: postgres.js's, with every query instrumented. */
  static #wrap(pool: Pool): postgres.Sql {
    const driver = pool.#driver;
    // `arguments` rather than rest parameters: no array unless it is a query. A tagged query is
    // made here, as the driver's `sql` makes it, so that the driver's record of where it was
    // made (four frames) ends with the caller's, which its errors' stacks then show.
    const sql = function (first: unknown): unknown {
      if (!isTemplate(first)) return Reflect.apply(driver.sql, undefined, arguments);
      const args: unknown[] = [];
      for (let i = 1; i < arguments.length; i++) args.push(arguments[i]);
      const query = new driver.Query(first, args, driver.handler, driver.cancel);
      pool.#instrument(query);
      return query;
    };
    const own: Record<string, unknown> = {
      unsafe: (...args: unknown[]): unknown => {
        const query = (pool.#inner.unsafe as (...a: unknown[]) => unknown)(
          ...args,
        );
        pool.#instrument(query as Query);
        return query;
      },
      file: (...args: unknown[]): unknown => {
        const query = (pool.#inner.file as (...a: unknown[]) => unknown)(
          ...args,
        );
        pool.#instrument(query as Query);
        return query;
      },
      // Kept by the pool, so that a listener outlives the driver it was set up on: when a lost
      // connection replaces the driver (see #recycle), it listens again on the new one.
      listen: (
        channel: string,
        onnotify: (payload: string) => void,
        onlisten?: () => void,
      ): Promise<postgres.ListenMeta> => pool.#listen(channel, onnotify, onlisten),
      // Through plinth's sql, not the driver's: in the gate like any other query. Sent at once,
      // as the driver's is, so a notify nobody awaits is not lost.
      notify: async (channel: string, payload: string): Promise<unknown> =>
        await (sql as unknown as postgres.Sql)`select pg_notify(${channel}, ${"" + payload})`,
      begin: (...args: unknown[]): Promise<unknown> => {
        const last = args.length - 1;
        if (last >= 0) args[last] = pool.#observed(args[last]);
        return pool.#hold(() =>
          (pool.#inner.begin as (...a: unknown[]) => Promise<unknown>)(...args)
        );
      },
      reserve: (): Promise<postgres.ReservedSql> => pool.#reserve(),
      // The driver's end() takes seconds; plinth's close() milliseconds.
      end: (options?: { timeout?: number }): Promise<void> =>
        pool.close(
          options?.timeout === undefined ? {} : { timeout: options.timeout * 1000 },
        ),
      close: (): Promise<void> => pool.close(),
    };
    // Everything else the driver puts on its sql (listen, subscribe, largeObject, types, array,
    // json, options, parameters, …) is read from the current instance at each use, never copied
    // from the first: after a recycle, sql.listen() must reach the instance that is running.
    const properties: PropertyDescriptorMap = {};
    for (const key of Object.keys(pool.#inner)) {
      if (key in own) continue;
      properties[key] = {
        enumerable: true,
        configurable: true,
        get: () => (pool.#inner as unknown as Record<string, unknown>)[key],
      };
    }
    for (const [key, value] of Object.entries(own)) {
      properties[key] = { enumerable: true, configurable: true, writable: true, value };
    }
    Object.defineProperties(sql, properties);
    return sql as unknown as postgres.Sql;
  }

  /** Remembers an instance's dispatcher, so queries made for it can be moved to a newer one. */
  #adopt(inner: postgres.Sql): Driver {
    if (this.#ownsIdle) this.#book.owners.add(inner.options);
    const driver = driverOf(inner);
    if (typeof driver.handler === "function") this.#handlers.add(driver.handler);
    return driver;
  }

  /**
   * Routes a postgres.js query through the gate and the slow-query timer: one state object per
   * query, no closure, no timer, no promise and no extra turn unless it has to wait for a slot.
   */
  #instrument(query: Query): void {
    if (
      typeof query?.handle !== "function" || typeof query.reject !== "function" ||
      typeof query.resolve !== "function" || typeof query.handler !== "function"
    ) return;
    query[RUN] = new QueryRun(this, query);
    query.handle = Pool.#handle;
    if (query.canceller !== null) query.canceller = Pool.#cancel;
  }

  /**
   * The query's canceller (`query.cancel()` calls it with the query). A query waiting in plinth's
   * queue leaves it at once; one not yet sent is then rejected by the driver's own `cancel`
   * (57014, as postgres.js does for a query it has not sent), which marks it so the driver will
   * not send it; a running one is cancelled on the server by the driver.
   */
  static #cancel = function (this: unknown, query: Query): unknown {
    const run = query[RUN] as QueryRun;
    const pool = run.pool;
    if (run.state === 0) run.state = 3;
    else if (
      run.state === 1 && run.waiter !== undefined && pool.#gate.withdraw(run.waiter)
    ) run.state = 3;
    // A query granted a slot but not yet dispatched keeps state 1: #run sees it is cancelled
    // and gives the slot back.
    return (pool.#driver.cancel as (q: Query) => unknown)(query);
  };

  /** The query's `handle()`: asks for a slot (the driver calls it when the query is awaited). */
  static #handle = function (this: Query): void {
    const run = this[RUN];
    if (run === undefined || run.state !== 0) return;
    run.state = 1;
    const pool = run.pool;
    if (pool.#closed) return this.reject(pool.#closedError());
    // The caller's request context, for the slow-query log: the driver settles queries from
    // its socket's callbacks, outside it.
    if (pool.#settings.slowQueryThreshold !== Infinity) run.context = getContext();
    if (pool.#gate.tryAcquire()) return pool.#run(run);
    run.queuedAt = pool.#settings.now();
    run.waiter = pool.#gate.wait(
      // A slot is freed while the driver settles a query, before that connection is idle
      // again: dispatch once the driver is done, or it would pipeline onto a busy connection.
      () => queueMicrotask(() => pool.#run(run)),
      (reason) =>
        this.reject(
          reason === "timeout" ? pool.#queueTimeoutError() : pool.#closedError(),
        ),
    );
  };

  /** Hands the query, holding a slot, to the driver; the slot is freed when the driver settles it. */
  #run(run: QueryRun): void {
    const query = run.query;
    if (query.cancelled) {
      // Cancelled while it waited for this slot: the driver would never send nor settle it.
      run.state = 3;
      this.#gate.release();
      return;
    }
    run.state = 2;
    // No clock read when the slow-query log is off.
    if (this.#settings.slowQueryThreshold !== Infinity || this.#observers.active) {
      run.startedAt = this.#settings.now();
    }
    // A query made before the driver instance was replaced (say, waiting in the queue during a
    // restart) goes to the current one, not to the retired one that refuses it.
    const handler = this.#driver.handler;
    if (query.handler !== handler && this.#handlers.has(query.handler as object)) {
      query.handler = handler;
    }
    run.generation = this.#generation;
    const slot = this.#free.pop();
    if (slot !== undefined) {
      run.slot = slot;
      this.#running[slot] = query;
    }
    // The driver settles a query through these two (no promise reaction needed to notice).
    // Replaced here, not earlier: a cursor replaces them before it executes.
    run.resolve = query.resolve;
    run.reject = query.reject;
    if (query.cursorFn === undefined) {
      query.resolve = Pool.#resolve;
      query.reject = Pool.#reject;
    } else {
      // An iterated cursor assigns both again before each batch: keep what it assigns as the
      // driver's own, so the slot is still freed when it ends.
      for (const key of ["resolve", "reject"] as const) {
        Object.defineProperty(query, key, {
          configurable: true,
          enumerable: true,
          get: () => key === "resolve" ? Pool.#resolve : Pool.#reject,
          set: (fn: (value: unknown) => void) => {
            run[key] = fn;
          },
        });
      }
    }
    // What postgres.js's own handle() does, minus its async wrapper and its `await 1`: a
    // failure to dispatch (its #1154: a TypeError from nextWrite when the server restarts with
    // queries in flight) would reject that wrapper's promise, which nobody observes. Here it
    // rejects the query instead.
    try {
      dispatch(query);
    } catch (error) {
      query.reject(error);
    }
  }

  /** The running query's `resolve()`. */
  static #resolve = function (this: Query, value: unknown): void {
    const run = this[RUN] as QueryRun;
    (run.resolve as (value: unknown) => void)(value);
    const pool = run.pool;
    if (pool.#settle(run) && !pool.#typesKnown) pool.#learnedTypes(run.generation);
  };

  /** The running query's `reject()`. */
  static #reject = function (this: Query, error: unknown): void {
    const run = this[RUN] as QueryRun;
    (run.reject as (error: unknown) => void)(error);
    const pool = run.pool;
    if (pool.#settle(run, error ?? null) && isConnectionError(error)) {
      const lost = run.generation;
      queueMicrotask(() => pool.#recycle(lost));
    }
  };

  /** Frees a settled query's slot and logs it when slow; false when it was settled already. */
  #settle(run: QueryRun, error?: unknown): boolean {
    if (run.state !== 2) return false;
    run.state = 3;
    if (run.slot >= 0) {
      this.#running[run.slot] = undefined;
      this.#free.push(run.slot);
    }
    this.#gate.release();
    if (run.startedAt >= 0) {
      const elapsed = this.#settings.now() - run.startedAt;
      if (this.#observers.active) this.#observers.emit(elapsed, error);
      if (elapsed > this.#settings.slowQueryThreshold) {
        this.#slow(
          run.query,
          elapsed,
          run.queuedAt < 0 ? 0 : run.startedAt - run.queuedAt,
          run.context,
        );
      }
    }
    return true;
  }

  /**
   * Stops the driver from reading the array types on every new connection once one has: that
   * read is a query postgres.js runs from an async function nobody awaits, so a connection lost
   * during it (a restart) would surface as an unhandled rejection. The types are shared by the
   * instance's connections and copied to the instances that replace it.
   */
  #learnedTypes(generation: number): void {
    if (generation !== this.#generation) return;
    this.#typesKnown = true;
    stopFetchingTypes(this.#inner);
  }

  #slow(
    query: Query,
    elapsed: number,
    waited: number,
    context: Readonly<Record<string, unknown>> | undefined,
  ): void {
    const fields: Record<string, unknown> = {
      duration_ms: Math.round(elapsed * 10) / 10,
      queued_ms: Math.round(waited * 10) / 10,
      query: queryText(query),
    };
    const requestId = context?.request_id;
    if (requestId !== undefined) fields.request_id = requestId;
    this.#logger().warn("Slow query", fields);
  }

  /** Runs `fn` holding one slot of the gate (a transaction or a reserved connection). */
  async #hold<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await fn();
    } finally {
      this.#gate.release();
    }
  }

  #acquire(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#gate.tryAcquire()) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.#gate.wait(
        resolve,
        (reason) =>
          reject(
            reason === "timeout" ? this.#queueTimeoutError() : this.#closedError(),
          ),
      )
    );
  }

  async #reserve(): Promise<postgres.ReservedSql> {
    await this.#acquire();
    let reserved: postgres.ReservedSql;
    try {
      reserved = await this.#inner.reserve();
    } catch (error) {
      this.#gate.release();
      throw error;
    }
    const release = reserved.release.bind(reserved);
    let released = false;
    reserved.release = (): void => {
      if (released) return;
      released = true;
      release();
      this.#gate.release();
    };
    return reserved;
  }

  async #listen(
    channel: string,
    onnotify: (payload: string) => void,
    onlisten: (() => void) | undefined,
  ): Promise<postgres.ListenMeta> {
    const inner = this.#inner;
    const meta = await inner.listen(channel, onnotify, onlisten);
    const listener: Listener = {
      channel,
      onnotify,
      onlisten,
      meta,
      inner,
      removed: false,
      relistening: false,
    };
    this.#listeners.add(listener);
    // Replaced while the LISTEN ran: the driver it ran on is being retired.
    if (inner !== this.#inner) void this.#relisten(listener);
    return {
      ...meta,
      unlisten: async (): Promise<void> => {
        if (listener.removed) return;
        listener.removed = true;
        this.#listeners.delete(listener);
        await listener.meta.unlisten();
      },
    };
  }

  /**
   * Listens again on the current driver, after the one `listener` was on was replaced; retried
   * with the jittered back-off of connecting (from 100 ms up to 5 s) while the server cannot be
   * reached, until it works,
   * the listener is removed or the pool closes. Never rejects.
   */
  async #relisten(listener: Listener): Promise<void> {
    // One loop per listener: a second replacement while it runs is seen by its condition.
    if (listener.relistening) return;
    listener.relistening = true;
    try {
      let attempt = 0;
      while (!listener.removed && !this.#closed && listener.inner !== this.#inner) {
        const inner = this.#inner;
        try {
          const meta = await inner.listen(listener.channel, listener.onnotify, listener.onlisten);
          listener.meta = meta;
          listener.inner = inner;
          if (listener.removed || this.#closed) await meta.unlisten().catch(() => {});
          attempt = 0;
        } catch (error) {
          if (listener.removed || this.#closed) return;
          const delay = backoffDelay(++attempt, RELISTEN_BACKOFF);
          this.#logger().warn("Cannot listen again after replacing the database pool; retrying", {
            target: this.target,
            channel: listener.channel,
            retry_in: delay,
            err: error,
          });
          await sleep(delay);
        }
      }
    } finally {
      listener.relistening = false;
    }
  }

  /**
   * Replaces the driver's pool after a connection failure. postgres.js can strand a connection
   * whose reconnect fails (it stays "connecting" and the queries routed to it never settle), so a
   * lost connection retires the whole driver instance: its queries still running may finish
   * within `connectTimeout`, anything stranded is rejected, and new queries go to a fresh one.
   */
  #recycle(generation: number): void {
    if (this.#closed || generation !== this.#generation || this.#recycling) {
      return;
    }
    const wait = 100 - (performance.now() - this.#bornAt);
    if (wait > 0) {
      this.#recycling = true;
      setTimeout(() => {
        this.#recycling = false;
        this.#recycle(generation);
      }, wait);
      return;
    }
    const old = this.#inner;
    // Every query running now runs on the old instance.
    const stranded = this.#running.filter((query) => query !== undefined);
    const inner = this.#makeInner(!this.#typesKnown);
    if (this.#typesKnown) shareTypes(old, inner);
    Object.assign(this.#driver, this.#adopt(inner));
    this.#generation++;
    this.#bornAt = performance.now();
    // The old driver's LISTEN connection ends with it: every listener moves to the new one.
    for (const listener of this.#listeners) void this.#relisten(listener);
    const retiring: Promise<void> = retireDriver(
      old,
      stranded,
      this.#settings.connectTimeout,
      () =>
        new DatabaseError(`Cannot run query on ${this.target}: its connection was lost`, {
          code: "connection_lost",
        }),
    ).finally(() => this.#retiring.delete(retiring));
    this.#retiring.add(retiring);
    this.#logger().warn("Lost a database connection: replacing the pool", {
      target: this.target,
    });
  }

  /**
   * Closes idle connections: plinth's replacement for the driver's idle timer, which postgres.js
   * re-arms (a clearTimeout and a setTimeout) on every query. Runs every `idleTimeout / SWEEPS`
   * and closes a connection of the current driver instance only when all of these hold:
   *
   * 1. nothing holds or waits for a slot of the gate: no query, transaction, reserved
   *    connection or cursor is in plinth's hands (they all hold a slot until they settle);
   * 2. the connection has neither sent nor received a byte for at least `idleTimeout`;
   * 3. the last bytes it received are a ReadyForQuery with status idle (not in a transaction),
   *    and it sent nothing since: the server has answered everything it was asked.
   *
   * The sweep then holds every free slot until the connections have closed (each sent
   * PostgreSQL's Terminate and ended; destroyed after `CLOSE_BOUND` ms), so no new query is
   * handed to the driver while it could still route one to a closing connection; the driver
   * sees a clean close and opens a new connection when it next needs one.
   */
  #sweep(): void {
    const book = this.#book;
    book.tick++;
    if (
      this.#closed || this.#sweeping !== 0 || this.#gate.busy !== 0 || this.#gate.queued !== 0
    ) return;
    const idle = idleConnections(book, this.#inner.options as unknown as object);
    if (idle === undefined) return;
    while (this.#gate.tryAcquire()) this.#sweeping++;
    let left = idle.length;
    const closed = (): void => {
      if (--left !== 0) return;
      const held = this.#sweeping;
      this.#sweeping = 0;
      for (let i = 0; i < held; i++) this.#gate.release();
    };
    for (const entry of idle) {
      book.tracked.delete(entry);
      closeIdle(entry, closed);
    }
    this.#logger().debug("Closed idle database connections", {
      target: this.target,
      closed: idle.length,
      idle_timeout_ms: this.#settings.idleTimeout,
    });
  }

  transaction<T>(
    fn: (sql: postgres.TransactionSql) => T | Promise<T>,
  ): Promise<T> {
    if (typeof fn !== "function") {
      return Promise.reject(
        new TypeError("Cannot run transaction: fn must be a function"),
      );
    }
    const body = this.#observed(fn);
    return this.#hold(() => this.#inner.begin(body) as Promise<T>);
  }

  /** A transaction's body whose queries reach the onQuery() listeners, when there are any. */
  #observed<F>(fn: F): F {
    if (!this.#observers.active || typeof fn !== "function") return fn;
    const observers = this.#observers;
    const now = this.#settings.now;
    return ((sql: object) => fn(transactionSql(sql, observers, now))) as F;
  }

  // async: a bad timeout rejects the returned promise instead of throwing.
  async health(options: HealthOptions = {}): Promise<HealthReport> {
    const timeout = duration("timeout", options.timeout, this.#settings.healthTimeout) ||
      this.#settings.healthTimeout;
    return await measureHealth(
      () => this.sql`select 1`,
      timeout,
      this.#settings.now,
      () => this.stats(),
    );
  }

  onQuery(listener: QueryObserver): () => void {
    return this.#observers.add(listener);
  }

  stats(): PoolStats {
    return {
      open: this.#book.count,
      busy: this.#gate.busy - this.#sweeping,
      queued: this.#gate.queued,
      max: this.#settings.max,
    };
  }

  close(options: CloseOptions = {}): Promise<void> {
    const timeout = duration("timeout", options.timeout, 10_000);
    this.#closing ??= this.#shutdown(timeout);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(timeout: number): Promise<void> {
    this.#closed = true;
    this.#listeners.clear(); // their connections end with the drivers below
    if (this.#sweeper !== undefined) timers.clearInterval(this.#sweeper);
    if (
      !(await drained(this.#gate, timeout)) &&
      (this.#gate.busy - this.#sweeping !== 0 || this.#gate.queued !== 0)
    ) {
      this.#logger().warn(
        "Closing the database: terminating queries still running",
        {
          target: this.target,
          busy: this.#gate.busy - this.#sweeping,
          queued: this.#gate.queued,
          timeout_ms: timeout,
        },
      );
      this.#gate.rejectAll("closed");
      // The driver destroys their connections below, but a query whose answer arrives first
      // would still resolve: reject every one now, with the driver's code for it.
      for (const query of this.#running) query?.reject(destroyedError(this.target));
    }
    try {
      await this.#inner.end({ timeout: 0 });
      await Promise.all([...this.#retiring]);
    } finally {
      this.#book.count = 0;
      this.#book.tracked.clear();
      await this.#server?.close();
    }
  }
}
