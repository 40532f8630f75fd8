import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { connectEvents } from "./connect_events.ts";
import { EventError } from "./errors.ts";
import { captureLogger, natsUrl, needNats, uid } from "./_testing.ts";

test("connectEvents() validates its options before connecting", async () => {
  await assert.rejects(connectEvents({ publishTimeout: 0 }), RangeError);
  await assert.rejects(connectEvents({ publishRetries: -1 }), RangeError);
  await assert.rejects(connectEvents({ retryDelay: 1.5 }), RangeError);
  await assert.rejects(connectEvents({ closeTimeout: -1 }), RangeError);
  await assert.rejects(connectEvents({ source: "" }), /source must be a non-empty string/);
  await assert.rejects(connectEvents({ servers: 5 as never }), /servers must be a string/);
  await assert.rejects(connectEvents({ name: 5 as never }), /name must be a string/);
  await assert.rejects(
    connectEvents({ connection: {} as never }),
    /connection must be a NatsConnection/,
  );
  await assert.rejects(
    connectEvents({ streams: [{ name: "a.b", subjects: ["x"] }] }),
    /streams\[0\]\.name/,
  );
  await assert.rejects(
    connectEvents({ streams: [{ name: "A", subjects: [] }] }),
    /non-empty array/,
  );
  await assert.rejects(
    connectEvents({ streams: [{ name: "A", subjects: ["a..b"] }] }),
    /empty token/,
  );
  await assert.rejects(
    connectEvents({ streams: [{ name: "A", subjects: ["a"], storage: "disk" as never }] }),
    /storage/,
  );
  await assert.rejects(
    connectEvents({ streams: [{ name: "A", subjects: ["a"], retention: "x" as never }] }),
    /retention/,
  );
  await assert.rejects(
    connectEvents({ streams: [{ name: "A", subjects: ["a"], replicas: 0 }] }),
    RangeError,
  );
  await assert.rejects(connectEvents({ streams: "x" as never }), /streams must be an array/);
  await assert.rejects(
    connectEvents({ streams: [null as never] }),
    /streams\[0\] must be an object/,
  );
  await assert.rejects(connectEvents({ deadLetter: { prefix: "a.b" } }), /deadLetter\.prefix/);
  await assert.rejects(connectEvents({ deadLetter: 3 as never }), /deadLetter must be an object/);
  await assert.rejects(connectEvents({ logger: {} as never }), /logger must be a Logger/);
  await assert.rejects(connectEvents(null as never), /options must be an object/);
  await assert.rejects(
    connectEvents({ streams: [{ name: "DLQ", subjects: ["a"] }] }),
    /stream DLQ is configured twice/,
  );
});

test(
  "connectEvents() uses a given connection and leaves it open on close()",
  { timeout: 30_000 },
  async (t) => {
    if (!(await needNats(t))) return;
    const id = uid();
    const nc = await connect({ servers: natsUrl });
    try {
      const { logger } = captureLogger();
      const bus = await connectEvents({
        connection: nc,
        logger,
        deadLetter: false,
        streams: [{ name: `BYO_${id}`, subjects: [`byo_${id}.>`], storage: "memory" }],
      });
      assert.equal((await bus.publish(`byo_${id}.x`, 1)).stream, `BYO_${id}`);
      await assert.rejects(
        bus.publish(`nostream_${id}.x`, 1),
        (error: unknown) => {
          assert.ok(error instanceof EventError);
          assert.equal(error.code, "no_stream");
          assert.equal(
            error.message,
            `Cannot publish event to "nostream_${id}.x": no stream covers the subject`,
          );
          return true;
        },
      );
      assert.equal(await bus.deleteStream(`BYO_${id}`), true);
      await bus.close();
      assert.equal(nc.isClosed(), false);
    } finally {
      await nc.close();
    }
  },
);

test("connectEvents() updates a stream whose settings changed and reports setup failures", {
  timeout: 30_000,
}, async (t) => {
  if (!(await needNats(t))) return;
  const id = uid();
  const { logger, lines } = captureLogger();
  const stream = { name: `UPD_${id}`, subjects: [`upd_${id}.>`], storage: "memory" as const };
  const first = await connectEvents({ logger, deadLetter: false, streams: [stream] });
  await first.close();
  const second = await connectEvents({
    logger,
    deadLetter: false,
    streams: [{ ...stream, maxAge: 60_000, duplicateWindow: 30_000 }],
  });
  assert.ok(lines.some((l) => l["message"] === "Stream created" && l["stream"] === stream.name));
  assert.ok(lines.some((l) => l["message"] === "Stream updated" && l["stream"] === stream.name));
  await assert.rejects(
    connectEvents({
      logger,
      deadLetter: false,
      streams: [{ name: `OVL_${id}`, subjects: [`upd_${id}.x`], storage: "memory" }],
    }),
    (error: unknown) => {
      assert.ok(error instanceof EventError);
      assert.equal(error.code, "stream_setup_failed");
      assert.match(error.message, new RegExp(`^Cannot ensure stream OVL_${id}: `));
      return true;
    },
  );
  assert.equal(await second.deleteStream(stream.name), true);
  assert.equal(await second.deleteStream(stream.name), false);
  await second.close();
});
