import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { connectEvents } from "./connect_events.ts";
import { EventError } from "./errors.ts";
import { captureLogger, freePort, natsUrl, uniqueName, waitFor } from "@plinth/testing";
import { needNats } from "@plinth/testing/nats";

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
  await assert.rejects(connectEvents({ env: "NATS_URL=x" as never }), /env must be an object/);
  await assert.rejects(connectEvents({ env: null as never }), /env must be an object/);
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
    const id = uniqueName("t");
    const nc = await connect({ servers: natsUrl });
    try {
      const logger = captureLogger();
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
  const id = uniqueName("t");
  const logger = captureLogger();
  const lines = logger.lines;
  const stream = { name: `UPD_${id}`, subjects: [`upd_${id}.>`], storage: "memory" as const };
  const first = await connectEvents({ logger, deadLetter: false, streams: [stream] });
  await first.close();
  const second = await connectEvents({
    logger,
    deadLetter: false,
    streams: [{ ...stream, maxAge: 60_000, duplicateWindow: 30_000 }],
  });
  assert.ok(
    lines.some((l) => l.message === "Stream created" && l.fields["stream"] === stream.name),
  );
  assert.ok(
    lines.some((l) => l.message === "Stream updated" && l.fields["stream"] === stream.name),
  );
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
    const logger = captureLogger();
    const lines = logger.lines;
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
    assert.ok(elapsed >= 650, `gave up after ${elapsed} ms, before connectTimeout`);
    const retries = lines.filter((l) => l.message === "Cannot connect to NATS yet: retrying");
    // At most one attempt per reconnectWait within connectTimeout (700 / 100, plus the first),
    // however slow the machine (a slow one makes fewer): it stops rather than trying on.
    assert.ok(retries.length >= 2 && retries.length <= 8, `${retries.length} attempts logged`);
    assert.deepEqual(retries.slice(0, 2).map((l) => [l.level, l.fields["attempt"]]), [
      ["warn", 1],
      ["warn", 2],
    ]);
    assert.equal(retries[0]!.fields["target"], `127.0.0.1:${port}, 127.0.0.1:${port}`);
    assert.equal(retries[0]!.fields["delay_ms"], 100);
    assert.equal(typeof retries[0]!.fields["error"], "string");
    const connecting = lines.find((l) => l.message === "Connecting to NATS");
    assert.equal(connecting?.fields["target"], `127.0.0.1:${port}, 127.0.0.1:${port}`);
    assert.doesNotMatch(JSON.stringify(lines), /bob|s3cret|tok3n/);
  },
);

test(
  "connectEvents() keeps a password with an unencoded /, ? or # out of connect_failed, its cause and the logs",
  { timeout: 20_000 },
  async () => {
    const port = await freePort();
    for (const password of ["s3cret/pass", "s3cret?pass", "s3cret#pass"]) {
      const logger = captureLogger();
      const lines = logger.lines;
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
  "connectEvents() reads NATS_URL from its env option, not from the process environment",
  { timeout: 20_000 },
  async () => {
    const port = await freePort();
    const logger = captureLogger();
    await assert.rejects(
      connectEvents({
        env: { NATS_URL: `nats://127.0.0.1:${port}` },
        logger,
        connectTimeout: 300,
        reconnectWait: 100,
      }),
      (error: unknown) => {
        assert.ok(error instanceof EventError, String(error));
        assert.equal(error.code, "connect_failed");
        assert.match(error.message, new RegExp(`NATS at 127\\.0\\.0\\.1:${port} unreachable`));
        return true;
      },
    );
  },
);

test("connectEvents() fails naming --allow-env=NATS_URL when NATS_URL may not be read", async () => {
  // What Deno's process.env does without --allow-env=NATS_URL: the read throws NotCapable.
  const denied = (name: string) =>
    new Proxy({}, {
      get: () => {
        throw Object.assign(new Error('Requires env access to "NATS_URL"'), { name });
      },
    });
  for (const name of ["NotCapable", "PermissionDenied"]) {
    await assert.rejects(connectEvents({ env: denied(name), connectTimeout: 300 }), (error) => {
      assert.ok(error instanceof EventError, String(error));
      assert.equal(error.code, "connect_failed");
      assert.match(error.message, /cannot read NATS_URL: .*--allow-env=NATS_URL/);
      assert.equal((error.cause as Error).name, name);
      return true;
    });
  }
  await assert.rejects(
    connectEvents({ env: denied("TypeError"), connectTimeout: 300 }),
    /cannot read NATS_URL: reading it failed/,
  );
});

test(
  "connectEvents() prefers servers to NATS_URL of env",
  { timeout: 20_000 },
  async () => {
    const [envPort, serversPort] = [await freePort(), await freePort()];
    const logger = captureLogger();
    await assert.rejects(
      connectEvents({
        env: { NATS_URL: `nats://127.0.0.1:${envPort}` },
        servers: `nats://127.0.0.1:${serversPort}`,
        logger,
        connectTimeout: 300,
        reconnectWait: 100,
      }),
      new RegExp(`NATS at 127\\.0\\.0\\.1:${serversPort} unreachable`),
    );
  },
);

test(
  "deleteStream() and subscribe() reject with bus_closed once the given connection is closed",
  { timeout: 30_000 },
  async (t) => {
    if (!(await needNats(t))) return;
    const id = uniqueName("t");
    const nc = await connect({ servers: natsUrl });
    const logger = captureLogger();
    const bus = await connectEvents({
      connection: nc,
      logger,
      deadLetter: false,
      streams: [{ name: `GONE_${id}`, subjects: [`gone_${id}.>`], storage: "memory" }],
    });
    assert.equal(await bus.deleteStream(`GONE_${id}`), true);
    await nc.close();
    const closed = (error: unknown): boolean => {
      assert.ok(error instanceof EventError, String(error));
      assert.equal(error.code, "bus_closed");
      assert.equal(error.status, 503);
      return true;
    };
    await assert.rejects(bus.deleteStream(`GONE_${id}`), closed);
    await assert.rejects(bus.subscribe(`gone_${id}.x`, () => {}, { durable: "d" }), closed);
    await bus.close();
  },
);

test(
  "subscribe() dead-letters a body that is not JSON at once, without calling the handler",
  { timeout: 30_000 },
  async (t) => {
    if (!(await needNats(t))) return;
    const id = uniqueName("t");
    const nc = await connect({ servers: natsUrl });
    const logger = captureLogger();
    const bus = await connectEvents({
      connection: nc,
      logger,
      streams: [{ name: `RAW_${id}`, subjects: [`raw_${id}.>`], storage: "memory" }],
      deadLetter: { stream: `RAWDLQ_${id}`, prefix: `rawdlq_${id}`, storage: "memory" },
    });
    try {
      const handled: unknown[] = [];
      await bus.subscribe(`raw_${id}.x`, (payload) => void handled.push(payload), {
        durable: "reader",
        maxDeliver: 5,
      });
      // Raw bytes straight into the stream, past the bus's JSON encoding.
      const js = jetstream(nc);
      await js.publish(`raw_${id}.x`, "not json {", { msgID: `raw-${id}` });
      await bus.publish(`raw_${id}.x`, { sentinel: true });
      await waitFor(() => handled.length === 1, 5000, "the sentinel event");
      assert.deepEqual(handled, [{ sentinel: true }], "the handler never saw the raw body");
      const dead = await (await js.consumers.get(`RAWDLQ_${id}`)).next({ expires: 5000 });
      assert.ok(dead !== null, "a dead letter was stored");
      assert.equal(dead.subject, `rawdlq_${id}.raw_${id}.x`);
      assert.equal(dead.string(), "not json {");
      assert.equal(dead.headers?.get("dlq-reason"), "invalid_payload");
      assert.equal(dead.headers?.get("dlq-delivery-count"), "1");
      assert.match(dead.headers?.get("dlq-error") ?? "", /^SyntaxError: /);
    } finally {
      await bus.deleteStream(`RAW_${id}`);
      await bus.deleteStream(`RAWDLQ_${id}`);
      await bus.close();
      await nc.close();
    }
  },
);

test(
  "publish() refuses a subject no stream covers with no_stream before anything is sent",
  { timeout: 30_000 },
  async (t) => {
    if (!(await needNats(t))) return;
    const id = uniqueName("t");
    const nc = await connect({ servers: natsUrl });
    try {
      const received: string[] = [];
      const sub = nc.subscribe(`core_${id}.>`, {
        callback: (_error, msg) => void received.push(msg.subject),
      });
      const logger = captureLogger();
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
    const id = uniqueName("t");
    const logger = captureLogger();
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
