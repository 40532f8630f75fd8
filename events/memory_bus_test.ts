import { test } from "node:test";
import assert from "node:assert/strict";
import { createMemoryBus } from "./memory_bus.ts";
import { EventError } from "./errors.ts";
import type { EventMeta } from "./event_bus.ts";
import { captureLogger, waitFor } from "@plinth/testing";

test("createMemoryBus() redelivers an event not acked within ackWait", async () => {
  const logger = captureLogger();
  const bus = createMemoryBus({ logger });
  const counts: number[] = [];
  let release!: () => void;
  const stuck = new Promise<void>((resolve) => (release = resolve));
  await bus.subscribe("slow.job", async (_p, meta) => {
    counts.push(meta.deliveryCount);
    if (meta.deliveryCount === 1) await stuck;
  }, { durable: "w", concurrency: 2, ackWait: 100, handlerTimeout: 1000 });
  await bus.publish("slow.job", {});
  await waitFor(() => counts.length === 2, 2000, "the redelivery");
  release();
  await bus.close();
  assert.deepEqual(counts, [1, 2]);
});

test("createMemoryBus() dead-letters an event redelivered beyond maxDeliver without running it", async () => {
  const logger = captureLogger();
  const bus = createMemoryBus({ logger });
  const dead: EventMeta[] = [];
  let calls = 0;
  await bus.subscribe("hang.job", () => {
    calls++;
    return new Promise<void>(() => {});
  }, { durable: "w", concurrency: 5, ackWait: 100, handlerTimeout: 1000, maxDeliver: 2 });
  await bus.subscribe("dlq.hang.job", (_p, meta) => void dead.push(meta), { durable: "r" });
  await bus.publish("hang.job", {});
  await waitFor(() => dead.length === 1, 3000, "the dead letter");
  assert.equal(calls, 2);
  assert.equal(dead[0]!.headers["dlq-reason"], "max_deliver_exceeded");
  assert.equal(dead[0]!.headers["dlq-delivery-count"], "3");
  await bus.close({ timeout: 10 });
});

test("createMemoryBus() without a dead-letter queue drops a failed event with an error log", async () => {
  const logger = captureLogger();
  const lines = logger.lines;
  const bus = createMemoryBus({ logger, deadLetter: false });
  await bus.subscribe("x.y", () => {
    throw new Error("no");
  }, { durable: "d", maxDeliver: 1 });
  await bus.publish("x.y", {});
  await waitFor(
    () => lines.some((l) => String(l.message).startsWith("Event dropped")),
    2000,
    "the drop",
  );
  await bus.close();
});

test("createMemoryBus() logs a dead letter to a (message, fields) logger with the error as err", async () => {
  const errors: { message: string; fields: Readonly<Record<string, unknown>> | undefined }[] = [];
  const noop = (): void => {};
  const logger = {
    debug: noop,
    info: noop,
    warn: noop,
    error: (message: string, fields?: Readonly<Record<string, unknown>>): void =>
      void errors.push({ message, fields }),
  };
  const bus = createMemoryBus({ logger });
  const failure = new Error("quota service down");
  await bus.subscribe("usage.recorded", () => {
    throw failure;
  }, { durable: "quota", maxDeliver: 1 });
  await bus.publish("usage.recorded", { tokens: 1 });
  await waitFor(() => errors.length === 1, 2000, "the dead-letter log line");
  assert.equal(errors[0]!.message, "Event sent to the dead-letter queue");
  assert.equal(errors[0]!.fields?.["err"], failure);
  assert.equal(errors[0]!.fields?.["reason"], "handler_failed");
  await bus.close();
});

test("createMemoryBus() delivers a JSON string payload to the handler, not to the dead-letter queue", async () => {
  const logger = captureLogger();
  const bus = createMemoryBus({ logger });
  const dead: unknown[] = [];
  const handled: unknown[] = [];
  await bus.subscribe("dlq.raw.x", (payload) => void dead.push(payload), { durable: "r" });
  await bus.subscribe("raw.x", (payload) => void handled.push(payload), { durable: "d" });
  await bus.publish("raw.x", "just text");
  await bus.publish("raw.x", "sentinel");
  await waitFor(() => handled.includes("sentinel"), 2000, "the sentinel event");
  assert.deepEqual(handled, ["just text", "sentinel"]);
  // The dead-letter stream keeps publish order: had the text been dead-lettered, it would come
  // before this sentinel.
  await bus.publish("dlq.raw.x", "dlq sentinel");
  await waitFor(() => dead.includes("dlq sentinel"), 2000, "the dead-letter sentinel");
  assert.deepEqual(dead, ["dlq sentinel"]);
  await bus.close();
});

test("createMemoryBus() keeps the duplicate window and maxAge on its now clock", async () => {
  let now = 1_000_000;
  const logger = captureLogger();
  const bus = createMemoryBus({
    logger,
    now: () => now,
    streams: [{ name: "S", subjects: ["s.>"], duplicateWindow: 1000, maxAge: 5000 }],
  });
  assert.equal((await bus.publish("s.a", 1, { id: "k" })).duplicate, false);
  now += 999;
  assert.equal((await bus.publish("s.a", 1, { id: "k" })).duplicate, true);
  now += 1;
  const third = await bus.publish("s.a", 1, { id: "k" });
  assert.equal(third.duplicate, false);
  assert.equal(third.seq, 2);
  now += 10_000;
  await bus.publish("s.a", 2, { id: "late" });
  const seen: unknown[] = [];
  await bus.subscribe("s.a", (p) => void seen.push(p), { durable: "d" });
  await bus.publish("s.a", 3, { id: "sentinel" });
  await waitFor(() => seen.includes(3), 1000, "the sentinel published after");
  assert.deepEqual(seen, [2, 3], "events older than maxAge were dropped");
  await assert.rejects(
    bus.publish("other.a", 1),
    (error: unknown) => error instanceof EventError && error.code === "no_stream",
  );
  await bus.close();
});

test("createMemoryBus() expires idempotency keys of its default store on its now clock", async () => {
  let now = 1_000_000;
  const logger = captureLogger();
  const lines = logger.lines;
  const bus = createMemoryBus({ logger, now: () => now });
  const calls: string[] = [];
  await bus.subscribe("pay.done", (p: { order: string }) => void calls.push(p.order), {
    durable: "shipper",
    idempotencyKey: (p) => p.order,
    idempotencyTtl: 1000,
  });
  await bus.publish("pay.done", { order: "o-1" });
  await waitFor(() => calls.length === 1, 2000, "the first delivery");
  await bus.publish("pay.done", { order: "o-1" });
  await waitFor(
    () => lines.some((l) => l.message === "Event skipped: already processed"),
    2000,
    "the skip within the ttl",
  );
  now += 1000;
  await bus.publish("pay.done", { order: "o-1" });
  await waitFor(() => calls.length === 2, 2000, "the delivery after the ttl");
  assert.deepEqual(calls, ["o-1", "o-1"]);
  await bus.close();
});

test("createMemoryBus() subscribes to an explicit stream and to wildcard subjects", async () => {
  const logger = captureLogger();
  const bus = createMemoryBus({ logger, streams: [{ name: "A", subjects: ["a.>"] }] });
  const seen: string[] = [];
  await bus.subscribe("a.>", (_p, m) => void seen.push(m.subject), { durable: "all", stream: "A" });
  await bus.subscribe("a.*", (_p, m) => void seen.push(`*${m.subject}`), { durable: "star" });
  await bus.publish("a.b", 1);
  await bus.publish("a.b.c", 2);
  await waitFor(() => seen.length === 3, 1000, "three deliveries");
  assert.deepEqual(seen.sort(), ["*a.b", "a.b", "a.b.c"]);
  await assert.rejects(
    bus.subscribe("a.b", () => {}, { durable: "x", stream: "NOPE" }),
    (error: unknown) => error instanceof EventError && error.code === "no_stream",
  );
  await bus.close();
});

test("close() abandons a handler still running after the timeout: it acks nothing", async () => {
  const logger = captureLogger();
  const lines = logger.lines;
  const bus = createMemoryBus({ logger });
  let release!: () => void;
  const stuck = new Promise<void>((resolve) => (release = resolve));
  let started = false;
  let finished = false;
  const sub = await bus.subscribe("long.job", async () => {
    started = true;
    await stuck;
    finished = true;
  }, { durable: "w", ackWait: 200 });
  await bus.publish("long.job", {});
  await waitFor(() => started, 2000, "the handler to start");
  await sub.stop({ timeout: 20 });
  assert.ok(lines.some((l) => l.message === "Subscription stopped with handlers still running"));
  assert.equal(finished, false);
  release();
  await waitFor(() => finished, 2000, "the abandoned handler to finish");
  const again: number[] = [];
  await bus.subscribe("long.job", (_p, m) => void again.push(m.deliveryCount), {
    durable: "w",
    ackWait: 100,
  });
  await waitFor(() => again.length === 1, 2000, "the redelivery of the unacked event");
  assert.deepEqual(again, [2]);
  await bus.close();
});

test("createMemoryBus() validates its options", async () => {
  assert.throws(() => createMemoryBus({ maxPayload: 0 }), RangeError);
  assert.throws(() => createMemoryBus({ now: 1 as never }), /now must be a function/);
  assert.throws(() => createMemoryBus({ closeTimeout: -5 }), RangeError);
  assert.throws(
    () => createMemoryBus({ logger: { debug() {}, info() {} } as never }),
    /logger must have debug, info, warn and error methods/,
  );
  const bus = createMemoryBus();
  await assert.rejects(bus.close({ timeout: -1 }), RangeError);
  await assert.rejects(bus.subscribe("a.b", () => {}, null as never), /options with a durable/);
  await assert.rejects(
    bus.subscribe("a.b", () => {}, { durable: "d", deliverPolicy: "x" as never }),
    /deliverPolicy/,
  );
  await assert.rejects(
    bus.subscribe("a.b", () => {}, { durable: "d", stream: "a b" }),
    /stream must be/,
  );
  await assert.rejects(
    bus.subscribe("a.b", () => {}, { durable: "d", idempotencyKey: 1 as never }),
    /idempotencyKey/,
  );
  await assert.rejects(
    bus.subscribe("a.b", () => {}, {
      durable: "d",
      idempotencyKey: () => "k",
      idempotencyStore: {} as never,
    }),
    /idempotencyStore/,
  );
  await assert.rejects(
    bus.subscribe("a.b", () => {}, { durable: "d", schema: {} as never }),
    /Standard Schema/,
  );
  await assert.rejects(bus.publish("a.b", 1, "x" as never), /options must be an object/);
  await assert.rejects(
    bus.publish("a.b", 1, { headers: [] as never }),
    /headers must be an object/,
  );
  await assert.rejects(
    bus.publish("a.b", 1, { headers: { a: 1 as never } }),
    /value must be a string/,
  );
  await assert.rejects(bus.publishMany([], null as never), /options must be an object/);
  await bus.close();
});
