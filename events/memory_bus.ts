import { EventError } from "./errors.ts";
import type {
  CloseOptions,
  EventBus,
  EventBusOptions,
  EventHandler,
  EventObserver,
  PublishAck,
  PublishEvent,
  PublishManyOptions,
  PublishOptions,
  PublishResult,
  SubscribeOptions,
  Subscription,
} from "./event_bus.ts";
import { createMemoryIdempotencyStore, type MemoryIdempotencyStore } from "./idempotency.ts";
import {
  checkInt,
  checkMillis,
  resolveBusOptions,
  type ResolvedBusOptions,
  type ResolvedStream,
  type ResolvedSubscribe,
  resolveSubscribe,
} from "./_options.ts";
import { type Delivery, dispatch, type DispatchTarget } from "./_dispatch.ts";
import { EventObservers } from "./_observers.ts";
import { InFlight } from "./_in_flight.ts";
import { prepareEvent, PUBLISH_ACTION } from "./_prepare.ts";
import { matchSubject } from "./_subject.ts";
import { publishAll } from "./_publish_many.ts";

/**
 * Options of {@linkcode createMemoryBus}.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type MemoryBusOptions } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const options: MemoryBusOptions = { source: "demo", maxPayload: 1024 };
 * const bus = createMemoryBus(options);
 * await assert.rejects(bus.publish("big.event", "x".repeat(2000)), { code: "payload_too_large" });
 * await bus.close();
 * ```
 */
export interface MemoryBusOptions extends EventBusOptions {
  /** Largest event (headers and body) in bytes, like a server's `max_payload`. @default {1048576} */
  readonly maxPayload?: number | undefined;
  /**
   * The clock of duplicate windows, `maxAge` and the bus's own idempotency store: epoch
   * milliseconds, like `Date.now`. @default {Date.now}
   */
  readonly now?: (() => number) | undefined;
}

interface StoredEvent {
  readonly seq: number;
  readonly subject: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly time: number;
}

interface PendingEvent {
  readonly event: StoredEvent;
  deliveries: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const CATCH_ALL: ResolvedStream = Object.freeze({
  name: "EVENTS",
  subjects: Object.freeze([">"]),
  storage: "memory",
  retention: "limits",
  maxAge: 0,
  replicas: 1,
  duplicateWindow: 120_000,
});

function unref(timer: ReturnType<typeof setTimeout>): ReturnType<typeof setTimeout> {
  const t = timer as unknown as { unref?: () => void };
  if (typeof t === "object" && typeof t.unref === "function") t.unref();
  return timer;
}

class MemoryStream {
  readonly config: ResolvedStream;
  readonly events: StoredEvent[] = [];
  firstSeq = 1;
  lastSeq = 0;
  readonly ids = new Map<string, { seq: number; time: number }>();

  constructor(config: ResolvedStream) {
    this.config = config;
  }

  covers(subject: string): boolean {
    return this.config.subjects.some((pattern) => matchSubject(pattern, subject));
  }

  get(seq: number): StoredEvent | undefined {
    return this.events[seq - this.firstSeq];
  }

  store(
    subject: string,
    id: string,
    body: string,
    headers: Record<string, string>,
    now: number,
  ): PublishAck {
    for (const [key, entry] of this.ids) {
      if (entry.time + this.config.duplicateWindow > now) break;
      this.ids.delete(key);
    }
    const seen = this.ids.get(id);
    if (seen !== undefined) return { stream: this.config.name, seq: seen.seq, duplicate: true, id };
    if (this.config.maxAge > 0) {
      while (this.events.length > 0 && this.events[0]!.time + this.config.maxAge <= now) {
        this.events.shift();
        this.firstSeq++;
      }
    }
    const seq = ++this.lastSeq;
    if (this.events.length === 0) this.firstSeq = seq;
    this.events.push(
      Object.freeze({ seq, subject, body, headers: Object.freeze(headers), time: now }),
    );
    if (this.config.duplicateWindow > 0) this.ids.set(id, { seq, time: now });
    return { stream: this.config.name, seq, duplicate: false, id };
  }
}

class MemoryConsumer {
  readonly stream: MemoryStream;
  readonly durable: string;
  readonly filter: string;
  cursor: number;
  readonly pending = new Map<number, PendingEvent>();
  readonly ready: number[] = [];
  readonly subscriptions: MemorySubscription<never>[] = [];
  next = 0;
  #scheduled = false;

  constructor(stream: MemoryStream, durable: string, filter: string, fromNew: boolean) {
    this.stream = stream;
    this.durable = durable;
    this.filter = filter;
    this.cursor = fromNew ? stream.lastSeq + 1 : stream.firstSeq;
  }

  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.pump();
    });
  }

  #take(): PendingEvent | undefined {
    while (this.ready.length > 0) {
      const pending = this.pending.get(this.ready.shift()!);
      if (pending !== undefined) return pending;
    }
    if (this.cursor < this.stream.firstSeq) this.cursor = this.stream.firstSeq;
    while (this.cursor <= this.stream.lastSeq) {
      const event = this.stream.get(this.cursor++);
      if (event !== undefined && matchSubject(this.filter, event.subject)) {
        const pending: PendingEvent = { event, deliveries: 0, timer: undefined };
        this.pending.set(event.seq, pending);
        return pending;
      }
    }
    return undefined;
  }

  pump(): void {
    for (;;) {
      const count = this.subscriptions.length;
      let target: MemorySubscription<never> | undefined;
      for (let i = 0; i < count; i++) {
        const sub = this.subscriptions[(this.next + i) % count]!;
        if (sub.hasRoom()) {
          target = sub;
          this.next = (this.next + i + 1) % count;
          break;
        }
      }
      if (target === undefined) return;
      const pending = this.#take();
      if (pending === undefined) return;
      this.#deliver(pending, target);
    }
  }

  #deliver(pending: PendingEvent, target: MemorySubscription<never>): void {
    pending.deliveries++;
    const attempt = pending.deliveries;
    const seq = pending.event.seq;
    const current = (): boolean =>
      this.pending.get(seq) === pending && pending.deliveries === attempt;
    const requeue = (): void => {
      pending.timer = undefined;
      if (this.pending.get(seq) !== pending) return;
      this.ready.push(seq);
      this.schedule();
    };
    clearTimeout(pending.timer);
    pending.timer = unref(setTimeout(requeue, target.options.ackWait));
    const settle = (): void => {
      clearTimeout(pending.timer);
      pending.timer = undefined;
      this.pending.delete(seq);
      this.schedule();
    };
    const delivery: Delivery = {
      subject: pending.event.subject,
      headers: pending.event.headers,
      body: pending.event.body,
      deliveryCount: attempt,
      stream: this.stream.config.name,
      sequence: seq,
      ack: () => {
        if (this.pending.get(seq) === pending) settle();
      },
      term: () => {
        if (this.pending.get(seq) === pending) settle();
      },
      nak: (delay: number) => {
        if (!current()) return;
        clearTimeout(pending.timer);
        pending.timer = unref(setTimeout(requeue, delay));
        this.schedule();
      },
    };
    target.start(delivery);
  }

  clearTimers(): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.timer = undefined;
    }
  }
}

class MemorySubscription<T> implements Subscription {
  readonly subject: string;
  readonly durable: string;
  readonly options: ResolvedSubscribe<T>;
  readonly #consumer: MemoryConsumer;
  readonly #target: DispatchTarget<T>;
  readonly #inFlight: InFlight;
  readonly #closeTimeout: number;
  #active = true;
  #stopping: Promise<void> | undefined;

  constructor(
    consumer: MemoryConsumer,
    subject: string,
    options: ResolvedSubscribe<T>,
    target: DispatchTarget<T>,
    closeTimeout: number,
  ) {
    this.#consumer = consumer;
    this.#inFlight = new InFlight(() => consumer.schedule());
    this.subject = subject;
    this.durable = options.durable;
    this.options = options;
    this.#target = target;
    this.#closeTimeout = closeTimeout;
  }

  get active(): boolean {
    return this.#active;
  }

  hasRoom(): boolean {
    return this.#active && this.#inFlight.size < this.options.concurrency;
  }

  start(delivery: Delivery): void {
    this.#inFlight.run(delivery, (d) => dispatch(d, this.#target));
  }

  stop(options: CloseOptions = {}): Promise<void> {
    try {
      checkMillis(options.timeout ?? 0, "timeout", "Cannot stop subscription");
    } catch (error) {
      return Promise.reject(error);
    }
    this.#stopping ??= this.#stop(options.timeout ?? this.#closeTimeout);
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #stop(timeout: number): Promise<void> {
    this.#active = false;
    const list = this.#consumer.subscriptions;
    const index = list.indexOf(this as unknown as MemorySubscription<never>);
    if (index >= 0) list.splice(index, 1);
    const left = await this.#inFlight.drain(timeout);
    if (left > 0) {
      this.#inFlight.abandon();
      this.#target.logger.warn("Subscription stopped with handlers still running", {
        subject: this.subject,
        durable: this.durable,
        running: left,
      });
    }
    this.#consumer.schedule();
  }
}

class MemoryBus implements EventBus {
  readonly #options: ResolvedBusOptions;
  readonly #maxPayload: number;
  readonly #now: () => number;
  readonly #streams: MemoryStream[];
  readonly #consumers = new Map<string, MemoryConsumer>();
  readonly #subscriptions = new Set<MemorySubscription<unknown>>();
  readonly #store: MemoryIdempotencyStore;
  readonly #observers = new EventObservers();
  #closing: Promise<void> | undefined;

  constructor(options: MemoryBusOptions) {
    const action = "Cannot create memory bus";
    this.#options = resolveBusOptions(options, action);
    this.#maxPayload = checkInt(
      options.maxPayload ?? 1_048_576,
      "maxPayload",
      action,
      1,
      2 ** 31 - 1,
    );
    const clock = options.now ?? Date.now;
    if (typeof clock !== "function") throw new TypeError(`${action}: now must be a function`);
    this.#now = clock;
    this.#store = createMemoryIdempotencyStore({ now: clock });
    const configured = this.#options.streams;
    const userStreams = configured.filter((s) => s.name !== this.#options.deadLetter?.stream);
    this.#streams = configured.map((s) => new MemoryStream(s));
    if (userStreams.length === 0) this.#streams.push(new MemoryStream(CATCH_ALL));
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  onEvent(listener: EventObserver): () => void {
    return this.#observers.add(listener);
  }

  #checkOpen(action: string): void {
    if (this.#closing !== undefined) {
      throw new EventError(`${action}: the bus is closed`, { code: "bus_closed" });
    }
  }

  #streamFor(subject: string): MemoryStream | undefined {
    return this.#streams.find((s) => s.covers(subject));
  }

  #store_(subject: string, id: string, body: string, headers: Record<string, string>): PublishAck {
    const stream = this.#streamFor(subject);
    if (stream === undefined) {
      throw new EventError(`${PUBLISH_ACTION} to "${subject}": no stream covers the subject`, {
        code: "no_stream",
        subject,
      });
    }
    const ack = stream.store(subject, id, body, headers, this.#now());
    if (!ack.duplicate) {
      for (const consumer of this.#consumers.values()) {
        if (consumer.stream === stream) consumer.schedule();
      }
    }
    return ack;
  }

  async publish<T = unknown>(
    subject: string,
    payload: T,
    options?: PublishOptions<T>,
  ): Promise<PublishAck> {
    this.#checkOpen(`${PUBLISH_ACTION} to "${subject}"`);
    const event = await prepareEvent(
      subject,
      payload,
      options,
      this.#options.source,
      this.#maxPayload,
    );
    const ack = this.#store_(subject, event.id, event.body, event.headers);
    if (this.#observers.active) this.#observers.emit({ kind: "published", subject });
    const logger = this.#options.logger;
    if (logger.isLevelEnabled("debug")) {
      logger.debug("Event published", {
        subject,
        event_id: ack.id,
        stream: ack.stream,
        stream_seq: ack.seq,
        duplicate: ack.duplicate,
      });
    }
    return ack;
  }

  publishMany(
    events: readonly PublishEvent[],
    options: PublishManyOptions = {},
  ): Promise<PublishResult[]> {
    return publishAll(this, events, options);
  }

  subscribe<T = unknown>(
    subject: string,
    handler: EventHandler<T>,
    options: SubscribeOptions<T>,
  ): Promise<Subscription> {
    try {
      return Promise.resolve(this.#subscribe(subject, handler, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #subscribe<T>(
    subject: string,
    handler: EventHandler<T>,
    options: SubscribeOptions<T>,
  ): Subscription {
    this.#checkOpen(`Cannot subscribe to "${subject}"`);
    const resolved = resolveSubscribe(subject, handler, options, this.#store);
    let stream: MemoryStream | undefined;
    if (resolved.stream !== undefined) {
      stream = this.#streams.find((s) => s.config.name === resolved.stream);
    } else {
      stream = this.#streams.find((s) =>
        s.config.subjects.some((p) =>
          matchSubject(p, subject) || p === subject
        )
      ) ?? this.#streams.find((s) => s.covers(subject.replaceAll("*", "x").replace(/>$/, "x")));
    }
    if (stream === undefined) {
      throw new EventError(`Cannot subscribe to "${subject}": no stream covers the subject`, {
        code: "no_stream",
        subject,
      });
    }
    const key = `${stream.config.name}/${resolved.durable}`;
    let consumer = this.#consumers.get(key);
    if (consumer === undefined) {
      consumer = new MemoryConsumer(
        stream,
        resolved.durable,
        subject,
        resolved.deliverPolicy === "new",
      );
      this.#consumers.set(key, consumer);
    } else if (consumer.filter !== subject) {
      throw new EventError(
        `Cannot subscribe to "${subject}": durable ${resolved.durable} already consumes "${consumer.filter}"`,
        { code: "durable_conflict", subject },
      );
    }
    const deadLetter = this.#options.deadLetter;
    const target: DispatchTarget<T> = {
      options: resolved,
      handler,
      logger: this.#options.logger,
      deadLetterPrefix: deadLetter?.prefix,
      observers: this.#observers,
      sendDeadLetter: (dlqSubject, body, headers, id) => {
        this.#store_(
          dlqSubject,
          id,
          typeof body === "string" ? body : new TextDecoder().decode(body),
          headers,
        );
        return Promise.resolve();
      },
    };
    const subscription = new MemorySubscription(
      consumer,
      subject,
      resolved,
      target,
      this.#options.closeTimeout,
    );
    consumer.subscriptions.push(subscription as unknown as MemorySubscription<never>);
    this.#subscriptions.add(subscription as unknown as MemorySubscription<unknown>);
    consumer.schedule();
    return subscription;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(options: CloseOptions = {}): Promise<void> {
    try {
      checkMillis(options.timeout ?? 0, "timeout", "Cannot close event bus");
    } catch (error) {
      return Promise.reject(error);
    }
    this.#closing ??= this.#close(options.timeout ?? this.#options.closeTimeout);
    return this.#closing;
  }

  async #close(timeout: number): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.stop({ timeout })));
    for (const consumer of this.#consumers.values()) consumer.clearTimers();
  }
}

/**
 * Creates an in-process event bus with the semantics of {@linkcode connectEvents}: events are
 * stored per stream (one catch-all `EVENTS` stream unless `streams` are given), deduplicated by id
 * within the duplicate window, delivered at least once to each durable (replicas sharing a
 * durable split the work), redelivered after a throw or a `handlerTimeout` with the
 * subscription's backoff or after `ackWait`, and dead-lettered after `maxDeliver`. For unit tests and for running without NATS;
 * it keeps nothing across restarts.
 *
 * @param options Source, streams, dead-letter queue, logger, limits, clock (`now`).
 * @returns A new bus.
 * @throws {TypeError} When an option has the wrong type.
 * @throws {RangeError} When a number is out of range.
 *
 * @example
 * ```ts
 * import { createMemoryBus } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus({ source: "billing" });
 * const dead: unknown[] = [];
 * await bus.subscribe("usage.recorded", () => {
 *   throw new Error("quota service down");
 * }, { durable: "quota", maxDeliver: 2, backoff: [10] });
 * await bus.subscribe("dlq.usage.recorded", (payload, meta) => {
 *   dead.push([payload, meta.headers["dlq-error"]]);
 * }, { durable: "dlq-reader" });
 *
 * await bus.publish("usage.recorded", { tokens: 12 });
 * await new Promise((resolve) => setTimeout(resolve, 100));
 * await bus.close();
 * assert.deepEqual(dead, [[{ tokens: 12 }, "Error: quota service down"]]);
 * ```
 */
export function createMemoryBus(options: MemoryBusOptions = {}): EventBus {
  return new MemoryBus(options);
}
