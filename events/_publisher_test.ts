import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connectEvents } from "./connect_events.ts";
import { AckPublisher } from "./_publisher.ts";
import { captureLogger, natsUrl, uniqueName } from "@plinth/testing";
import { needNats } from "@plinth/testing/nats";

const encoder = new TextEncoder();

function ack(stream: string, seq: number): Uint8Array {
  return encoder.encode(JSON.stringify({ stream, seq }));
}

/**
 * Creates a stream that stores `subjects` without acknowledging (`no_ack`), so the bus finds a
 * stream covering them while the test's own subscriber plays the stream's answers. Resolves
 * with a function that deletes it.
 */
async function silentStream(
  nc: NatsConnection,
  name: string,
  subjects: string[],
): Promise<() => Promise<void>> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects, storage: StorageType.Memory, no_ack: true });
  return async () => void await jsm.streams.delete(name);
}

test("publish() retries a lost ack with the same id and ignores the late one", {
  timeout: 30_000,
}, async (t) => {
  if (!(await needNats(t))) return;
  const id = uniqueName("t");
  const subject = `lateack_${id}.x`;
  const nc = await connect({ servers: natsUrl });
  const dispose = await silentStream(nc, `LATEACK_${id}`, [subject]);
  // A stand-in for a stream: the first attempt is answered after its timeout, the second at once.
  const seen: Msg[] = [];
  let lateSent!: () => void;
  const late = new Promise<void>((resolve) => (lateSent = resolve));
  nc.subscribe(subject, {
    callback: (_error, msg) => {
      seen.push(msg);
      if (seen.length === 1) {
        setTimeout(() => {
          msg.respond(ack("LATE", 1));
          lateSent();
        }, 400);
      } else msg.respond(ack("FAKE", seen.length));
    },
  });
  await nc.flush();
  const logger = captureLogger();
  const lines = logger.lines;
  const bus = await connectEvents({
    logger,
    deadLetter: false,
    publishTimeout: 200,
    publishRetries: 2,
    retryDelay: 10,
  });
  try {
    const result = await bus.publish(subject, { n: 1 }, { id: `evt-${id}` });
    assert.deepEqual(result, { stream: "FAKE", seq: 2, duplicate: false, id: `evt-${id}` });
    assert.equal(seen.length, 2);
    assert.deepEqual(seen.map((m) => m.headers?.get("Nats-Msg-Id")), [`evt-${id}`, `evt-${id}`]);
    assert.notEqual(seen[0]!.reply, seen[1]!.reply);
    const retry = lines.find((l) => l.message === "Event publish failed: will retry");
    assert.equal(retry?.fields["attempt"], 1);
    assert.equal(retry?.fields["error"], "TimeoutError: timeout");
    // The late ack for attempt 1 must change nothing. It is sent before the next publish's ack,
    // on the same connection to the same bus, so once that publish resolves the bus has read it.
    await late;
    await nc.flush();
    const next = await bus.publish(subject, { n: 2 }, { id: `next-${id}` });
    assert.deepEqual(next, { stream: "FAKE", seq: 3, duplicate: false, id: `next-${id}` });
    assert.equal(seen.length, 3, "the late ack caused no other attempt");
  } finally {
    await bus.close();
    await dispose();
    await nc.close();
  }
});

test("publish() fails after its retries when no ack ever comes", {
  timeout: 30_000,
}, async (t) => {
  if (!(await needNats(t))) return;
  const id = uniqueName("t");
  const subject = `noack_${id}.x`;
  const nc = await connect({ servers: natsUrl });
  const dispose = await silentStream(nc, `NOACK_${id}`, [subject]);
  let attempts = 0;
  nc.subscribe(subject, {
    callback: () => {
      attempts++;
    },
  });
  await nc.flush();
  const logger = captureLogger();
  const bus = await connectEvents({
    logger,
    deadLetter: false,
    publishTimeout: 100,
    publishRetries: 1,
    retryDelay: 10,
  });
  try {
    await assert.rejects(bus.publish(subject, 1), (error: unknown) => {
      assert.equal((error as { status?: number }).status, 503);
      assert.equal((error as { code?: string }).code, "event_publish_failed");
      assert.equal(
        (error as Error).message,
        `Cannot publish event to "${subject}": no acknowledgement after 2 attempts: TimeoutError: timeout`,
      );
      return true;
    });
    assert.equal(attempts, 2);
  } finally {
    await bus.close();
    await dispose();
    await nc.close();
  }
});

test("publish() reports a stream's refusal at once, and a reply that is not an ack", {
  timeout: 30_000,
}, async (t) => {
  if (!(await needNats(t))) return;
  const id = uniqueName("t");
  const nc = await connect({ servers: natsUrl });
  const dispose = await silentStream(nc, `FAKES_${id}`, [
    `refuse_${id}.x`,
    `garbage_${id}.x`,
    `empty_${id}.x`,
  ]);
  let refused = 0;
  nc.subscribe(`refuse_${id}.x`, {
    callback: (_error, msg) => {
      refused++;
      msg.respond(encoder.encode(JSON.stringify({
        error: { code: 400, err_code: 10071, description: "wrong last sequence: 7" },
      })));
    },
  });
  nc.subscribe(`garbage_${id}.x`, {
    callback: (_error, msg) => {
      msg.respond("<html>");
    },
  });
  nc.subscribe(`empty_${id}.x`, {
    callback: (_error, msg) => {
      msg.respond("{}");
    },
  });
  await nc.flush();
  const logger = captureLogger();
  const bus = await connectEvents({ logger, deadLetter: false, publishRetries: 3, retryDelay: 10 });
  try {
    await assert.rejects(bus.publish(`refuse_${id}.x`, 1), (error: unknown) => {
      assert.equal((error as { code?: string }).code, "event_publish_failed");
      assert.match((error as Error).message, /wrong last sequence: 7$/);
      assert.equal(((error as Error).cause as Error).name, "JetStreamApiError");
      return true;
    });
    assert.equal(refused, 1, "a refusal is not retried");
    await assert.rejects(bus.publish(`garbage_${id}.x`, 1), /ack that is not JSON/);
    await assert.rejects(bus.publish(`empty_${id}.x`, 1), /ack without stream and sequence/);
  } finally {
    await bus.close();
    await dispose();
    await nc.close();
  }
});

test("AckPublisher close() fails what waits and refuses new publishes", {
  timeout: 30_000,
}, async (t) => {
  if (!(await needNats(t))) return;
  const id = uniqueName("t");
  const nc = await connect({ servers: natsUrl });
  try {
    let received = 0;
    nc.subscribe(`silent_${id}.x`, {
      callback: () => {
        received++;
      },
    });
    const publisher = new AckPublisher(nc, 60_000);
    const waiting = publisher.publish(`silent_${id}.x`, "1", natsHeaders());
    await nc.flush();
    assert.equal(publisher.waiting, 1);
    publisher.close();
    await assert.rejects(waiting, { name: "ClosedConnectionError" });
    assert.equal(publisher.waiting, 0);
    await assert.rejects(publisher.publish(`silent_${id}.x`, "2", natsHeaders()), {
      name: "ClosedConnectionError",
    });
    await nc.flush();
    assert.equal(received, 1);
  } finally {
    await nc.close();
  }
});

test("AckPublisher fails waiting publishes when its connection closes underneath", {
  timeout: 30_000,
}, async (t) => {
  if (!(await needNats(t))) return;
  const id = uniqueName("t");
  const nc = await connect({ servers: natsUrl });
  nc.subscribe(`silent_${id}.y`, { callback: () => {} });
  const publisher = new AckPublisher(nc, 60_000);
  const waiting = publisher.publish(`silent_${id}.y`, "1", natsHeaders());
  const settled = waiting.then(() => "resolved", (error: Error) => error.name);
  await nc.close();
  assert.equal(await settled, "ClosedConnectionError");
  assert.equal(publisher.waiting, 0);
});
