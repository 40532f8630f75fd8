// Fault tests: each starts its own nats-server (own port, own store directory), stops and
// restarts it, and always kills it and removes the directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { AppError } from "@plinth/errors";
import { connectEvents } from "./connect_events.ts";
import { EventError } from "./errors.ts";
import type { PublishEvent } from "./event_bus.ts";
import { captureLogger, freePort, sleep, waitFor } from "@plinth/testing";
import { needNatsServer, TestNatsServer } from "@plinth/testing/nats";

test("connectEvents() survives two 3 s server restarts while publishing 10 000 events", {
  timeout: 120_000,
}, async (t) => {
  if (!(await needNatsServer(t))) return;
  const server = new TestNatsServer(await freePort());
  const logger = captureLogger();
  const lines = logger.lines;
  const received = new Map<string, number>();
  try {
    await server.start();
    const bus = await connectEvents({
      servers: server.url,
      logger,
      reconnectWait: 200,
      publishTimeout: 2000,
      retryDelay: 250,
      streams: [{ name: "FAULT", subjects: ["fault.>"] }],
    });
    await bus.subscribe("fault.event", (_p, meta) => {
      received.set(meta.id, (received.get(meta.id) ?? 0) + 1);
    }, { durable: "fault-reader", concurrency: 64, ackWait: 5000 });

    const total = 10_000;
    const outcomes: ("acked" | "rejected" | undefined)[] = new Array(total);
    const acked: string[] = [];
    let done = 0;
    let next = 0;
    const events: PublishEvent[] = Array.from({ length: total }, (_, n) => ({
      subject: "fault.event",
      payload: { n },
      id: `e-${n}`,
    }));
    const worker = async (): Promise<void> => {
      while (next < total) {
        const n = next++;
        const event = events[n]!;
        try {
          await bus.publish(event.subject, event.payload, { id: event.id });
          outcomes[n] = "acked";
          acked.push(event.id!);
        } catch (error) {
          assert.ok(error instanceof AppError, String(error));
          assert.equal(error.status, 503);
          assert.match(error.message, /"fault\.event"/);
          outcomes[n] = "rejected";
        }
        done++;
      }
    };
    const publishing = Promise.all(Array.from({ length: 64 }, worker));
    assert.equal(bus.connected, true);
    for (const at of [2500, 6000]) {
      await waitFor(() => done >= at, 60_000, `${at} publishes`);
      await server.stop();
      await waitFor(() => !bus.connected, 10_000, "connected turns false while NATS is down");
      await sleep(3000);
      await server.start();
      await waitFor(() => bus.connected, 30_000, "connected turns true again");
    }
    await publishing;
    assert.equal(outcomes.filter((o) => o !== undefined).length, total, "every publish settled");
    assert.ok(acked.length > total * 0.9, `most publishes acked (${acked.length})`);

    // Every acked event is in the stream once: one sequence per id.
    const nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info("FAULT");
    const ids = new Map<string, number>();
    const js = (await import("@nats-io/jetstream")).jetstream(nc);
    const reader = await js.consumers.get("FAULT");
    const messages = await reader.fetch({ max_messages: info.state.messages, expires: 10_000 });
    for await (const m of messages) {
      const id = m.headers?.get("ce-id") ?? "";
      ids.set(id, (ids.get(id) ?? 0) + 1);
      if (ids.size === info.state.messages) break;
    }
    await nc.close();
    assert.equal(info.state.messages, ids.size, "no id has two sequences");
    for (const id of acked) assert.equal(ids.get(id), 1, `acked ${id} stored once`);

    await waitFor(
      () => acked.every((id) => received.has(id)),
      60_000,
      "every acked event delivered",
    );
    await bus.close();
    assert.equal(bus.connected, false, "a closed bus is not connected");
    assert.ok(lines.some((l) => l.message === "NATS connection lost: reconnecting"));
    assert.ok(lines.some((l) => l.message === "NATS connection restored"));
  } finally {
    await server.dispose();
  }
});

test(
  "connectEvents() waits for a server that is down at start and then works",
  { timeout: 30_000 },
  async (t) => {
    if (!(await needNatsServer(t))) return;
    const server = new TestNatsServer(await freePort());
    try {
      const logger = captureLogger();
      const retrying = (): number =>
        logger.lines.filter((l) => l.message === "Cannot connect to NATS yet: retrying").length;
      let connected = false;
      const connecting = connectEvents({
        servers: server.url,
        logger,
        reconnectWait: 200,
        connectTimeout: 25_000,
        streams: [{ name: "LATE", subjects: ["late.>"] }],
      }).then((bus) => {
        connected = true;
        return bus;
      });
      await waitFor(() => retrying() >= 3, 10_000, "three failed connection attempts");
      assert.equal(connected, false, "still waiting for the server");
      await server.start();
      const bus = await connecting;
      const seen: unknown[] = [];
      await bus.subscribe("late.event", (p) => void seen.push(p), { durable: "late" });
      const ack = await bus.publish("late.event", { up: true });
      assert.equal(ack.stream, "LATE");
      await waitFor(() => seen.length === 1, 5000, "the delivery");
      await bus.close();
    } finally {
      await server.dispose();
    }
  },
);

test(
  "publish() rejects with a 503 naming the subject after its retries when the server stays down",
  { timeout: 30_000 },
  async (t) => {
    if (!(await needNatsServer(t))) return;
    const server = new TestNatsServer(await freePort());
    try {
      await server.start();
      const logger = captureLogger();
      const lines = logger.lines;
      const bus = await connectEvents({
        servers: server.url,
        logger,
        reconnectWait: 200,
        publishTimeout: 300,
        publishRetries: 2,
        retryDelay: 50,
        streams: [{ name: "DOWN", subjects: ["down.>"] }],
      });
      await server.stop();
      const started = Date.now();
      await assert.rejects(bus.publish("down.event", { n: 1 }, { id: "d-1" }), (error: unknown) => {
        assert.ok(error instanceof EventError && error instanceof AppError, String(error));
        assert.equal(error.status, 503);
        assert.equal(error.code, "event_publish_failed");
        assert.match(
          error.message,
          /^Cannot publish event to "down\.event": no acknowledgement after 3 attempts/,
        );
        return true;
      });
      assert.ok(Date.now() - started >= 900, "waited for each attempt");
      assert.equal(
        lines.filter((l) => l.message === "Event publish failed: will retry").length,
        2,
      );
      assert.ok(
        lines.some((l) => l.message === "Cannot publish event" && l.level === "error"),
      );
      await bus.close({ timeout: 1000 });
    } finally {
      await server.dispose();
    }
  },
);
