import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { connectEvents } from "./connect_events.ts";
import { EventError } from "./errors.ts";
import { captureLogger, freePort, natsUrl, needNats, uid, waitFor } from "./_testing.ts";

test("connectEvents() validates its options before connecting", async () => {
  await assert.rejects(connectEvents({ publishTimeout: 0 }), RangeError);
  await assert.rejects(connectEvents({ publishRetries: -1 }), RangeError);
  await assert.rejects(connectEvents({ retryDelay: 1.5 }), RangeError);
  await assert.rejects(connectEvents({ closeTimeout: -1 }), RangeError);
  await assert.rejects(connectEvents({ source: "" }), /source must be a non-empty string/);
  await assert.rejects(connectEvents({ servers: 5 as never }), /servers must be a non-empty/);
  await assert.rejects(connectEvents({ servers: [] }), /servers must be a non-empty/);
  await assert.rejects(connectEvents({ servers: "" }), /servers must be a non-empty/);
  await assert.rejects(connectEvents({ connectTimeout: 0 }), /connectTimeout must be/);
  await assert.rejects(connectEvents({ connectTimeout: 1.5 }), RangeError);
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
  const methods = "logger must have debug, info, warn and error methods";
  await assert.rejects(connectEvents({ logger: {} as never }), new RegExp(methods));
  await assert.rejects(
    connectEvents({ logger: { debug() {}, info() {}, warn() {} } as never }),
    new RegExp(methods),
  );
  const noop = (): void => {};
  await assert.rejects(
    connectEvents({
      logger: { debug: noop, info: noop, warn: noop, error: noop, isLevelEnabled: 1 } as never,
    }),
    /logger\.isLevelEnabled must be a function/,
  );
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

test(
  "connectEvents() fails with connect_failed after connectTimeout when nothing listens, logging each attempt without credentials",
  { timeout: 20_000 },
  async () => {
    const port = await freePort();
    const { logger, lines } = captureLogger();
    const started = performance.now();
    await assert.rejects(
      connectEvents({
        servers: [`nats://bob:s3cret-pass@127.0.0.1:${port}`, `tls://tok3n@127.0.0.1:${port}/x`],
        logger,
        connectTimeout: 700,
        reconnectWait: 100,
      }),
      (error: unknown) => {
        assert.ok(error instanceof EventError, String(error));
        assert.equal(error.code, "connect_failed");
        assert.match(
          error.message,
          new RegExp(
            `^Cannot connect event bus: NATS at 127\\.0\\.0\\.1:${port}, 127\\.0\\.0\\.1:${port} unreachable after \\d+ attempts in \\d+ ms \\(connectTimeout\\): `,
          ),
        );
        assert.doesNotMatch(error.message, /bob|s3cret|tok3n/);
        return true;
      },
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 650 && elapsed < 5000, `gave up after ${elapsed} ms`);
    const retries = lines.filter((l) => l["message"] === "Cannot connect to NATS yet: retrying");
    assert.ok(retries.length >= 2, `${retries.length} attempts logged`);
    assert.deepEqual(retries.slice(0, 2).map((l) => [l["level"], l["attempt"]]), [
      ["warn", 1],
      ["warn", 2],
    ]);
    assert.equal(retries[0]!["target"], `127.0.0.1:${port}, 127.0.0.1:${port}`);
    assert.equal(retries[0]!["delay_ms"], 100);
    assert.equal(typeof retries[0]!["error"], "string");
    const connecting = lines.find((l) => l["message"] === "Connecting to NATS");
    assert.equal(connecting?.["target"], `127.0.0.1:${port}, 127.0.0.1:${port}`);
    assert.doesNotMatch(JSON.stringify(lines), /bob|s3cret|tok3n/);
  },
);

test(
  "connectEvents() keeps a password with an unencoded /, ? or # out of connect_failed, its cause and the logs",
  { timeout: 20_000 },
  async () => {
    const port = await freePort();
    for (const password of ["s3cret/pass", "s3cret?pass", "s3cret#pass"]) {
      const { logger, lines } = captureLogger();
      await assert.rejects(
        connectEvents({
          servers: `nats://bob:${password}@127.0.0.1:${port}`,
          logger,
          connectTimeout: 300,
          reconnectWait: 100,
        }),
        (error: unknown) => {
          assert.ok(error instanceof EventError, String(error));
          assert.equal(error.code, "connect_failed");
          // The client cannot parse such a URL; whatever it said, the host is all that shows.
          assert.match(error.message, new RegExp(`NATS at 127\\.0\\.0\\.1:${port} unreachable`));
          const cause = error.cause as Error;
          const everything = [
            error.message,
            error.stack,
            cause?.message,
            cause?.stack,
            JSON.stringify(cause, Object.getOwnPropertyNames(cause ?? {})),
            JSON.stringify(lines),
          ].join("\n");
          assert.doesNotMatch(everything, /s3cret|bob:/, password);
          return true;
        },
      );
    }
  },
);

test(
  "publish() refuses a subject no stream covers with no_stream before anything is sent",
  { timeout: 30_000 },
  async (t) => {
    if (!(await needNats(t))) return;
    const id = uid();
    const nc = await connect({ servers: natsUrl });
    try {
      const received: string[] = [];
      const sub = nc.subscribe(`core_${id}.>`, {
        callback: (_error, msg) => void received.push(msg.subject),
      });
      const { logger } = captureLogger();
      const bus = await connectEvents({
        connection: nc,
        logger,
        deadLetter: false,
        streams: [{ name: `SENT_${id}`, subjects: [`sent_${id}.>`], storage: "memory" }],
      });
      await assert.rejects(
        bus.publish(`core_${id}.reset`, { everything: true }),
        (error: unknown) => error instanceof EventError && error.code === "no_stream",
      );
      // Messages of one connection arrive in order: once the sentinel is in, anything the bus
      // had sent before it would be too.
      nc.publish(`core_${id}.sentinel`);
      await waitFor(() => received.includes(`core_${id}.sentinel`), 5000, "the sentinel");
      assert.deepEqual(received, [`core_${id}.sentinel`]);
      sub.unsubscribe();
      await bus.deleteStream(`SENT_${id}`);
      await bus.close();
    } finally {
      await nc.close();
    }
  },
);

test(
  "publish() reaches a stream it did not configure, found on the server, and no_stream once it is deleted",
  { timeout: 30_000 },
  async (t) => {
    if (!(await needNats(t))) return;
    const id = uid();
    const { logger } = captureLogger();
    const owner = await connectEvents({
      logger,
      deadLetter: false,
      streams: [{ name: `OWN_${id}`, subjects: [`own_${id}.>`], storage: "memory" }],
    });
    const other = await connectEvents({ logger, deadLetter: false, publishRetries: 1 });
    try {
      const first = await other.publish(`own_${id}.a`, { n: 1 });
      const second = await other.publish(`own_${id}.a`, { n: 2 });
      assert.deepEqual([first.stream, first.seq, second.seq], [`OWN_${id}`, 1, 2]);
      assert.equal(await owner.deleteStream(`OWN_${id}`), true);
      await assert.rejects(
        other.publish(`own_${id}.a`, { n: 3 }),
        (error: unknown) => error instanceof EventError && error.code === "no_stream",
      );
    } finally {
      await owner.deleteStream(`OWN_${id}`);
      await other.close();
      await owner.close();
    }
  },
);
