import type { Metrics } from "./create_metrics.ts";
import type { Instrumentation } from "./instrument_database.ts";

/**
 * What an event bus tells {@linkcode instrumentEvents}, structurally (the `EventObservation` of
 * `@plinth/events`).
 *
 * @example
 * ```ts
 * import type { ObservedEvent } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const event: ObservedEvent = { kind: "handled", subject: "org.created", durable: "audit", duration: 2 };
 * assert.equal(event.kind, "handled");
 * ```
 */
export interface ObservedEvent {
  /** `published`, `handled`, `failed` or `dead_lettered`. */
  readonly kind: string;
  /** The event's subject. */
  readonly subject: string;
  /** The subscription's durable name (not for `published`). */
  readonly durable?: string;
  /** The handler's run in milliseconds (`handled`, `failed`). */
  readonly duration?: number;
  /** Whether the handler timed out (`failed`). */
  readonly timedOut?: boolean;
  /** Why it was dead-lettered (`dead_lettered`). */
  readonly reason?: string;
}

/**
 * What {@linkcode instrumentEvents} needs of an event bus, structurally: an `EventBus` of
 * `@plinth/events` fits.
 *
 * @example
 * ```ts
 * import type { InstrumentableEventBus } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * const bus: InstrumentableEventBus = { onEvent: () => () => {} };
 * assert.equal(typeof bus.onEvent(() => {}), "function");
 * ```
 */
export interface InstrumentableEventBus {
  /** Registers a listener told of each event published, handled, failed or dead-lettered. */
  onEvent(listener: (event: ObservedEvent) => void): () => void;
}

/**
 * Measures an event bus in `metrics`: `events_published_total{subject}`,
 * `events_delivered_total{subject,durable}` (handled), `events_failed_total{subject,durable,reason}`
 * (`reason` is `error` or `timeout`; each failed delivery, retried or not),
 * `events_dead_lettered_total{subject,durable,reason}` (the `dlq-reason`) and the
 * `event_handler_duration_seconds{subject,durable}` histogram. Takes any object of the
 * {@linkcode InstrumentableEventBus} shape: `@plinth/metrics` does not import `@plinth/events`.
 * Subjects are labels, so keep ids out of them (the `maxSeries` cap applies). One bus per
 * `Metrics`.
 *
 * @param metrics Where the metrics are registered (with its prefix).
 * @param bus The bus, such as one from `connectEvents()` or `createMemoryBus()`.
 * @returns What stops listening to the bus.
 * @throws {TypeError} When `bus` lacks `onEvent()`, or the metrics exist already.
 *
 * @example
 * ```ts
 * import { createMetrics, instrumentEvents, type ObservedEvent } from "@plinth/metrics";
 * import assert from "node:assert/strict";
 *
 * // A stand-in with the shape of @plinth/events' EventBus.
 * const listeners: ((event: ObservedEvent) => void)[] = [];
 * const bus = { onEvent: (l: (event: ObservedEvent) => void) => (listeners.push(l), () => {}) };
 * using metrics = createMetrics({ service: "svc", defaultMetrics: false });
 * instrumentEvents(metrics, bus);
 * const emit = (event: ObservedEvent) => listeners.forEach((l) => l(event));
 * emit({ kind: "published", subject: "org.created" });
 * emit({ kind: "handled", subject: "org.created", durable: "audit", duration: 4 });
 *
 * const { body } = await metrics.render();
 * assert.match(body, /^events_published_total\{subject="org.created",service="svc"\} 1$/m);
 * assert.match(
 *   body,
 *   /^events_delivered_total\{subject="org.created",durable="audit",service="svc"\} 1$/m,
 * );
 * ```
 */
export function instrumentEvents(metrics: Metrics, bus: InstrumentableEventBus): Instrumentation {
  if (typeof metrics !== "object" || metrics === null || typeof metrics.counter !== "function") {
    throw new TypeError(
      "Invalid instrumentEvents argument metrics: must come from createMetrics()",
    );
  }
  if (typeof bus !== "object" || bus === null || typeof bus.onEvent !== "function") {
    throw new TypeError(
      "Invalid instrumentEvents argument bus: must have onEvent() (an EventBus of @plinth/events)",
    );
  }
  const published = metrics.counter({
    name: "events_published_total",
    help: "Events published (acknowledged by the stream).",
    labelNames: ["subject"],
  });
  const delivered = metrics.counter({
    name: "events_delivered_total",
    help: "Deliveries handled successfully.",
    labelNames: ["subject", "durable"],
  });
  const failed = metrics.counter({
    name: "events_failed_total",
    help: "Deliveries whose handler threw or timed out.",
    labelNames: ["subject", "durable", "reason"],
  });
  const deadLettered = metrics.counter({
    name: "events_dead_lettered_total",
    help: "Events sent to the dead-letter queue (or dropped without one), by reason.",
    labelNames: ["subject", "durable", "reason"],
  });
  const duration = metrics.histogram({
    name: "event_handler_duration_seconds",
    help: "Time a handler ran, in seconds.",
    labelNames: ["subject", "durable"],
  });
  const remove = bus.onEvent((event) => {
    const subject = event.subject;
    const durable = event.durable ?? "";
    switch (event.kind) {
      case "published":
        published.inc({ subject });
        return;
      case "handled":
        delivered.inc({ subject, durable });
        break;
      case "failed":
        failed.inc({ subject, durable, reason: event.timedOut === true ? "timeout" : "error" });
        break;
      case "dead_lettered":
        deadLettered.inc({ subject, durable, reason: event.reason ?? "unknown" });
        return;
      default:
        return;
    }
    const ms = event.duration;
    if (typeof ms === "number" && Number.isFinite(ms)) {
      duration.observe({ subject, durable }, Math.max(0, ms) / 1000);
    }
  });
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    remove();
  };
  return Object.freeze({ close, [Symbol.dispose]: close });
}
