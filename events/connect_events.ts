import { nanos, type NatsConnection } from "@nats-io/nats-core";
import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy as NatsDeliverPolicy,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
  type JsMsg,
  type RetentionPolicy,
  type StorageType,
} from "@nats-io/jetstream";
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
import { createMemoryIdempotencyStore } from "./idempotency.ts";
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
import { describeError } from "./_envelope.ts";
import { InFlight } from "./_in_flight.ts";
import { type PreparedEvent, prepareEvent, PUBLISH_ACTION } from "./_prepare.ts";
import { publishAll } from "./_publish_many.ts";
import { EnvelopeHeaders } from "./_nats_headers.ts";
import { AckPublisher, type StreamAck } from "./_publisher.ts";
import { openConnection } from "./_connect.ts";
import { StreamRoutes } from "./_stream_routes.ts";

/**
 * Options of {@linkcode connectEvents}.
 *
 * @example
 * ```ts
 * import { connectEvents, type ConnectEventsOptions } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const suffix = crypto.randomUUID().slice(0, 8);
 * const options: ConnectEventsOptions = {
 *   name: "doc-example",
 *   source: "user-svc",
 *   streams: [{ name: `DOC_${suffix}`, subjects: [`doc_${suffix}.>`], storage: "memory" }],
 *   publishTimeout: 2000,
 * };
 * const bus = await connectEvents(options);
 * assert.equal((await bus.publish(`doc_${suffix}.created`, { id: 1 })).stream, `DOC_${suffix}`);
 * await bus.deleteStream(`DOC_${suffix}`);
 * await bus.close();
 * ```
 *
 * @example The servers from an environment you pass: only `NATS_URL` is read from it
 * ```ts
 * import { connectEvents } from "@plinth/events";
 * import process from "node:process";
 * import assert from "node:assert/strict";
 *
 * const bus = await connectEvents({ env: { NATS_URL: process.env["NATS_URL"] }, deadLetter: false });
 * assert.equal(bus.closed, false);
 * await bus.close();
 * ```
 */
export interface ConnectEventsOptions extends EventBusOptions {
  /** NATS server URL(s). @default {`NATS_URL` of `env`, else "127.0.0.1:4222"} */
  readonly servers?: string | readonly string[] | undefined;
  /**
   * The environment `NATS_URL` is read from when `servers` is not given; nothing else is read.
   * @default {the process environment (`process.env`), where the runtime has one}
   */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Connection name shown by the server. @default {the source} */
  readonly name?: string | undefined;
  /** An existing connection to use (e.g. a WebSocket one); `close()` then leaves it open. @default {undefined} */
  readonly connection?: NatsConnection | undefined;
  /** Milliseconds to wait for the stream's ack of one attempt. @default {5000} */
  readonly publishTimeout?: number | undefined;
  /** Retries of a publish whose ack timed out or whose server was unreachable. @default {3} */
  readonly publishRetries?: number | undefined;
  /** Milliseconds before the first retry; doubles each time, with ±20 % jitter. @default {250} */
  readonly retryDelay?: number | undefined;
  /** Milliseconds between connection attempts, at start and after a disconnect (then it reconnects forever). @default {1000} */
  readonly reconnectWait?: number | undefined;
  /**
   * Milliseconds to wait for the first connection, attempts every `reconnectWait` included;
   * then `connectEvents` rejects with a `connect_failed` {@linkcode EventError}.
   * @default {10000}
   */
  readonly connectTimeout?: number | undefined;
}

/**
 * The bus {@linkcode connectEvents} returns: an {@linkcode EventBus} plus `deleteStream`, for
 * tests and tooling that clean up what they created.
 *
 * @example
 * ```ts
 * import { connectEvents, type NatsEventBus } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const suffix = crypto.randomUUID().slice(0, 8);
 * const bus: NatsEventBus = await connectEvents({
 *   streams: [{ name: `TMP_${suffix}`, subjects: [`tmp_${suffix}.>`], storage: "memory" }],
 * });
 * assert.equal(await bus.deleteStream(`TMP_${suffix}`), true);
 * assert.equal(await bus.deleteStream(`TMP_${suffix}`), false);
 * await bus.close();
 * ```
 */
export interface NatsEventBus extends EventBus {
  /**
   * Whether the connection to NATS is up now: `false` while the client reconnects after a
   * disconnect (publishes wait, then retry) and once the bus is closed. For readiness checks.
   */
  readonly connected: boolean;
  /**
   * Deletes a stream (and its consumers); resolves `false` when it did not exist. Rejects with
   * an {@linkcode EventError}: `bus_closed` when the connection is closed, else
   * `stream_setup_failed`.
   */
  deleteStream(name: string): Promise<boolean>;
}

/** The process environment where there is one (the documented default of `env`). */
function processEnv(): Readonly<Record<string, string | undefined>> | undefined {
  try {
    return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
      ?.env;
  } catch {
    return undefined; // no permission to read the environment
  }
}

/**
 * `NATS_URL` of `env`, else the local server. A `NATS_URL` that cannot be read (Deno without
 * `--allow-env=NATS_URL`) fails: falling back to the local server would connect elsewhere unseen.
 */
function envServers(
  env: Readonly<Record<string, string | undefined>> | undefined,
  action: string,
): string {
  let url: string | undefined;
  try {
    url = env?.["NATS_URL"];
  } catch (error) {
    const name = (error as { name?: unknown } | null)?.name;
    const denied = name === "NotCapable" || name === "PermissionDenied";
    throw new EventError(
      `${action}: cannot read NATS_URL: ` +
        (denied
          ? "env permission is missing: run Deno with --allow-env=NATS_URL, or pass servers or env"
          : "reading it failed (pass servers or env)"),
      { code: "connect_failed", cause: error },
    );
  }
  return typeof url === "string" && url !== "" ? url : "127.0.0.1:4222";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const RETRYABLE = new Set([
  "TimeoutError",
  "NoResponders",
  "NoRespondersError",
  "JetStreamNotEnabled",
  "ConnectionError",
]);
const FINAL = new Set(["ClosedConnectionError", "DrainingConnectionError"]);

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "";
}

function isRetryable(error: unknown): boolean {
  const name = errorName(error);
  if (RETRYABLE.has(name)) return true;
  if (name === "RequestError") {
    const cause = (error as Error).cause;
    return !FINAL.has(errorName(cause));
  }
  if (name === "JetStreamApiError") return (error as { status?: number }).status === 503;
  return false;
}

function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  return name === "StreamNotFoundError" || name === "ConsumerNotFoundError";
}

function closedError(action: string): EventError {
  return new EventError(`${action}: the bus is closed`, { code: "bus_closed" });
}

/**
 * What a failed stream or consumer operation throws: an {@linkcode EventError} as it is,
 * `bus_closed` when the connection is closed, else `stream_setup_failed` with the client's error
 * as its cause.
 */
function setupError(error: unknown, action: string, subject: string | undefined): EventError {
  if (error instanceof EventError) return error;
  if (FINAL.has(errorName(error)) || FINAL.has(errorName((error as Error | undefined)?.cause))) {
    return new EventError(`${action}: the connection is closed`, {
      code: "bus_closed",
      subject,
      cause: error,
    });
  }
  return new EventError(`${action}: ${describeError(error)}`, {
    code: "stream_setup_failed",
    subject,
    cause: error,
  });
}

function readHeaders(msg: JsMsg): Record<string, string> {
  const record: Record<string, string> = {};
  const h = msg.headers;
  if (h === undefined) return record;
  for (const key of h.keys()) record[key.toLowerCase()] = h.get(key);
  return record;
}

function streamConfig(stream: ResolvedStream): {
  name: string;
  subjects: string[];
  storage: StorageType;
  retention: RetentionPolicy;
  max_age: number;
  num_replicas: number;
  duplicate_window: number;
} {
  return {
    name: stream.name,
    subjects: [...stream.subjects],
    storage: stream.storage as StorageType,
    retention: stream.retention as RetentionPolicy,
    max_age: nanos(stream.maxAge),
    num_replicas: stream.replicas,
    duplicate_window: nanos(stream.duplicateWindow),
  };
}

const FETCH_EXPIRES = 5000;

class NatsSubscription<T> implements Subscription {
  readonly subject: string;
  readonly durable: string;
  readonly #options: ResolvedSubscribe<T>;
  readonly #target: DispatchTarget<T>;
  readonly #inFlight = new InFlight();
  readonly #closeTimeout: number;
  readonly #onStopped: () => void;
  #active = true;
  #batch: ConsumerMessages | undefined;
  #loop: Promise<void> = Promise.resolve();
  #wake: (() => void) | undefined;
  #stopping: Promise<void> | undefined;

  constructor(
    subject: string,
    options: ResolvedSubscribe<T>,
    target: DispatchTarget<T>,
    closeTimeout: number,
    onStopped: () => void,
  ) {
    this.subject = subject;
    this.durable = options.durable;
    this.#options = options;
    this.#target = target;
    this.#closeTimeout = closeTimeout;
    this.#onStopped = onStopped;
  }

  get active(): boolean {
    return this.#active;
  }

  start(consumer: Consumer): void {
    this.#loop = this.#run(consumer);
  }

  async #run(consumer: Consumer): Promise<void> {
    const concurrency = this.#options.concurrency;
    while (this.#active) {
      const free = concurrency - this.#inFlight.size;
      if (free <= 0) {
        await this.#inFlight.waitBelow(concurrency);
        continue;
      }
      try {
        const batch = await consumer.fetch({ max_messages: free, expires: FETCH_EXPIRES });
        this.#batch = batch;
        if (!this.#active) batch.stop();
        for await (const msg of batch) this.#receive(msg);
      } catch (error) {
        if (!this.#active) break;
        this.#target.logger.warn("Cannot fetch events: will retry", {
          subject: this.subject,
          durable: this.durable,
          error: describeError(error),
        });
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, 1000);
        });
      } finally {
        this.#batch = undefined;
      }
    }
  }

  #receive(msg: JsMsg): void {
    if (!this.#active) {
      msg.nak();
      return;
    }
    const delivery: Delivery = {
      subject: msg.subject,
      headers: readHeaders(msg),
      body: msg.data,
      deliveryCount: msg.info.deliveryCount,
      stream: msg.info.stream,
      sequence: msg.info.streamSequence,
      ack: () => msg.ack(),
      nak: (delay) => msg.nak(delay),
      term: () => msg.term(),
    };
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
    this.#batch?.stop();
    this.#wake?.();
    this.#inFlight.wakeAll();
    await this.#loop;
    const left = await this.#inFlight.drain(timeout);
    if (left > 0) {
      this.#inFlight.abandon();
      this.#target.logger.warn(
        "Subscription stopped with handlers still running: their events will be redelivered",
        { subject: this.subject, durable: this.durable, running: left },
      );
    }
    this.#onStopped();
  }
}

class NatsBus implements NatsEventBus {
  readonly #nc: NatsConnection;
  readonly #owned: boolean;
  readonly #options: ResolvedBusOptions;
  readonly #publishTimeout: number;
  readonly #retries: number;
  readonly #retryDelay: number;
  readonly #js: JetStreamClient;
  readonly #acks: AckPublisher;
  readonly #routes: StreamRoutes;
  #jsm: JetStreamManager | undefined;
  readonly #subscriptions = new Set<NatsSubscription<unknown>>();
  readonly #store = createMemoryIdempotencyStore();
  readonly #observers = new EventObservers();
  #connected = true;
  #connectWaiters: (() => void)[] = [];
  #pending = 0;
  #idle: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  #status: { stop?: () => void } | undefined;

  constructor(
    nc: NatsConnection,
    owned: boolean,
    options: ResolvedBusOptions,
    settings: { publishTimeout: number; retries: number; retryDelay: number },
  ) {
    this.#nc = nc;
    this.#owned = owned;
    this.#options = options;
    this.#publishTimeout = settings.publishTimeout;
    this.#retries = settings.retries;
    this.#retryDelay = settings.retryDelay;
    this.#js = jetstream(nc, { timeout: settings.publishTimeout });
    this.#acks = new AckPublisher(nc, settings.publishTimeout);
    this.#routes = new StreamRoutes(options.streams, (subject) => this.#findStream(subject));
    this.#watch();
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  get connected(): boolean {
    return this.#connected && this.#closing === undefined && !this.#nc.isClosed();
  }

  onEvent(listener: EventObserver): () => void {
    return this.#observers.add(listener);
  }

  #watch(): void {
    const status = this.#nc.status();
    this.#status = status as { stop?: () => void };
    const logger = this.#options.logger;
    (async () => {
      for await (const s of status) {
        if (s.type === "disconnect") {
          this.#connected = false;
          logger.warn("NATS connection lost: reconnecting", { server: s.server });
        } else if (s.type === "reconnect") {
          this.#connected = true;
          const waiters = this.#connectWaiters;
          this.#connectWaiters = [];
          for (const wake of waiters) wake();
          logger.info("NATS connection restored", { server: s.server });
        } else if (s.type === "error") {
          logger.warn("NATS connection error", { error: describeError(s.error) });
        }
      }
    })().catch(() => {});
  }

  #waitConnected(timeout: number): Promise<void> {
    if (this.#connected || this.#nc.isClosed()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeout);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#connectWaiters.push(done);
    });
  }

  async #manager(): Promise<JetStreamManager> {
    this.#jsm ??= await jetstreamManager(this.#nc, { timeout: this.#publishTimeout });
    return this.#jsm;
  }

  async ensureStreams(): Promise<void> {
    for (const stream of this.#options.streams) {
      try {
        const jsm = await this.#manager();
        const config = streamConfig(stream);
        let info;
        try {
          info = await jsm.streams.info(stream.name);
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
        if (info === undefined) {
          await jsm.streams.add(config);
          this.#options.logger.info("Stream created", {
            stream: stream.name,
            subjects: config.subjects,
          });
        } else {
          const c = info.config;
          const same = c.subjects?.join(",") === config.subjects.join(",") &&
            c.max_age === config.max_age && c.duplicate_window === config.duplicate_window &&
            c.num_replicas === config.num_replicas;
          if (!same) {
            await jsm.streams.update(stream.name, {
              subjects: config.subjects,
              max_age: config.max_age,
              duplicate_window: config.duplicate_window,
              num_replicas: config.num_replicas,
            });
            this.#options.logger.info("Stream updated", { stream: stream.name });
          }
        }
      } catch (cause) {
        const hint = errorName(cause) === "JetStreamNotEnabled" ||
            errorName(cause) === "NoResponders"
          ? "JetStream is not enabled on the server"
          : describeError(cause);
        throw new EventError(`Cannot ensure stream ${stream.name}: ${hint}`, {
          code: "stream_setup_failed",
          cause,
        });
      }
    }
  }

  #checkOpen(action: string): void {
    if (this.#closing !== undefined || this.#nc.isClosed()) throw closedError(action);
  }

  #maxPayload(): number {
    return this.#nc.info?.max_payload ?? 1_048_576;
  }

  publish<T = unknown>(
    subject: string,
    payload: T,
    options?: PublishOptions<T>,
  ): Promise<PublishAck> {
    try {
      if (this.#closing !== undefined || this.#nc.isClosed()) {
        throw closedError(`${PUBLISH_ACTION} to "${subject}"`);
      }
      const event = prepareEvent(
        subject,
        payload,
        options,
        this.#options.source,
        this.#maxPayload(),
      );
      const sent = event instanceof Promise
        ? event.then((e) => this.#route(e))
        : this.#route(event);
      if (!this.#observers.active) return sent;
      return sent.then((ack) => {
        this.#observers.emit({ kind: "published", subject });
        return ack;
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Sends `event` once a stream is known to cover its subject; nothing is sent otherwise. */
  #route(event: PreparedEvent): Promise<PublishAck> {
    const lookup = this.#routes.check(event.subject);
    return lookup === undefined ? this.#send(event) : lookup.then(() => this.#send(event));
  }

  /** The stream the server reports for `subject`, or `undefined` when none covers it. */
  async #findStream(subject: string): Promise<string | undefined> {
    if (!this.#connected) await this.#waitConnected(this.#publishTimeout);
    try {
      return await (await this.#manager()).streams.find(subject);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (error instanceof EventError) throw error;
      throw this.#publishError(error, subject, "cannot look up the stream covering the subject");
    }
  }

  async #noStream(subject: string): Promise<boolean> {
    try {
      await (await this.#manager()).streams.find(subject);
      return false;
    } catch (error) {
      return isNotFound(error);
    }
  }

  /**
   * Sends with retries, all under the event's id. It counts as pending until it settles, so
   * `close()` can wait for it. The first attempt goes straight out; a failure continues in
   * {@linkcode NatsBus.#retry}, which sleeps, waits for the connection, and logs at `warn`.
   */
  #send(event: PreparedEvent, retries = this.#retries): Promise<PublishAck> {
    const headers = new EnvelopeHeaders(event.headers, event.id);
    headers.encode(); // a value with CR or LF fails here, before anything is sent
    this.#pending++;
    if (!this.#connected) return this.#retry(event, headers, retries, 0, undefined);
    return this.#acks.publish(event.subject, event.body, headers).then(
      (ack) => this.#published(event, ack, 1),
      (error: unknown) => this.#retry(event, headers, retries, 1, error),
    );
  }

  #published(event: PreparedEvent, ack: StreamAck, attempts: number): PublishAck {
    if (--this.#pending === 0) this.#idle?.();
    const logger = this.#options.logger;
    if (logger.isLevelEnabled("debug")) {
      logger.debug("Event published", {
        subject: event.subject,
        event_id: event.id,
        stream: ack.stream,
        stream_seq: ack.seq,
        duplicate: ack.duplicate,
        attempt: attempts,
      });
    }
    return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate, id: event.id };
  }

  /** Attempts `attempt` to `retries` of a send whose attempt before failed with `last`. */
  async #retry(
    event: PreparedEvent,
    headers: EnvelopeHeaders,
    retries: number,
    attempt: number,
    last: unknown,
  ): Promise<PublishAck> {
    const { subject, id } = event;
    const logger = this.#options.logger;
    let settled = false;
    try {
      for (;; attempt++) {
        if (attempt > 0) {
          if (!isRetryable(last)) throw this.#publishError(last, subject);
          if (
            (errorName(last) === "JetStreamNotEnabled" || errorName(last) === "NoResponders") &&
            await this.#noStream(subject)
          ) {
            this.#routes.forget(subject);
            throw new EventError(
              `${PUBLISH_ACTION} to "${subject}": no stream covers the subject`,
              { code: "no_stream", subject, cause: last },
            );
          }
          if (attempt > retries) break;
          logger.warn("Event publish failed: will retry", {
            subject,
            event_id: id,
            attempt,
            error: describeError(last),
          });
          await sleep(this.#retryDelay * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4));
        }
        if (!this.#connected) await this.#waitConnected(this.#publishTimeout);
        try {
          const ack = await this.#acks.publish(subject, event.body, headers);
          settled = true;
          return this.#published(event, ack, attempt + 1);
        } catch (error) {
          last = error;
        }
      }
      logger.error("Cannot publish event", {
        subject,
        event_id: id,
        attempts: retries + 1,
        err: last,
      });
      throw new EventError(
        `${PUBLISH_ACTION} to "${subject}": no acknowledgement after ${retries + 1} attempts: ${
          describeError(last)
        }`,
        { code: "event_publish_failed", subject, eventId: id, cause: last },
      );
    } finally {
      if (!settled && --this.#pending === 0) this.#idle?.();
    }
  }

  #publishError(error: unknown, subject: string, doing?: string): EventError {
    const name = errorName(error);
    const cause = errorName((error as Error | undefined)?.cause);
    if (FINAL.has(name) || FINAL.has(cause)) {
      return new EventError(`${PUBLISH_ACTION} to "${subject}": the connection is closed`, {
        code: "bus_closed",
        subject,
        cause: error,
      });
    }
    if (name === "InvalidArgumentError" && /max_payload/.test((error as Error).message)) {
      return new EventError(`${PUBLISH_ACTION} to "${subject}": payload too large`, {
        code: "payload_too_large",
        subject,
        cause: error,
      });
    }
    const what = doing === undefined ? "" : `${doing}: `;
    return new EventError(`${PUBLISH_ACTION} to "${subject}": ${what}${describeError(error)}`, {
      code: "event_publish_failed",
      subject,
      cause: error,
    });
  }

  publishMany(
    events: readonly PublishEvent[],
    options: PublishManyOptions = {},
  ): Promise<PublishResult[]> {
    return publishAll(this, events, options);
  }

  async subscribe<T = unknown>(
    subject: string,
    handler: EventHandler<T>,
    options: SubscribeOptions<T>,
  ): Promise<Subscription> {
    const action = `Cannot subscribe to "${subject}"`;
    this.#checkOpen(action);
    const resolved = resolveSubscribe(subject, handler, options, this.#store);
    let consumer: Consumer;
    try {
      const jsm = await this.#manager();
      let stream = resolved.stream;
      if (stream === undefined) {
        try {
          stream = await jsm.streams.find(subject);
        } catch (cause) {
          if (!isNotFound(cause)) throw cause;
          throw new EventError(`${action}: no stream covers the subject`, {
            code: "no_stream",
            subject,
            cause,
          });
        }
      }
      await this.#ensureConsumer(jsm, stream, subject, resolved, action);
      consumer = await this.#js.consumers.get(stream, resolved.durable);
    } catch (error) {
      throw setupError(error, action, subject);
    }
    const deadLetter = this.#options.deadLetter;
    const target: DispatchTarget<T> = {
      options: resolved,
      handler,
      logger: this.#options.logger,
      deadLetterPrefix: deadLetter?.prefix,
      observers: this.#observers,
      sendDeadLetter: async (dlqSubject, body, headers, id) => {
        const text = typeof body === "string" ? body : new TextDecoder().decode(body);
        await this.#send({ subject: dlqSubject, id, body: text, headers });
      },
    };
    const subscription: NatsSubscription<T> = new NatsSubscription(
      subject,
      resolved,
      target,
      this.#options.closeTimeout,
      () => this.#subscriptions.delete(subscription as NatsSubscription<unknown>),
    );
    this.#subscriptions.add(subscription as NatsSubscription<unknown>);
    subscription.start(consumer);
    return subscription;
  }

  async #ensureConsumer<T>(
    jsm: JetStreamManager,
    stream: string,
    subject: string,
    options: ResolvedSubscribe<T>,
    action: string,
  ): Promise<void> {
    const ackWait = nanos(options.ackWait);
    let info;
    try {
      info = await jsm.consumers.info(stream, options.durable);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      if (info === undefined) {
        await jsm.consumers.add(stream, {
          durable_name: options.durable,
          ack_policy: AckPolicy.Explicit,
          ack_wait: ackWait,
          max_deliver: -1,
          filter_subject: subject,
          deliver_policy: options.deliverPolicy === "new"
            ? NatsDeliverPolicy.New
            : NatsDeliverPolicy.All,
          max_ack_pending: Math.max(1000, options.concurrency * 4),
        });
        return;
      }
    } catch (cause) {
      throw new EventError(
        `${action}: cannot create durable ${options.durable}: ${describeError(cause)}`,
        {
          code: "stream_setup_failed",
          subject,
          cause,
        },
      );
    }
    if ((info.config.filter_subject ?? "") !== subject) {
      throw new EventError(
        `${action}: durable ${options.durable} already consumes "${
          info.config.filter_subject ?? ""
        }"`,
        { code: "durable_conflict", subject },
      );
    }
    if (info.config.ack_wait !== ackWait) {
      await jsm.consumers.update(stream, options.durable, { ack_wait: ackWait });
    }
  }

  async deleteStream(name: string): Promise<boolean> {
    const action = `Cannot delete stream ${String(name)}`;
    this.#routes.clear();
    try {
      return await (await this.#manager()).streams.delete(name);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw setupError(error, action, undefined);
    }
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
    if (this.#pending > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeout);
        this.#idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    // What still waits for an ack after the timeout fails as closed; the reply subscription ends.
    this.#acks.close();
    if (this.#nc.isClosed()) return;
    try {
      if (this.#connected) await this.#nc.flush();
    } catch {
      // Unflushed acks are redelivered after ackWait.
    }
    if (this.#owned) {
      try {
        if (this.#connected) await this.#nc.drain();
        else await this.#nc.close();
      } catch {
        await this.#nc.close().catch(() => {});
      }
    } else {
      this.#status?.stop?.();
    }
  }
}

/**
 * Connects to NATS JetStream and returns an event bus. It starts even when the server is not up
 * yet (it tries every `reconnectWait` ms, logging each failed attempt, for up to
 * `connectTimeout` ms), then reconnects forever, logs disconnects and reconnects, and creates or
 * updates the configured streams and the dead-letter stream before it resolves.
 *
 * `publish` refuses `$`-prefixed system subjects and subjects no stream covers before sending
 * anything (a subject outside the configured streams is looked up on the server once), and
 * retries a timed-out or unreachable publish with the same message id, so the stream's
 * duplicate window stores it once; `subscribe` runs a durable pull consumer.
 *
 * @param options Servers, streams, dead-letter queue, source, logger, retries, timeouts.
 * @returns The bus, once connected and the streams exist.
 * @throws {TypeError} When an option has the wrong type (before connecting).
 * @throws {RangeError} When a number is out of range (before connecting).
 * @throws {EventError} `connect_failed` when no server answered within `connectTimeout` (the
 * message names the servers as `host:port`, never credentials).
 * @throws {EventError} `stream_setup_failed` when a stream cannot be created (JetStream off, overlapping subjects).
 *
 * @example
 * ```ts
 * import { connectEvents } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const id = crypto.randomUUID().slice(0, 8);
 * const bus = await connectEvents({
 *   source: "user-svc",
 *   streams: [{ name: `USERS_${id}`, subjects: [`users_${id}.>`], storage: "memory" }],
 * });
 * const received: unknown[] = [];
 * const done = new Promise<void>((resolve) => {
 *   bus.subscribe(`users_${id}.created`, (payload) => {
 *     received.push(payload);
 *     resolve();
 *   }, { durable: "welcome-mailer" });
 * });
 * const ack = await bus.publish(`users_${id}.created`, { email: "a@example.com" });
 * await done;
 * await bus.close();
 * assert.equal(ack.duplicate, false);
 * assert.deepEqual(received, [{ email: "a@example.com" }]);
 *
 * const cleanup = await connectEvents({ deadLetter: false });
 * await cleanup.deleteStream(`USERS_${id}`);
 * await cleanup.close();
 * ```
 */
export async function connectEvents(options: ConnectEventsOptions = {}): Promise<NatsEventBus> {
  const action = "Cannot connect event bus";
  const resolved = resolveBusOptions(options, action);
  const publishTimeout = checkMillis(options.publishTimeout ?? 5000, "publishTimeout", action, 1);
  const retries = checkInt(options.publishRetries ?? 3, "publishRetries", action, 0, 100);
  const retryDelay = checkMillis(options.retryDelay ?? 250, "retryDelay", action);
  const reconnectWait = checkMillis(options.reconnectWait ?? 1000, "reconnectWait", action);
  const connectTimeout = checkMillis(options.connectTimeout ?? 10_000, "connectTimeout", action, 1);
  const name = options.name ?? resolved.source;
  if (typeof name !== "string") throw new TypeError(`${action}: name must be a string`);
  const env = options.env;
  if (env !== undefined && (typeof env !== "object" || env === null)) {
    throw new TypeError(`${action}: env must be an object of environment variables`);
  }
  let nc = options.connection;
  const owned = nc === undefined;
  if (nc === undefined) {
    const servers = options.servers ?? envServers(env ?? processEnv(), action);
    if (
      !(typeof servers === "string" && servers !== "") &&
      !(Array.isArray(servers) && servers.length > 0 &&
        servers.every((s) => typeof s === "string" && s !== ""))
    ) {
      throw new TypeError(`${action}: servers must be a non-empty string or array of strings`);
    }
    nc = await openConnection(typeof servers === "string" ? [servers] : servers, {
      name,
      connectTimeout,
      reconnectWait,
      logger: resolved.logger,
    });
  } else if (typeof nc !== "object" || nc === null || typeof nc.request !== "function") {
    throw new TypeError(`${action}: connection must be a NatsConnection`);
  }
  const bus = new NatsBus(nc, owned, resolved, { publishTimeout, retries, retryDelay });
  try {
    await bus.ensureStreams();
  } catch (error) {
    await bus.close({ timeout: 0 });
    throw error;
  }
  return bus;
}
