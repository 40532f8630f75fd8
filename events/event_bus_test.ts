// The behavioural tests every EventBus passes: the memory bus and the NATS bus (on the shared
// server, with unique stream and subject names per test, deleted afterwards).
import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { createLogger, type Logger, runWithContext } from "@plinth/logging";
import { AppError } from "@plinth/errors";
import { natsUrl, sleep, uniqueName, waitFor } from "@plinth/testing";
import { needNats } from "@plinth/testing/nats";
import { createMemoryBus } from "./memory_bus.ts";
import { connectEvents, type NatsEventBus } from "./connect_events.ts";
import { EventError } from "./errors.ts";
import type { EventBus, EventLogger, EventMeta } from "./event_bus.ts";

/**
 * A debug-level `@plinth/logging` logger whose lines are parsed into `lines`: the real logger,
 * so lines carry the logging context (`request_id`, trace ids) as a service's would.
 */
function jsonLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "events-test",
    level: "debug",
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

interface Fixture {
  bus: EventBus;
  /** The name of the stream storing `subject(…)`. */
  stream: string;
  subject: (name: string) => string;
  dlq: (subject: string) => string;
  /** Opens another bus on the same streams (a second replica, or the next start). */
  reopen: () => Promise<EventBus>;
  lines: Record<string, unknown>[];
  /**
   * How many events a durable holds that are not acknowledged or terminated (delivered or not),
   * as the server reports it; `undefined` for the memory bus, which does not show it.
   */
  unacknowledged: ((durable: string) => Promise<number>) | undefined;
  dispose: () => Promise<void>;
}

type Kind = "memory" | "nats";

/** Makes the bus's logger; it writes its lines, parsed, to `lines`. */
type MakeLogger = (lines: Record<string, unknown>[]) => EventLogger;

async function fixture(kind: Kind, makeLogger?: MakeLogger): Promise<Fixture> {
  const id = uniqueName("t");
  const captured = jsonLogger();
  const log = makeLogger === undefined ? captured.logger : makeLogger(captured.lines);
  const subject = (name: string): string => `ev_${id}.${name}`;
  const dlq = (s: string): string => `dlq_${id}.${s}`;
  const options = {
    source: "test-svc",
    logger: log,
    closeTimeout: 5000,
    streams: [{ name: `EV_${id}`, subjects: [`ev_${id}.>`], storage: "memory" as const }],
    deadLetter: { stream: `DLQ_${id}`, prefix: `dlq_${id}`, storage: "memory" as const },
  };
  if (kind === "memory") {
    const bus = createMemoryBus(options);
    return {
      bus,
      stream: `EV_${id}`,
      subject,
      dlq,
      reopen: () => Promise.resolve(bus),
      lines: captured.lines,
      unacknowledged: undefined,
      dispose: () => bus.close(),
    };
  }
  const buses: NatsEventBus[] = [];
  const open = async (): Promise<NatsEventBus> => {
    const b = await connectEvents({ ...options, servers: natsUrl, publishTimeout: 3000 });
    buses.push(b);
    return b;
  };
  const bus = await open();
  return {
    bus,
    stream: `EV_${id}`,
    subject,
    dlq,
    reopen: open,
    lines: captured.lines,
    unacknowledged: async (durable) => {
      const nc = await connect({ servers: natsUrl });
      try {
        const info = await (await jetstreamManager(nc)).consumers.info(`EV_${id}`, durable);
        return info.num_ack_pending + info.num_pending;
      } finally {
        await nc.close();
      }
    },
    dispose: async () => {
      for (const b of buses) await b.close();
      const admin = await connectEvents({ servers: natsUrl, deadLetter: false, logger: log });
      await admin.deleteStream(`EV_${id}`);
      await admin.deleteStream(`DLQ_${id}`);
      await admin.close();
    },
  };
}

function behaviour(
  name: string,
  body: (f: Fixture, kind: Kind) => Promise<void>,
  options: { logger?: MakeLogger } = {},
): void {
  for (const kind of ["memory", "nats"] as const) {
    test(`${kind}: ${name}`, { timeout: 60_000 }, async (t) => {
      if (kind === "nats" && !(await needNats(t))) return;
      const f = await fixture(kind, options.logger);
      try {
        await body(f, kind);
      } finally {
        await f.dispose();
      }
    });
  }
}

behaviour(
  "publish() delivers the payload with its envelope and restores the context",
  async (f) => {
    const seen: { payload: unknown; meta: EventMeta; context: unknown }[] = [];
    const { getContext } = await import("@plinth/logging");
    await f.bus.subscribe(f.subject("user.*"), (payload, meta) => {
      seen.push({ payload, meta, context: getContext() });
    }, { durable: "reader" });
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const before = Date.now();
    const ack = await runWithContext(
      { request_id: "req-42", trace_id: traceId, span_id: "00f067aa0ba902b7" },
      () =>
        f.bus.publish(f.subject("user.created"), { email: "a@example.com" }, {
          id: "evt-1",
          headers: { tenant: "acme" },
        }),
    );
    assert.deepEqual({ ...ack, stream: ack.stream.slice(0, 3) }, {
      stream: "EV_",
      seq: 1,
      duplicate: false,
      id: "evt-1",
    });
    await waitFor(() => seen.length === 1, 5000, "the delivery");
    const { payload, meta, context } = seen[0]!;
    assert.deepEqual(payload, { email: "a@example.com" });
    assert.equal(meta.id, "evt-1");
    assert.equal(meta.subject, f.subject("user.created"));
    assert.equal(meta.source, "test-svc");
    assert.equal(meta.deliveryCount, 1);
    assert.equal(meta.sequence, 1);
    assert.ok(
      meta.time >= before && meta.time <= Date.now(),
      `ce-time ${meta.time} is the time of the publish, in epoch milliseconds`,
    );
    assert.equal(meta.time, Date.parse(meta.headers["ce-time"]!));
    assert.equal(meta.headers["ce-specversion"], "1.0");
    assert.equal(meta.headers["ce-id"], "evt-1");
    assert.equal(meta.headers["ce-type"], f.subject("user.created"));
    assert.equal(meta.headers["ce-source"], "test-svc");
    assert.equal(meta.headers["content-type"], "application/json");
    assert.equal(meta.headers["tenant"], "acme");
    assert.equal(meta.headers["x-request-id"], "req-42");
    assert.equal(meta.headers["traceparent"], `00-${traceId}-00f067aa0ba902b7-01`);
    // The handler runs in its own span under the publisher's trace.
    const { span_id: spanId, ...rest } = context as Record<string, unknown>;
    assert.deepEqual(rest, { request_id: "req-42", trace_id: traceId, trace_flags: "01" });
    assert.match(String(spanId), /^[0-9a-f]{16}$/);
    assert.notEqual(spanId, "00f067aa0ba902b7");
    const published = f.lines.find((l) => l["message"] === "Event published");
    assert.equal(published?.["event_id"], "evt-1");
    assert.equal(published?.["stream_seq"], 1);
    assert.equal(published?.["request_id"], "req-42");
    await waitFor(() => f.lines.some((l) => l["message"] === "Event handled"), 2000, "the log");
    const received = f.lines.find((l) => l["message"] === "Event received");
    assert.equal(received?.["delivery_count"], 1);
    assert.equal(received?.["subject"], f.subject("user.created"));
    assert.equal(received?.["stream_seq"], 1);
  },
);

behaviour("publish() with a repeated id stores the event once", async (f) => {
  const first = await f.bus.publish(f.subject("a"), { n: 1 }, { id: "same" });
  const again = await f.bus.publish(f.subject("a"), { n: 1 }, { id: "same" });
  assert.equal(first.duplicate, false);
  assert.equal(again.duplicate, true);
  assert.equal(again.seq, first.seq);
  const seen: unknown[] = [];
  await f.bus.subscribe(f.subject("a"), (p) => void seen.push(p), { durable: "d" });
  await f.bus.publish(f.subject("a"), { n: 2 });
  await waitFor(() => seen.length === 2, 5000, "two deliveries");
  // A duplicate stored after all would be delivered before this sentinel, published last.
  await f.bus.publish(f.subject("a"), { n: 3 }, { id: "sentinel" });
  await waitFor(() => seen.length === 3, 5000, "the sentinel");
  assert.deepEqual(seen, [{ n: 1 }, { n: 2 }, { n: 3 }]);
});

behaviour(
  "a failing handler is redelivered with backoff, then dead-lettered, while others flow",
  async (f) => {
    const attempts: number[] = [];
    const good: unknown[] = [];
    const dead: { payload: unknown; meta: EventMeta }[] = [];
    await f.bus.subscribe(f.subject("job"), (payload: { bad: boolean; n: number }) => {
      if (!payload.bad) {
        good.push(payload.n);
        return;
      }
      attempts.push(performance.now());
      throw new Error(`boom on try ${attempts.length}`);
    }, { durable: "worker", concurrency: 2, maxDeliver: 3, backoff: [150, 300], ackWait: 5000 });
    await f.bus.subscribe(f.dlq(f.subject("job")), (payload, meta) => {
      dead.push({ payload, meta });
    }, { durable: "dlq-reader" });
    await f.bus.publish(f.subject("job"), { bad: true, n: 0 }, {
      id: "bad-1",
      headers: { tenant: "t1" },
    });
    for (let n = 1; n <= 5; n++) await f.bus.publish(f.subject("job"), { bad: false, n });
    await waitFor(() => good.length === 5, 5000, "the good events");
    assert.ok(attempts.length < 3, "good events were processed while the bad one waited");
    await waitFor(() => dead.length === 1, 10_000, "the dead letter");
    assert.equal(attempts.length, 3);
    assert.ok(attempts[1]! - attempts[0]! >= 130, `first backoff ${attempts[1]! - attempts[0]!}`);
    assert.ok(attempts[2]! - attempts[1]! >= 280, `second backoff ${attempts[2]! - attempts[1]!}`);
    const { payload, meta } = dead[0]!;
    assert.deepEqual(payload, { bad: true, n: 0 });
    assert.equal(meta.headers["dlq-error"], "Error: boom on try 3");
    assert.equal(meta.headers["dlq-delivery-count"], "3");
    assert.equal(meta.headers["dlq-reason"], "handler_failed");
    assert.equal(meta.headers["dlq-durable"], "worker");
    assert.equal(meta.headers["dlq-subject"], f.subject("job"));
    assert.equal(meta.headers["ce-id"], "bad-1");
    assert.equal(meta.headers["tenant"], "t1");
    // The dead letter was terminated, not left for redelivery: an event published after it
    // flows, and the durable holds nothing unacknowledged (checked on the server for NATS).
    await f.bus.publish(f.subject("job"), { bad: false, n: 6 });
    await waitFor(() => good.includes(6), 5000, "an event published after the dead letter");
    if (f.unacknowledged !== undefined) {
      const count = f.unacknowledged;
      await waitFor(async () => (await count("worker")) === 0, 5000, "the durable to settle");
    }
    assert.equal(attempts.length, 3, "no redelivery after the dead letter");
    assert.equal(
      f.lines.filter((l) => l["message"] === "Event sent to the dead-letter queue").length,
      1,
    );
    assert.ok(!f.lines.some((l) => l["message"] === "Cannot dead-letter event: will retry"));
    assert.ok(
      f.lines.some((l) =>
        l["message"] === "Event handler failed: will retry" && l["level"] === "warn"
      ),
    );
    assert.ok(
      f.lines.some((l) =>
        l["message"] === "Event sent to the dead-letter queue" && l["level"] === "error"
      ),
    );
  },
);

behaviour(
  "a payload against the subscriber's schema goes to the dead-letter queue at once",
  async (f) => {
    const Schema = z.object({ org: z.string() });
    const handled: string[] = [];
    const dead: EventMeta[] = [];
    await f.bus.subscribe(f.subject("org"), (payload) => void handled.push(payload.org), {
      durable: "strict",
      schema: Schema,
      maxDeliver: 5,
    });
    await f.bus.subscribe(f.dlq(f.subject("org")), (_p, meta) => void dead.push(meta), {
      durable: "r",
    });
    await f.bus.publish(f.subject("org"), { org: 42 });
    await f.bus.publish(f.subject("org"), { org: "acme" });
    await waitFor(() => dead.length === 1 && handled.length === 1, 5000, "both events");
    assert.deepEqual(handled, ["acme"]);
    assert.equal(dead[0]!.headers["dlq-reason"], "schema_violation");
    assert.equal(dead[0]!.headers["dlq-delivery-count"], "1");
    assert.match(dead[0]!.headers["dlq-error"]!, /org: /);
    await assert.rejects(
      f.bus.publish(f.subject("org"), { org: 1 } as never, { schema: Schema }),
      (error: unknown) => {
        assert.ok(error instanceof EventError);
        assert.equal(error.code, "schema_violation");
        assert.equal(error.issues.length, 1);
        assert.match(
          error.message,
          /^Cannot publish event to "ev_\w+\.org": the payload does not match the schema: org: /,
        );
        return true;
      },
    );
  },
);

behaviour(
  "close() lets 32 running handlers finish and ack; the next start reprocesses none",
  async (f, kind) => {
    const processed: number[] = [];
    let running = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handler = async (payload: { n: number }): Promise<void> => {
      running++;
      await gate;
      await sleep(20);
      processed.push(payload.n);
      running--;
    };
    const events = Array.from(
      { length: 80 },
      (_, n) => ({ subject: f.subject("work"), payload: { n } }),
    );
    const results = await f.bus.publishMany(events);
    assert.ok(results.every((r) => r.ok));
    const sub = await f.bus.subscribe(f.subject("work"), handler, {
      durable: "workers",
      concurrency: 32,
    });
    await waitFor(() => running === 32, 5000, "32 running handlers");
    const closing = kind === "memory" ? sub.stop() : f.bus.close();
    await waitFor(() => !sub.active, 5000, "the subscription to stop fetching");
    assert.equal(processed.length, 0, "close() is waiting for the running handlers");
    release();
    await closing;
    assert.equal(processed.length, 32, "every running handler finished before close() resolved");
    assert.equal(sub.active, false);
    const next = kind === "memory" ? f.bus : await f.reopen();
    const again: number[] = [];
    await next.subscribe(f.subject("work"), (p: { n: number }) => void again.push(p.n), {
      durable: "workers",
      concurrency: 8,
    });
    await waitFor(() => again.length === 48, 10_000, "the other 48 events");
    // Anything more the durable held would come before this sentinel, published last.
    await next.publish(f.subject("work"), { n: 80 });
    await waitFor(() => again.includes(80), 10_000, "the sentinel");
    assert.equal(again.length, 49);
    const all = [...processed, ...again.filter((n) => n !== 80)].sort((a, b) => a - b);
    assert.deepEqual(all, events.map((_, n) => n), "nothing lost, nothing processed twice");
  },
);

behaviour("idempotencyKey skips an event whose key was processed", async (f) => {
  const calls: string[] = [];
  await f.bus.subscribe(f.subject("pay"), (p: { order: string }) => void calls.push(p.order), {
    durable: "shipper",
    idempotencyKey: (p) => p.order,
  });
  await f.bus.publish(f.subject("pay"), { order: "o-1" });
  await f.bus.publish(f.subject("pay"), { order: "o-1" });
  await f.bus.publish(f.subject("pay"), { order: "o-2" });
  await waitFor(() => calls.length === 2, 5000, "two orders");
  await waitFor(
    () => f.lines.some((l) => l["message"] === "Event skipped: already processed"),
    5000,
    "the skip",
  );
  assert.deepEqual(calls, ["o-1", "o-2"]);
});

behaviour("replicas sharing a durable split the work", async (f) => {
  const a: number[] = [];
  const b: number[] = [];
  const slow = (list: number[]) => async (p: { n: number }): Promise<void> => {
    list.push(p.n);
    await sleep(10);
  };
  await f.bus.subscribe(f.subject("split"), slow(a), { durable: "shared", concurrency: 2 });
  const other = await f.reopen();
  await other.subscribe(f.subject("split"), slow(b), { durable: "shared", concurrency: 2 });
  await f.bus.publishMany(
    Array.from({ length: 40 }, (_, n) => ({ subject: f.subject("split"), payload: { n } })),
  );
  await waitFor(() => a.length + b.length === 40, 10_000, "40 deliveries");
  assert.ok(a.length > 0 && b.length > 0, `split ${a.length}/${b.length}`);
  assert.equal(new Set([...a, ...b]).size, 40);
});

behaviour("publishMany() reports each event's ack or error in order", async (f) => {
  const results = await f.bus.publishMany([
    { subject: f.subject("m"), payload: 1, id: "m1" },
    { subject: "bad subject", payload: 2 },
    { subject: f.subject("m"), payload: 3n },
    { subject: f.subject("m"), payload: 4, headers: { "x-bad": "a\r\nb" } },
    { subject: f.subject("m"), payload: 5, id: "m1" },
  ], { concurrency: 2 });
  assert.deepEqual(results.map((r) => r.ok), [true, false, false, false, true]);
  assert.deepEqual(
    results.map((r) => (r.ok ? r.ack.duplicate : (r.error as EventError).code)),
    [false, "invalid_subject", "invalid_payload", "invalid_header", true],
  );
  assert.equal(results[0]!.id, "m1");
  await assert.rejects(f.bus.publishMany("x" as never), TypeError);
  await assert.rejects(f.bus.publishMany([], { concurrency: 0 }), RangeError);
});

behaviour(
  "invalid subjects, CR/LF headers and oversized payloads get clear errors",
  async (f, kind) => {
    const code = (c: string) => (error: unknown): boolean => {
      assert.ok(error instanceof EventError, String(error));
      assert.equal(error.code, c);
      assert.match(error.message, /^Cannot publish event/);
      return true;
    };
    await assert.rejects(f.bus.publish("a..b", {}), code("invalid_subject"));
    await assert.rejects(f.bus.publish("a.*", {}), code("invalid_subject"));
    await assert.rejects(f.bus.publish("a b", {}), code("invalid_subject"));
    await assert.rejects(
      f.bus.publish(f.subject("h"), {}, { headers: { x: "a\nb" } }),
      code("invalid_header"),
    );
    await assert.rejects(
      f.bus.publish(f.subject("h"), {}, { headers: { "bad name": "v" } }),
      code("invalid_header"),
    );
    await assert.rejects(
      f.bus.publish(f.subject("h"), {}, { headers: { "ce-id": "v" } }),
      code("invalid_header"),
    );
    await assert.rejects(
      f.bus.publish(f.subject("h"), {}, { id: "a\r\nb" }),
      code("invalid_header"),
    );
    await assert.rejects(f.bus.publish(f.subject("h"), undefined), code("invalid_payload"));
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    await assert.rejects(f.bus.publish(f.subject("h"), cyclic), code("invalid_payload"));
    const big = "x".repeat(kind === "nats" ? 1_048_576 : 1_048_576);
    await assert.rejects(f.bus.publish(f.subject("h"), big), (error: unknown) => {
      code("payload_too_large")(error);
      assert.match(
        (error as Error).message,
        /payload too large: \d+ bytes with headers, the server allows 1048576/,
      );
      return true;
    });
    await assert.rejects(
      f.bus.publish(f.subject("h"), {}, { schema: {} as never }),
      /schema must be a Standard Schema/,
    );
    await assert.rejects(
      f.bus.subscribe("a..b", () => {}, { durable: "d" }),
      (error: unknown) => error instanceof EventError && error.code === "invalid_subject",
    );
    await assert.rejects(f.bus.subscribe(f.subject("x"), () => {}, { durable: "a.b" }), TypeError);
    await assert.rejects(
      f.bus.subscribe(f.subject("x"), () => {}, { durable: "d", concurrency: 0 }),
      RangeError,
    );
    await assert.rejects(
      f.bus.subscribe(f.subject("x"), () => {}, { durable: "d", backoff: [] }),
      RangeError,
    );
    await assert.rejects(
      f.bus.subscribe(f.subject("x"), "nope" as never, { durable: "d" }),
      TypeError,
    );
    await assert.rejects(
      f.bus.subscribe("other.subject", () => {}, { durable: "d" }),
      (error: unknown) => error instanceof EventError && error.code === "no_stream",
    );
    const ok = await f.bus.publish(f.subject("h"), { still: "works" });
    assert.equal(ok.duplicate, false);
  },
);

behaviour("a durable bound to one subject cannot be reused for another", async (f) => {
  await f.bus.subscribe(f.subject("one"), () => {}, { durable: "dur" });
  await assert.rejects(
    f.bus.subscribe(f.subject("two"), () => {}, { durable: "dur" }),
    (error: unknown) => error instanceof EventError && error.code === "durable_conflict",
  );
});

behaviour("deliverPolicy new skips what the stream held before", async (f) => {
  await f.bus.publish(f.subject("n"), { old: true });
  const seen: unknown[] = [];
  await f.bus.subscribe(f.subject("n"), (p) => void seen.push(p), {
    durable: "fresh",
    deliverPolicy: "new",
  });
  await f.bus.publish(f.subject("n"), { old: false });
  await waitFor(() => seen.length === 1, 5000, "the new event");
  await f.bus.publish(f.subject("n"), { sentinel: true });
  await waitFor(() => seen.length === 2, 5000, "the sentinel");
  assert.deepEqual(seen, [{ old: false }, { sentinel: true }]);
});

behaviour("a closed bus rejects publish and subscribe with bus_closed", async (f) => {
  await f.bus.close();
  await f.bus.close();
  assert.equal(f.bus.closed, true);
  const closed = (error: unknown): boolean =>
    error instanceof EventError && error instanceof AppError && error.code === "bus_closed" &&
    error.status === 503;
  await assert.rejects(f.bus.publish(f.subject("c"), {}), closed);
  await assert.rejects(f.bus.subscribe(f.subject("c"), () => {}, { durable: "d" }), closed);
});

behaviour(
  "[Symbol.asyncDispose]() closes the bus as close() does, after the running handler finished",
  async (f) => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    let finished = false;
    await f.bus.subscribe(f.subject("dispose"), async () => {
      started = true;
      await gate;
      finished = true;
    }, { durable: "disposer" });
    await f.bus.publish(f.subject("dispose"), {});
    await waitFor(() => started, 5000, "the handler to start");
    const disposing = f.bus[Symbol.asyncDispose]();
    assert.equal(f.bus.closed, true);
    assert.equal(finished, false);
    release();
    await disposing;
    assert.equal(finished, true, "the running handler finished before dispose resolved");
    await assert.rejects(
      f.bus.publish(f.subject("dispose"), {}),
      (error: unknown) => error instanceof EventError && error.code === "bus_closed",
    );
    await f.bus[Symbol.asyncDispose](); // a second dispose, like a second close, resolves
  },
);

behaviour(
  "Subscription[Symbol.asyncDispose]() stops it as stop() does, after the running handler finished",
  async (f) => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    let finished = false;
    const sub = await f.bus.subscribe(f.subject("subdispose"), async () => {
      started = true;
      await gate;
      finished = true;
    }, { durable: "subdisposer" });
    await f.bus.publish(f.subject("subdispose"), {});
    await waitFor(() => started, 5000, "the handler to start");
    const disposing = sub[Symbol.asyncDispose]();
    assert.equal(sub.active, false);
    assert.equal(finished, false);
    release();
    await disposing;
    assert.equal(finished, true, "the running handler finished before dispose resolved");
    assert.equal(f.bus.closed, false, "disposing a subscription leaves the bus open");
    await sub[Symbol.asyncDispose](); // a second dispose, like a second stop, resolves
  },
);

/** Asserts `error` is an {@linkcode EventError} with `code`, from a publish. */
function publishError(code: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof EventError, String(error));
    assert.equal(error.code, code, error.message);
    assert.match(error.message, /^Cannot publish event/);
    return true;
  };
}

behaviour(
  "publish() refuses $-prefixed system subjects, wildcards, empty tokens and whitespace with invalid_subject",
  async (f) => {
    const before = await f.bus.publish(f.subject("kept"), { n: 1 });
    const attacks = [
      `$JS.API.STREAM.DELETE.${f.stream}`,
      `$JS.API.STREAM.PURGE.${f.stream}`,
      `$JS.API.CONSUMER.DELETE.${f.stream}.reader`,
      `$JS.ACK.${f.stream}.reader.1.1.1.1.0`,
      "$SYS.REQ.SERVER.PING",
      "$KV.config.key",
      "$",
      "*",
      ">",
      f.subject("*"),
      f.subject(">"),
      f.subject("a*"),
      f.subject("a..b"),
      `.${f.subject("a")}`,
      `${f.subject("a")}.`,
      "",
      f.subject("a b"),
      f.subject("a\tb"),
      f.subject("a\r\nb"),
      f.subject("a\u0000b"),
      f.subject("a\u0007b"),
      f.subject("a\u007fb"),
    ];
    for (const subject of attacks) {
      await assert.rejects(
        f.bus.publish(subject, { delete: true }),
        publishError("invalid_subject"),
        `publish to ${JSON.stringify(subject)}`,
      );
    }
    const results = await f.bus.publishMany(attacks.map((subject) => ({ subject, payload: 1 })));
    assert.deepEqual(
      results.map((r) => (r.ok ? "sent" : (r.error as EventError).code)),
      attacks.map(() => "invalid_subject"),
    );
    const after = await f.bus.publish(f.subject("kept"), { n: 2 });
    assert.equal(after.stream, f.stream, "the stream was not deleted");
    assert.equal(after.seq, before.seq + 1, "the stream was not purged");
  },
);

behaviour("publish() to a subject no stream covers rejects with no_stream", async (f) => {
  const uncovered = f.subject("x").replace(/^ev_/, "nostream_");
  for (let i = 0; i < 2; i++) {
    await assert.rejects(f.bus.publish(uncovered, { n: i }), (error: unknown) => {
      publishError("no_stream")(error);
      assert.equal(
        (error as Error).message,
        `Cannot publish event to "${uncovered}": no stream covers the subject`,
      );
      return true;
    });
  }
  const [result] = await f.bus.publishMany([{ subject: uncovered, payload: 1 }]);
  assert.equal(result?.ok === false && (result.error as EventError).code, "no_stream");
});

behaviour(
  "publish() refuses NaN, ±Infinity and an invalid Date with invalid_payload naming the JSON path, never the value",
  async (f) => {
    const cases: [unknown, string][] = [
      [NaN, "$"],
      [{ price: Infinity }, "$.price"],
      [{ items: [{ n: 1 }, { n: -Infinity }] }, "$.items[1].n"],
      [[1, 2, NaN], "$[2]"],
      [{ "odd key": { v: new Number(NaN) } }, '$["odd key"].v'],
      [{ nested: { toJSON: () => ({ x: NaN }) } }, "$.nested.x"],
      [{ ok: null, later: { bad: Number.POSITIVE_INFINITY } }, "$.later.bad"],
      [{ at: new Date(NaN) }, "$.at"], // an invalid Date writes itself as null too
      [[new Date("not a date")], "$[0]"],
    ];
    for (const [payload, path] of cases) {
      await assert.rejects(f.bus.publish(f.subject("num"), payload), (error: unknown) => {
        publishError("invalid_payload")(error);
        const message = (error as Error).message;
        assert.ok(message.endsWith(` at ${path}`), message);
        assert.doesNotMatch(message, /NaN|Infinity/);
        return true;
      }, `payload with a bad number at ${path}`);
    }
    const [result] = await f.bus.publishMany([{ subject: f.subject("num"), payload: { a: NaN } }]);
    assert.equal(result?.ok === false && (result.error as EventError).code, "invalid_payload");
    const seen: unknown[] = [];
    await f.bus.subscribe(f.subject("num"), (p) => void seen.push(p), { durable: "nums" });
    await f.bus.publish(f.subject("num"), { a: null, b: [null], c: 1.5, d: new Date(0) });
    await waitFor(() => seen.length === 1, 5000, "the event with real nulls");
    assert.deepEqual(seen, [{ a: null, b: [null], c: 1.5, d: "1970-01-01T00:00:00.000Z" }]);
  },
);

behaviour(
  "subscribe() handlerTimeout frees a stuck handler's slot, redelivers it with backoff, then dead-letters it",
  async (f) => {
    const stuck: { count: number; signal: AbortSignal }[] = [];
    const good: number[] = [];
    const dead: EventMeta[] = [];
    await f.bus.subscribe(f.subject("stuck"), (p: { hang: boolean; n: number }, meta) => {
      if (!p.hang) {
        good.push(p.n);
        return;
      }
      stuck.push({ count: meta.deliveryCount, signal: meta.signal });
      return new Promise<void>(() => {}); // never settles
    }, {
      durable: "stuck",
      concurrency: 1,
      ackWait: 5000,
      handlerTimeout: 200,
      maxDeliver: 2,
      backoff: [50],
    });
    await f.bus.subscribe(f.dlq(f.subject("stuck")), (_p, meta) => void dead.push(meta), {
      durable: "dlq-reader",
    });
    await f.bus.publish(f.subject("stuck"), { hang: true, n: 0 }, { id: "stuck-1" });
    await f.bus.publish(f.subject("stuck"), { hang: false, n: 1 });
    await waitFor(() => good.length === 1, 5000, "the event behind the stuck one");
    await waitFor(() => dead.length === 1, 10_000, "the dead letter");
    assert.deepEqual(stuck.map((s) => s.count), [1, 2]);
    for (const { signal } of stuck) {
      assert.equal(signal.aborted, true);
      assert.equal((signal.reason as Error).name, "TimeoutError");
    }
    const meta = dead[0]!;
    assert.equal(meta.headers["ce-id"], "stuck-1");
    assert.equal(meta.headers["dlq-reason"], "handler_timeout");
    assert.equal(meta.headers["dlq-delivery-count"], "2");
    assert.equal(meta.headers["dlq-error"], "TimeoutError: Event handler timed out after 200 ms");
    const warned = f.lines.find((l) => l["message"] === "Event handler timed out: will retry");
    assert.equal(warned?.["level"], "warn");
    assert.equal(warned?.["timeout_ms"], 200);
    assert.equal(warned?.["delivery_count"], 1);
    assert.equal(warned?.["retry_in_ms"], 50);
  },
);

/** A structural logger with no `isLevelEnabled`, as a service might hand over. */
function plainLogger(lines: Record<string, unknown>[]): EventLogger {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>): void =>
    void lines.push({ level, message, ...fields });
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
  };
}

behaviour(
  "a logger without isLevelEnabled is accepted: publish and delivery work and log",
  async (f) => {
    const seen: unknown[] = [];
    await f.bus.subscribe(f.subject("plain"), (p) => void seen.push(p), { durable: "plain" });
    const ack = await f.bus.publish(f.subject("plain"), { n: 1 });
    assert.equal(ack.stream, f.stream);
    await waitFor(() => seen.length === 1, 5000, "the delivery");
    await waitFor(
      () => f.lines.some((l) => l["message"] === "Event handled" && l["level"] === "debug"),
      5000,
      "the handled line",
    );
    assert.ok(f.lines.some((l) => l["message"] === "Event published" && l["level"] === "debug"));
  },
  { logger: plainLogger },
);
