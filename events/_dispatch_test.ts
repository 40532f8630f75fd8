import { test } from "node:test";
import assert from "node:assert/strict";
import type { EventHandler, EventMeta, SubscribeOptions } from "./event_bus.ts";
import { createMemoryIdempotencyStore } from "./idempotency.ts";
import { defaultHandlerTimeout, resolveSubscribe } from "./_options.ts";
import { type Delivery, dispatch, type DispatchTarget } from "./_dispatch.ts";
import { captureLogger, type LogLine, waitFor } from "@plinth/testing";

/** A delivery that records what was done to it. */
function recordingDelivery(deliveryCount: number, calls: string[]): Delivery {
  return {
    subject: "job.run",
    headers: { "ce-id": "e1" },
    body: JSON.stringify({ n: 1 }),
    deliveryCount,
    stream: "JOBS",
    sequence: 7,
    ack: () => void calls.push("ack"),
    nak: (delay) => void calls.push(`nak ${delay}`),
    term: () => void calls.push("term"),
  };
}

function target(
  handler: EventHandler<unknown>,
  options: SubscribeOptions<unknown>,
  deadLetters: string[] = [],
): { target: DispatchTarget<unknown>; lines: LogLine[] } {
  const captured = captureLogger();
  const logger = { ...captured, isLevelEnabled: () => true };
  const lines = captured.lines;
  const resolved = resolveSubscribe("job.run", handler, options, createMemoryIdempotencyStore());
  return {
    lines,
    target: {
      options: resolved,
      handler,
      logger,
      deadLetterPrefix: "dlq",
      sendDeadLetter: (subject, _body, headers) => {
        deadLetters.push(`${subject} ${headers["dlq-reason"]}`);
        return Promise.resolve();
      },
    },
  };
}

/** Lets every pending promise continuation run (one macrotask turn). */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

test("dispatch() naks a handler past handlerTimeout once and ignores its late success", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let meta: EventMeta | undefined;
  let finished = false;
  const store = createMemoryIdempotencyStore();
  const calls: string[] = [];
  const { target: t, lines } = target(async (_payload, m) => {
    meta = m;
    await gate;
    finished = true;
  }, {
    durable: "d",
    handlerTimeout: 30,
    backoff: [500],
    idempotencyKey: () => "k",
    idempotencyStore: store,
  });
  await dispatch(recordingDelivery(1, calls), t);
  assert.deepEqual(calls, ["nak 500"], "the timeout naks with the backoff");
  assert.equal(meta?.signal.aborted, true);
  assert.equal((meta?.signal.reason as Error).name, "TimeoutError");
  const warned = lines.find((l) => l.message === "Event handler timed out: will retry");
  assert.equal(warned?.level, "warn");
  assert.equal(warned?.fields["timeout_ms"], 30);
  assert.equal(warned?.fields["error"], "TimeoutError: Event handler timed out after 30 ms");
  release();
  await waitFor(() => finished, 1000, "the late handler");
  await drainMicrotasks();
  assert.deepEqual(calls, ["nak 500"], "the late success neither acks nor naks");
  assert.equal(await store.has("d:k"), false, "the late success records no idempotency key");
});

test("dispatch() ignores the late failure of a timed-out handler", async () => {
  let fail!: (error: Error) => void;
  const gate = new Promise<void>((_resolve, reject) => (fail = reject));
  let settled = false;
  const calls: string[] = [];
  const { target: t, lines } = target(async () => {
    try {
      await gate;
    } finally {
      settled = true;
    }
  }, { durable: "d", handlerTimeout: 20, backoff: [100] });
  await dispatch(recordingDelivery(1, calls), t);
  fail(new Error("too late"));
  await waitFor(() => settled, 1000, "the late failure");
  await drainMicrotasks();
  assert.deepEqual(calls, ["nak 100"]);
  assert.equal(lines.filter((l) => l.level === "warn").length, 1);
});

test("dispatch() dead-letters a handler that times out on its maxDeliver-th delivery", async () => {
  const calls: string[] = [];
  const dead: string[] = [];
  const { target: t, lines } = target(
    () => new Promise<void>(() => {}),
    { durable: "d", handlerTimeout: 20, maxDeliver: 3 },
    dead,
  );
  await dispatch(recordingDelivery(3, calls), t);
  assert.deepEqual(calls, ["term"]);
  assert.deepEqual(dead, ["dlq.job.run handler_timeout"]);
  assert.ok(lines.some((l) => l.message === "Event sent to the dead-letter queue"));
});

test("dispatch() acks a handler that finishes within handlerTimeout and aborts nothing", async () => {
  const calls: string[] = [];
  let signal: AbortSignal | undefined;
  const { target: t } = target((_p, meta) => {
    signal = meta.signal;
  }, { durable: "d", handlerTimeout: 1000 });
  await dispatch(recordingDelivery(1, calls), t);
  assert.deepEqual(calls, ["ack"]);
  assert.equal(signal?.aborted, false);
});

test("dispatch() bounds an asynchronous schema that never settles by handlerTimeout", async () => {
  let called = false;
  let validations = 0;
  const hanging = {
    "~standard": {
      version: 1 as const,
      vendor: "test",
      validate: (): Promise<never> => {
        validations++;
        return new Promise<never>(() => {});
      },
    },
  };
  const calls: string[] = [];
  const dead: string[] = [];
  const { target: t, lines } = target(
    () => {
      called = true;
    },
    { durable: "d", handlerTimeout: 20, backoff: [100], maxDeliver: 2, schema: hanging },
    dead,
  );
  await dispatch(recordingDelivery(1, calls), t);
  assert.deepEqual(calls, ["nak 100"], "the slot is freed and the event retried");
  assert.ok(lines.some((l) => l.message === "Event handler timed out: will retry"));
  await dispatch(recordingDelivery(2, calls), t);
  assert.deepEqual(calls, ["nak 100", "term"]);
  assert.deepEqual(dead, ["dlq.job.run handler_timeout"]);
  assert.equal(validations, 2);
  assert.equal(called, false);
});

test("dispatch() still dead-letters a schema violation at once", async () => {
  const calls: string[] = [];
  const dead: string[] = [];
  const refusing = {
    "~standard": {
      version: 1 as const,
      vendor: "test",
      validate: () => Promise.resolve({ issues: [{ message: "n must be a string", path: ["n"] }] }),
    },
  };
  const { target: t } = target(() => {}, {
    durable: "d",
    handlerTimeout: 1000,
    schema: refusing,
  }, dead);
  await dispatch(recordingDelivery(1, calls), t);
  assert.deepEqual(calls, ["term"]);
  assert.deepEqual(dead, ["dlq.job.run schema_violation"]);
});

test("dispatch() dead-letters a body that is not JSON at once, without calling the handler", async () => {
  const calls: string[] = [];
  const deadLetters: string[] = [];
  let handled = 0;
  const { target: t, lines } = target(
    () => void handled++,
    { durable: "d", maxDeliver: 5 },
    deadLetters,
  );
  const delivery = { ...recordingDelivery(1, calls), body: new TextEncoder().encode("not json {") };
  await dispatch(delivery, t);
  assert.equal(handled, 0);
  assert.deepEqual(deadLetters, ["dlq.job.run invalid_payload"]);
  assert.deepEqual(calls, ["term"]);
  const logged = lines.find((l) => l.message === "Event sent to the dead-letter queue");
  assert.equal(logged?.fields["reason"], "invalid_payload");
});

test("resolveSubscribe() sets handlerTimeout a tenth below ackWait by default and checks it", () => {
  const handler = (): void => {};
  const store = createMemoryIdempotencyStore();
  const resolve = (options: SubscribeOptions<unknown>) =>
    resolveSubscribe("a.b", handler, options, store).handlerTimeout;
  assert.equal(resolve({ durable: "d" }), 29_000);
  assert.equal(resolve({ durable: "d", ackWait: 5000 }), 4500);
  assert.equal(resolve({ durable: "d", ackWait: 100 }), 90);
  assert.equal(resolve({ durable: "d", handlerTimeout: 60_000 }), 60_000);
  assert.equal(defaultHandlerTimeout(120_000), 119_000);
  assert.throws(() => resolve({ durable: "d", handlerTimeout: 0 }), /handlerTimeout must be/);
  assert.throws(() => resolve({ durable: "d", handlerTimeout: "5" as never }), RangeError);
});
