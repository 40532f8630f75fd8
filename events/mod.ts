/**
 * Domain events on NATS JetStream that lose nothing: {@linkcode connectEvents} publishes
 * CloudEvents-enveloped JSON with retries under one message id (so the stream stores each event
 * once), runs durable pull subscribers with bounded concurrency, redelivery with backoff and a
 * dead-letter queue, and closes without dropping or half-processing a message.
 * {@linkcode createMemoryBus} is the same {@linkcode EventBus} in-process, for tests and demos.
 *
 * Delivery is at-least-once: a handler may see an event again after a crash, a timeout or a
 * reconnect. Make handlers idempotent, or give `subscribe` an `idempotencyKey`.
 *
 * @example
 * ```ts
 * import { createMemoryBus } from "@plinth/events";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const bus = createMemoryBus({ source: "org-svc" });
 * const Budget = z.object({ org: z.string(), spent: z.number() });
 * const alerts: string[] = [];
 * await bus.subscribe("org.budget_exceeded", (event, meta) => {
 *   alerts.push(`${event.org} spent ${event.spent} (from ${meta.source})`);
 * }, { durable: "alerts", schema: Budget });
 *
 * await bus.publish("org.budget_exceeded", { org: "acme", spent: 120 });
 * await bus.close();
 * assert.deepEqual(alerts, ["acme spent 120 (from org-svc)"]);
 * ```
 *
 * @module
 */
export * from "./event_bus.ts";
export * from "./connect_events.ts";
export * from "./memory_bus.ts";
export * from "./idempotency.ts";
export * from "./errors.ts";
