import type { IdempotencyStore } from "./idempotency.ts";

/**
 * The logger a bus writes to: any object with `debug`, `info`, `warn` and `error` methods taking
 * `(message, fields?)`, such as `@plinth/logging`'s `Logger` or `console`. An error goes in the
 * fields, as `err`. `isLevelEnabled` is optional: without it, `debug` lines are always built and
 * handed to `debug()`, which may drop them.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type EventLogger } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const messages: string[] = [];
 * const logger: EventLogger = {
 *   debug: (message) => void messages.push(message),
 *   info: (message) => void messages.push(message),
 *   warn: (message) => void messages.push(message),
 *   error: (message) => void messages.push(message),
 * };
 * const bus = createMemoryBus({ logger });
 * await bus.publish("user.created", { id: "u1" });
 * await bus.close();
 * assert.deepEqual(messages, ["Event published"]);
 * ```
 */
export interface EventLogger {
  /** Writes a `debug` line. */
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Writes an `info` line. */
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Writes a `warn` line. */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Writes an `error` line; the error (any thrown value), when there is one, is `fields.err`. */
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
  /** Whether a line at `level` would be written; when absent, every level counts as enabled. */
  isLevelEnabled?(level: "debug" | "info" | "warn" | "error"): boolean;
}

/**
 * One problem a schema found: a message and the path to the offending value.
 *
 * @example
 * ```ts
 * import type { SchemaIssue } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const issue: SchemaIssue = { message: "Expected string", path: ["user", "email"] };
 * assert.equal(issue.path?.length, 2);
 * ```
 */
export interface SchemaIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where, as keys from the root. @default {undefined} */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/**
 * What a schema's `validate` returns: the (possibly transformed) value, or the issues.
 *
 * @example
 * ```ts
 * import type { SchemaResult } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const result: SchemaResult<number> = { value: 3 };
 * assert.equal("value" in result && result.value, 3);
 * ```
 */
export type SchemaResult<T> =
  | { readonly value: T; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<SchemaIssue> };

/**
 * A payload schema: anything implementing Standard Schema v1 (`~standard.validate`), such as a
 * zod 4 schema, valibot or ArkType. The payload type of a subscription is inferred from it.
 *
 * @example
 * ```ts
 * import type { EventSchema } from "@plinth/events";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const schema: EventSchema<{ id: string }> = z.object({ id: z.string() });
 * assert.deepEqual(await schema["~standard"].validate({ id: "u1" }), { value: { id: "u1" } });
 * ```
 */
export interface EventSchema<T> {
  /** The Standard Schema interface. */
  readonly "~standard": {
    /** Standard Schema version: 1. */
    readonly version: 1;
    /** The library that made the schema. */
    readonly vendor: string;
    /** Validates an unknown value. */
    validate(value: unknown): SchemaResult<T> | Promise<SchemaResult<T>>;
  };
}

/**
 * Options of `publish()`.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type PublishOptions } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus();
 * const options: PublishOptions<{ id: string }> = { id: "evt-1", headers: { tenant: "acme" } };
 * assert.equal((await bus.publish("user.created", { id: "u1" }, options)).id, "evt-1");
 * await bus.close();
 * ```
 */
export interface PublishOptions<T = unknown> {
  /**
   * The event id: CloudEvents `ce-id` and JetStream's message id, so a publish repeated with the
   * same id within the stream's duplicate window is stored once. @default {a new UUID}
   */
  readonly id?: string | undefined;
  /** Extra headers (HTTP token names; values without CR/LF; not `ce-*` or `nats-*`). @default {{}} */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Validates (and may transform) the payload before it is sent. @default {undefined} */
  readonly schema?: EventSchema<T> | undefined;
}

/**
 * The stream's acknowledgement of a stored event.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type PublishAck } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus();
 * const ack: PublishAck = await bus.publish("user.created", { id: "u1" }, { id: "e1" });
 * assert.deepEqual(ack, { stream: "EVENTS", seq: 1, duplicate: false, id: "e1" });
 * assert.equal((await bus.publish("user.created", { id: "u1" }, { id: "e1" })).duplicate, true);
 * await bus.close();
 * ```
 */
export interface PublishAck {
  /** The stream that stored the event. */
  readonly stream: string;
  /** Its sequence number in that stream. */
  readonly seq: number;
  /** `true` when the stream already had an event with this id (within its duplicate window). */
  readonly duplicate: boolean;
  /** The event id. */
  readonly id: string;
}

/**
 * One event of `publishMany()`.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type PublishEvent } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus();
 * const events: PublishEvent[] = [{ subject: "usage.recorded", payload: { tokens: 12 } }];
 * assert.equal((await bus.publishMany(events))[0]?.ok, true);
 * await bus.close();
 * ```
 */
export interface PublishEvent extends PublishOptions {
  /** The subject (also the CloudEvents type). */
  readonly subject: string;
  /** The payload, written as JSON. */
  readonly payload: unknown;
}

/**
 * The outcome of one event of `publishMany()`: its ack, or why it failed.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type PublishResult } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus();
 * const [good, bad]: PublishResult[] = await bus.publishMany([
 *   { subject: "a.b", payload: 1 },
 *   { subject: "a..b", payload: 2 },
 * ]);
 * assert.equal(good?.ok, true);
 * assert.equal(bad?.ok === false && bad.error.name, "EventError");
 * await bus.close();
 * ```
 */
export type PublishResult =
  | {
    readonly ok: true;
    readonly subject: string;
    readonly id: string;
    readonly ack: PublishAck;
  }
  | {
    readonly ok: false;
    readonly subject: string;
    readonly id: string | undefined;
    readonly error: Error;
  };

/**
 * Options of `publishMany()`.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type PublishManyOptions } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus();
 * const options: PublishManyOptions = { concurrency: 64 };
 * const results = await bus.publishMany([{ subject: "a.b", payload: 1 }], options);
 * assert.equal(results.length, 1);
 * await bus.close();
 * ```
 */
export interface PublishManyOptions {
  /** Most publishes in flight at once. @default {256} */
  readonly concurrency?: number | undefined;
}

/**
 * What a handler learns about the event besides its payload.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type EventMeta } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus({ source: "user-svc" });
 * const seen: EventMeta[] = [];
 * await bus.subscribe("user.created", (_payload, meta) => void seen.push(meta), { durable: "mailer" });
 * await bus.publish("user.created", { id: "u1" }, { id: "e1" });
 * await bus.close();
 * assert.equal(seen[0]?.id, "e1");
 * assert.equal(seen[0]?.source, "user-svc");
 * assert.equal(seen[0]?.deliveryCount, 1);
 * assert.equal(seen[0]?.signal.aborted, false);
 * ```
 */
export interface EventMeta {
  /** The event id (CloudEvents `ce-id`, JetStream message id). */
  readonly id: string;
  /** The subject it was published to. */
  readonly subject: string;
  /** The publishing service (`ce-source`). */
  readonly source: string;
  /** When it was published (`ce-time`), in epoch milliseconds; 0 when the header is unreadable. */
  readonly time: number;
  /** 1 on the first delivery, then 2, 3, … on redeliveries. */
  readonly deliveryCount: number;
  /** The stream holding it. */
  readonly stream: string;
  /** Its sequence number in the stream. */
  readonly sequence: number;
  /** Every header, names in lower case (`ce-*`, `x-request-id`, `traceparent`, your own). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Aborted when the handler runs past the subscription's `handlerTimeout` (reason: a
   * `TimeoutError` `DOMException`): pass it on to `fetch`, queries and timers so they stop too.
   */
  readonly signal: AbortSignal;
}

/**
 * A subscriber's handler: resolves when the event is processed; a throw, or running past the
 * subscription's `handlerTimeout` (`meta.signal` then aborts), asks for redelivery.
 *
 * @example
 * ```ts
 * import type { EventHandler } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const handler: EventHandler<{ id: string }> = (payload, meta) => {
 *   assert.equal(typeof payload.id, "string");
 *   assert.ok(meta.deliveryCount >= 1);
 * };
 * assert.equal(typeof handler, "function");
 * ```
 *
 * @example A handler that listens to `meta.signal`, stopped by its `handlerTimeout`
 * ```ts
 * import { createMemoryBus, type EventHandler } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus();
 * let reason: unknown;
 * let stopped!: () => void;
 * const timedOut = new Promise<void>((resolve) => (stopped = resolve));
 * const slowReport: EventHandler<unknown> = (_payload, meta) =>
 *   new Promise<void>((_resolve, reject) => {
 *     meta.signal.addEventListener("abort", () => {
 *       reason = meta.signal.reason;
 *       reject(meta.signal.reason);
 *       stopped();
 *     });
 *   });
 * await bus.subscribe("report.requested", slowReport, {
 *   durable: "reports",
 *   handlerTimeout: 50,
 *   backoff: [60_000],
 * });
 * await bus.publish("report.requested", { org: "acme" });
 * await timedOut;
 * assert.equal((reason as Error).name, "TimeoutError");
 * await bus.close();
 * ```
 */
export type EventHandler<T> = (payload: T, meta: EventMeta) => void | Promise<void>;

/**
 * Which events a new durable starts with: all the stream holds, or only those published later.
 *
 * @example
 * ```ts
 * import type { DeliverPolicy } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const policy: DeliverPolicy = "new";
 * assert.equal(policy, "new");
 * ```
 */
export type DeliverPolicy = "all" | "new";

/**
 * Options of `subscribe()`.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type SubscribeOptions } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus();
 * const options: SubscribeOptions<unknown> = {
 *   durable: "billing",
 *   concurrency: 8,
 *   maxDeliver: 3,
 *   handlerTimeout: 10_000,
 * };
 * const subscription = await bus.subscribe("usage.recorded", () => {}, options);
 * assert.equal(subscription.durable, "billing");
 * await bus.close();
 * ```
 */
export interface SubscribeOptions<T> {
  /** Durable consumer name (letters, digits, `_`, `-`); replicas sharing it split the work. */
  readonly durable: string;
  /** Handlers running at once in this process. @default {1} */
  readonly concurrency?: number | undefined;
  /** Milliseconds a delivery may stay unacknowledged before the server redelivers it. @default {30000} */
  readonly ackWait?: number | undefined;
  /** Deliveries before a failing event goes to the dead-letter queue. @default {5} */
  readonly maxDeliver?: number | undefined;
  /**
   * Milliseconds a handler may run, an asynchronous `schema` and the idempotency check of the
   * same delivery included. Past it, `meta.signal` aborts, the event is redelivered with
   * backoff (or dead-lettered on its `maxDeliver`-th delivery), a warning is logged and the
   * concurrency slot is freed; whatever the handler does later is ignored. Keep it below
   * `ackWait`, or the server redelivers the event while the handler still runs.
   * @default {ackWait minus a tenth of it, at most 1000 less (29000 for the default ackWait)}
   */
  readonly handlerTimeout?: number | undefined;
  /** Redelivery delays in milliseconds after the 1st, 2nd, … failure; the last repeats. @default {[1000, 5000, 30000]} */
  readonly backoff?: readonly number[] | undefined;
  /** Validates the payload; a violation goes to the dead-letter queue at once. @default {undefined} */
  readonly schema?: EventSchema<T> | undefined;
  /** Where a new durable starts. @default {"all"} */
  readonly deliverPolicy?: DeliverPolicy | undefined;
  /**
   * Turns on deduplication: the key of an event; an event whose key this durable already
   * processed (within `idempotencyTtl`) is acknowledged without calling the handler.
   * @default {undefined (no deduplication)}
   */
  readonly idempotencyKey?: ((payload: T, meta: EventMeta) => string) | undefined;
  /** Where processed keys are kept. @default {the bus's in-memory store} */
  readonly idempotencyStore?: IdempotencyStore | undefined;
  /** Milliseconds a processed key is remembered. @default {86400000} */
  readonly idempotencyTtl?: number | undefined;
  /** The stream to consume. @default {the stream whose subjects cover `subject`} */
  readonly stream?: string | undefined;
}

/**
 * Options of `close()` and `Subscription.stop()`.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type CloseOptions } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus();
 * const options: CloseOptions = { timeout: 5000 };
 * await bus.close(options);
 * assert.equal(bus.closed, true);
 * ```
 */
export interface CloseOptions {
  /** Milliseconds to wait for running handlers. @default {the bus's `closeTimeout`} */
  readonly timeout?: number | undefined;
}

/**
 * A running durable subscription.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type Subscription } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus();
 * const subscription: Subscription = await bus.subscribe("a.b", () => {}, { durable: "d" });
 * await subscription.stop();
 * assert.equal(subscription.active, false);
 * await bus.close();
 * ```
 */
export interface Subscription {
  /** The subject (may hold wildcards). */
  readonly subject: string;
  /** The durable consumer name. */
  readonly durable: string;
  /** `false` once stopped. */
  readonly active: boolean;
  /**
   * Stops fetching, waits for running handlers (up to the timeout) and acknowledges those that
   * finished. Events not started stay in the durable for the next start. Safe to call twice.
   */
  stop(options?: CloseOptions): Promise<void>;
  /** Stops the subscription as `stop()` does with its default timeout, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * How a stream is stored.
 *
 * @example
 * ```ts
 * import type { StreamStorage } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const storage: StreamStorage = "memory";
 * assert.equal(storage, "memory");
 * ```
 */
export type StreamStorage = "file" | "memory";

/**
 * When a stream drops events: by limits, once every consumer acked (interest), or once one did (workqueue).
 *
 * @example
 * ```ts
 * import type { StreamRetention } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const retention: StreamRetention = "interest";
 * assert.equal(retention, "interest");
 * ```
 */
export type StreamRetention = "limits" | "interest" | "workqueue";

/**
 * A stream the bus creates (or updates) when it starts.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type StreamOptions } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const users: StreamOptions = { name: "USERS", subjects: ["user.>"], maxAge: 7 * 86_400_000 };
 * const bus = createMemoryBus({ streams: [users] });
 * assert.equal((await bus.publish("user.created", {})).stream, "USERS");
 * await bus.close();
 * ```
 */
export interface StreamOptions {
  /** Stream name (letters, digits, `_`, `-`). */
  readonly name: string;
  /** Subjects it stores (wildcards allowed). */
  readonly subjects: readonly string[];
  /** Storage. @default {"file"} */
  readonly storage?: StreamStorage | undefined;
  /** Retention policy. @default {"limits"} */
  readonly retention?: StreamRetention | undefined;
  /** Milliseconds an event is kept; 0 keeps it until other limits drop it. @default {0} */
  readonly maxAge?: number | undefined;
  /** Copies kept in a cluster. @default {1} */
  readonly replicas?: number | undefined;
  /** Milliseconds within which a repeated event id is stored once. @default {120000} */
  readonly duplicateWindow?: number | undefined;
}

/**
 * Where failed events go: a stream storing `<prefix>.<subject>`.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type DeadLetterOptions } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const deadLetter: DeadLetterOptions = { stream: "FAILED", prefix: "failed" };
 * const bus = createMemoryBus({ deadLetter });
 * assert.equal((await bus.publish("failed.user.created", {})).stream, "FAILED");
 * await bus.close();
 * ```
 */
export interface DeadLetterOptions {
  /** Stream name. @default {"DLQ"} */
  readonly stream?: string | undefined;
  /** Subject prefix: an event of `user.created` goes to `<prefix>.user.created`. @default {"dlq"} */
  readonly prefix?: string | undefined;
  /** Milliseconds a dead letter is kept; 0 keeps it until deleted. @default {0} */
  readonly maxAge?: number | undefined;
  /** Storage. @default {"file"} */
  readonly storage?: StreamStorage | undefined;
}

/**
 * Options both {@linkcode EventBus} implementations take.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type EventBusOptions } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const options: EventBusOptions = { source: "billing", closeTimeout: 5000 };
 * const bus = createMemoryBus(options);
 * assert.equal(bus.closed, false);
 * await bus.close();
 * ```
 */
export interface EventBusOptions {
  /** This service, the CloudEvents `ce-source` of what it publishes. @default {"unknown_service"} */
  readonly source?: string | undefined;
  /** Streams ensured at start. @default {[]} */
  readonly streams?: readonly StreamOptions[] | undefined;
  /** The dead-letter stream (ensured at start), or `false` to drop failed events with an error log. @default {{ stream: "DLQ", prefix: "dlq" }} */
  readonly deadLetter?: DeadLetterOptions | false | undefined;
  /**
   * Logger for events (`debug`) and failures (`warn`/`error`): any object with `debug`, `info`,
   * `warn` and `error` methods taking `(message, fields)`; an error is `fields.err`.
   * @default {the default logger of @plinth/logging}
   */
  readonly logger?: EventLogger | undefined;
  /** Milliseconds `close()` waits for running handlers. @default {10000} */
  readonly closeTimeout?: number | undefined;
}

/**
 * What `bus.onEvent()` listeners are told: an event `published` (the stream acked it), a
 * delivery `handled` or `failed` by its handler (`duration` in milliseconds, validation and
 * idempotency check included; `timed_out` when `handlerTimeout` struck), or an event
 * `dead_lettered` (with the `dlq-reason`, also when no dead-letter queue is configured and it
 * is dropped).
 *
 * @example
 * ```ts
 * import type { EventObservation } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const seen: EventObservation = {
 *   kind: "handled",
 *   subject: "org.created",
 *   durable: "audit",
 *   duration: 3.2,
 * };
 * assert.equal(seen.kind, "handled");
 * ```
 */
export type EventObservation =
  | { readonly kind: "published"; readonly subject: string }
  | {
    readonly kind: "handled";
    readonly subject: string;
    readonly durable: string;
    readonly duration: number;
  }
  | {
    readonly kind: "failed";
    readonly subject: string;
    readonly durable: string;
    readonly duration: number;
    readonly timedOut: boolean;
  }
  | {
    readonly kind: "dead_lettered";
    readonly subject: string;
    readonly durable: string;
    readonly reason: string;
  };

/**
 * A `bus.onEvent()` listener. It runs synchronously on the publish and delivery paths, so it
 * must be cheap; what it throws is ignored.
 *
 * @example
 * ```ts
 * import type { EventObserver } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const kinds: string[] = [];
 * const observer: EventObserver = (event) => void kinds.push(event.kind);
 * observer({ kind: "published", subject: "org.created" });
 * assert.deepEqual(kinds, ["published"]);
 * ```
 */
export type EventObserver = (event: EventObservation) => void;

/**
 * Domain events: publish, subscribe with a durable consumer, close. Implemented on NATS
 * JetStream by {@linkcode connectEvents} and in-process by {@linkcode createMemoryBus}, with the
 * same semantics: at-least-once delivery, redelivery with backoff, a dead-letter queue.
 *
 * @example
 * ```ts
 * import { createMemoryBus, type EventBus } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * const bus: EventBus = createMemoryBus();
 * const received: unknown[] = [];
 * await bus.subscribe("org.created", (payload) => void received.push(payload), { durable: "audit" });
 * await bus.publish("org.created", { org: "acme" });
 * await bus.close();
 * assert.deepEqual(received, [{ org: "acme" }]);
 * ```
 *
 * @example `await using` closes the bus at the end of the scope
 * ```ts
 * import { createMemoryBus, type EventBus } from "@plinth/events";
 * import assert from "node:assert/strict";
 *
 * let outer: EventBus | undefined;
 * {
 *   await using bus = createMemoryBus();
 *   outer = bus;
 *   await bus.publish("org.created", { org: "acme" });
 * }
 * assert.equal(outer.closed, true);
 * ```
 */
export interface EventBus {
  /** `true` once `close()` was called. */
  readonly closed: boolean;
  /**
   * Publishes one event and resolves with the stream's ack. Retries when the server is
   * unreachable or the ack times out, always with the same id. Refuses, before sending
   * anything, a `$`-prefixed system subject or a wildcard (`invalid_subject`), a subject no stream
   * covers (`no_stream`) and a payload JSON cannot hold, such as `NaN` (`invalid_payload`).
   */
  publish<T = unknown>(
    subject: string,
    payload: T,
    options?: PublishOptions<T>,
  ): Promise<PublishAck>;
  /** Publishes many events concurrently; resolves with one result per event, in order. */
  publishMany(
    events: readonly PublishEvent[],
    options?: PublishManyOptions,
  ): Promise<PublishResult[]>;
  /**
   * Calls `listener` when an event is published, handled, failed by its handler or
   * dead-lettered (for metrics: `instrumentEvents()` of `@plinth/metrics`). Returns the function
   * that removes the listener.
   */
  onEvent(listener: EventObserver): () => void;
  /** Starts a durable subscription; `handler(payload, meta)` is called once per delivery. */
  subscribe<T = unknown>(
    subject: string,
    handler: EventHandler<T>,
    options: SubscribeOptions<T>,
  ): Promise<Subscription>;
  /**
   * Stops every subscription, lets running handlers finish (bounded by the timeout), acks what
   * finished, waits for publishes in flight, then drains the connection. Safe to call twice.
   */
  close(options?: CloseOptions): Promise<void>;
  /**
   * The same as `close()` with its default timeout, so `await using bus = …` closes the bus
   * when the scope ends.
   */
  [Symbol.asyncDispose](): Promise<void>;
}
