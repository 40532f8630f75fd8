/**
 * Benchmark: publish throughput of `@plinth/events` (`publish` and `publishMany`) against raw
 * `@nats-io/jetstream` `js.publish`, 128-byte payloads, 256 in flight, on the shared NATS server
 * (NATS_URL, else 127.0.0.1:4222); then end-to-end latency publish → handler at 1 000 events/s.
 *
 * Every case reports wall time (events/s) and the CPU time this process spent per event
 * (`process.cpuUsage()`, user + system): CPU time is far less sensitive to other processes on a
 * loaded machine than wall time, and it is what plinth's own code adds.
 *
 * Run: `node bench/events.ts`, `deno run -A bench/events.ts` or `bun bench/events.ts`.
 * Environment: `EVENTS` (per round, default 20000), `ROUNDS` (default 5), `RATE` (default 1000),
 * `LATENCY_EVENTS` (default 5000).
 *
 * @module
 */
import process from "node:process";
import { connect } from "@nats-io/transport-node";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createLogger } from "@plinth/logging";
import { connectEvents } from "@plinth/events";

const env = process.env;
const num = (name: string, fallback: number): number => {
  const value = Number(env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const TARGET = 0.9;
const EVENTS = num("EVENTS", 20_000);
const IN_FLIGHT = 256;
const ROUNDS = num("ROUNDS", 5);
const LATENCY_EVENTS = num("LATENCY_EVENTS", 5000);
const RATE = num("RATE", 1000);
const TIMEOUT = 5000;

const servers = env["NATS_URL"] ?? "127.0.0.1:4222";
const id = crypto.randomUUID().slice(0, 8);
const stream = `BENCH_${id}`;
const subject = (name: string): string => `bench_${id}.${name}`;
const logger = createLogger({ service: "bench", level: "warn", destination: { write: () => {} } });

// 128-byte JSON body (the payload object serialises to exactly 128 bytes).
const payload = { user: "u-000001", org: "acme", kind: "usage.recorded", pad: "" };
payload.pad = "x".repeat(128 - JSON.stringify(payload).length);
const body = new TextEncoder().encode(JSON.stringify(payload));
if (body.length !== 128) throw new Error(`payload is ${body.length} bytes`);

// Both sides connect with the client options connectEvents uses (connectEvents bounds the first
// connection with its own retry loop), so the ratio is plinth's own overhead.
const connectOptions = {
  servers,
  name: "bench",
  maxReconnectAttempts: -1,
  reconnectTimeWait: 1000,
  noAsyncTraces: true,
};
const bus = await connectEvents({
  ...connectOptions,
  logger,
  source: "bench",
  deadLetter: false,
  publishTimeout: TIMEOUT,
  streams: [{ name: stream, subjects: [`bench_${id}.>`], storage: "memory" }],
});
const nc: NatsConnection = await connect(connectOptions);
const js = jetstream(nc, { timeout: TIMEOUT });
const jsm = await jetstreamManager(nc);

/** Raw js.publish carrying what plinth sends: the CloudEvents headers, a UUID msgID, JSON body. */
function rawCloudEvent(name: string): Promise<unknown> {
  const eventId = crypto.randomUUID();
  const h = natsHeaders();
  h.set("ce-specversion", "1.0");
  h.set("ce-id", eventId);
  h.set("ce-source", "bench");
  h.set("ce-type", name);
  h.set("ce-time", new Date().toISOString());
  h.set("content-type", "application/json");
  return js.publish(name, JSON.stringify(payload), {
    headers: h,
    msgID: eventId,
    timeout: TIMEOUT,
  });
}

/**
 * Raw js.publish of the same bytes with as little client work as possible: one headers object
 * reused for every publish (only ce-id, ce-time and the msgID change), a pre-encoded body. The
 * floor for any library that sends this envelope.
 */
const shared = natsHeaders();
shared.set("ce-specversion", "1.0");
shared.set("ce-source", "bench");
shared.set("content-type", "application/json");
function rawSameBytes(name: string): Promise<unknown> {
  const eventId = crypto.randomUUID();
  shared.set("ce-id", eventId);
  shared.set("ce-type", name);
  shared.set("ce-time", new Date().toISOString());
  return js.publish(name, body, { headers: shared, msgID: eventId, timeout: TIMEOUT });
}

async function pool(count: number, fn: () => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, async () => {
    while (next < count) {
      next++;
      await fn();
    }
  }));
}

interface Sample {
  /** Events per second (wall time). */
  rate: number;
  /** Microseconds of this process's CPU time (user + system) per event. */
  cpu: number;
}

async function measure(run: () => Promise<void>): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { rate: EVENTS / ms * 1000, cpu: (cpu.user + cpu.system) / EVENTS };
}

const cases: { name: string; label: string; run: () => Promise<void> }[] = [
  {
    name: "raw",
    label: "raw js.publish (bytes, no headers)",
    run: () => pool(EVENTS, () => js.publish(subject("raw"), body, { timeout: TIMEOUT })),
  },
  {
    name: "rawId",
    label: "raw js.publish + msgID",
    run: () =>
      pool(
        EVENTS,
        () => js.publish(subject("raw"), body, { msgID: crypto.randomUUID(), timeout: TIMEOUT }),
      ),
  },
  {
    name: "rawCe",
    label: "raw js.publish + msgID + ce-* + JSON",
    run: () => pool(EVENTS, () => rawCloudEvent(subject("rawce"))),
  },
  {
    name: "rawSame",
    label: "raw, same bytes, headers reused",
    run: () => pool(EVENTS, () => rawSameBytes(subject("rawsame"))),
  },
  {
    name: "publish",
    label: "plinth publish",
    run: () => pool(EVENTS, () => bus.publish(subject("plinth"), payload)),
  },
  {
    name: "publishMany",
    label: "plinth publishMany",
    run: async () => {
      const events = Array.from({ length: EVENTS }, () => ({ subject: subject("many"), payload }));
      const results = await bus.publishMany(events, { concurrency: IN_FLIGHT });
      if (results.some((r) => !r.ok)) throw new Error("publishMany failed");
    },
  },
];
const runs = new Map<string, Sample[]>(cases.map((c) => [c.name, []]));
for (const c of cases) await c.run(); // warm-up (JIT, connection buffers)
for (let round = 0; round < ROUNDS; round++) {
  for (const c of cases) {
    await jsm.streams.purge(stream); // the same stream size for every case
    runs.get(c.name)!.push(await measure(c.run));
  }
}
await jsm.streams.purge(stream);

// End-to-end latency at a fixed rate. The publisher schedules event i at start + i / RATE
// (absolute time, so timer slack does not accumulate) and stamps the time it calls publish in
// the payload; the handler measures from that stamp. Lag = how late publish was called.
const latencies: number[] = [];
const acks: number[] = [];
const lags: number[] = [];
let failures = 0;
let resolveDone!: () => void;
const done = new Promise<void>((resolve) => (resolveDone = resolve));
const received = new Set<number>();
const origin = performance.timeOrigin;
const subscription = await bus.subscribe(subject("latency"), (p: { n: number; sent: number }) => {
  latencies.push(origin + performance.now() - p.sent);
  received.add(p.n);
  if (received.size === LATENCY_EVENTS) resolveDone();
}, { durable: "latency", concurrency: 64, deliverPolicy: "new" });
const pad = "x".repeat(80);
const interval = 1000 / RATE;
const start = performance.now();
const publishes: Promise<unknown>[] = [];
for (let i = 0; i < LATENCY_EVENTS; i++) {
  const due = start + i * interval;
  const wait = due - performance.now();
  if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
  const now = performance.now();
  lags.push(now - due);
  const sent = origin + now;
  publishes.push(
    bus.publish(subject("latency"), { n: i, sent, pad }).then(
      () => acks.push(origin + performance.now() - sent),
      () => failures++,
    ),
  );
}
const publishedIn = performance.now() - start;
await Promise.all(publishes);
const timeout = setTimeout(resolveDone, 30_000);
await done;
clearTimeout(timeout);
const receivedIn = performance.now() - start;

await subscription.stop();
await bus.deleteStream(stream);
await bus.close();
await nc.close();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pick = (name: string, key: keyof Sample): number =>
  median(runs.get(name)!.map((s) => s[key]));
const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "Node";
const version = runtime === "Node"
  ? process.version
  : runtime === "Deno"
  ? (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno
  : (globalThis as unknown as { Bun: { version: string } }).Bun.version;
const load = await import("node:os").then((os) => os.loadavg()[0]!.toFixed(1)).catch(() => "?");
console.log(
  `\n@plinth/events on ${runtime} ${version}: ${EVENTS} × 128-byte events, ${IN_FLIGHT} in flight, ` +
    `median of ${ROUNDS} rounds, load average ${load}\n`,
);
console.log(
  "| publisher                            | events/s | × raw | × raw+ce | CPU µs/event | CPU × raw | CPU × raw+ce |",
);
console.log(
  "| ------------------------------------ | -------: | ----: | -------: | -----------: | --------: | -----------: |",
);
const raw = { rate: pick("raw", "rate"), cpu: pick("raw", "cpu") };
const rawCe = { rate: pick("rawCe", "rate"), cpu: pick("rawCe", "cpu") };
for (const c of cases) {
  const rate = pick(c.name, "rate");
  const cpu = pick(c.name, "cpu");
  console.log(
    `| ${c.label.padEnd(36)} | ${String(Math.round(rate)).padStart(8)} | ${
      (rate / raw.rate).toFixed(2).padStart(4)
    }× | ${(rate / rawCe.rate).toFixed(2).padStart(7)}× | ${cpu.toFixed(1).padStart(12)} | ${
      (raw.cpu / cpu).toFixed(2).padStart(8)
    }× | ${(rawCe.cpu / cpu).toFixed(2).padStart(11)}× |`,
  );
}
console.log(
  "\nSame connection options on both sides; what differs: plinth sends a JSON body (raw: the same\n" +
    "128 bytes pre-encoded), a UUID Nats-Msg-Id and the CloudEvents headers (ce-specversion, ce-id,\n" +
    "ce-source, ce-type, ce-time, content-type), and checks subject, options and size. The\n" +
    "`raw + msgID + ce-* + JSON` row sends the same message with raw js.publish, building its\n" +
    "headers with nats-core `headers().set()`; `raw, same bytes, headers reused` mutates one\n" +
    "headers object. plinth does not go through js.publish: it publishes with a reply subject on\n" +
    "its own inbox subscription and matches the acks itself (events/_publisher.ts). Ratios are\n" +
    "throughput ratios (higher is better): CPU × raw = raw CPU per event / this CPU per event.",
);

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], p: number): number =>
  xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
const lat = sorted(latencies);
const ack = sorted(acks);
const lag = sorted(lags);
const achieved = LATENCY_EVENTS / (publishedIn / 1000);
console.log(
  `\nend-to-end publish → handler at ${RATE}/s, ${LATENCY_EVENTS} events: ` +
    `p50 ${quantile(lat, 0.5).toFixed(2)} ms, p99 ${quantile(lat, 0.99).toFixed(2)} ms, ` +
    `max ${quantile(lat, 1).toFixed(2)} ms (${received.size} received)`,
);
console.log(
  `publish → ack: p50 ${quantile(ack, 0.5).toFixed(2)} ms, p99 ${
    quantile(ack, 0.99).toFixed(2)
  } ms; ` +
    `publisher lag behind schedule: p50 ${quantile(lag, 0.5).toFixed(2)} ms, ` +
    `p99 ${quantile(lag, 0.99).toFixed(2)} ms, max ${quantile(lag, 1).toFixed(2)} ms; ` +
    `published in ${(publishedIn / 1000).toFixed(2)} s (${Math.round(achieved)}/s), ` +
    `all handled after ${(receivedIn / 1000).toFixed(2)} s`,
);
if (failures > 0) console.log(`WARNING: ${failures} latency publishes failed`);
if (achieved < RATE * 0.98 || quantile(lag, 0.99) > 50) {
  console.log(`WARNING: the publisher could not keep ${RATE}/s; latencies are not at that rate`);
}
if (received.size < LATENCY_EVENTS) {
  console.log(`WARNING: only ${received.size} of ${LATENCY_EVENTS} events reached the handler`);
}
const ratio = Math.min(pick("publish", "rate"), pick("publishMany", "rate")) / raw.rate;
const cpuRatio = raw.cpu / Math.max(pick("publish", "cpu"), pick("publishMany", "cpu"));
console.log(
  `target: plinth ≥ ${TARGET}× raw js.publish — wall ${ratio >= TARGET ? "met" : "MISSED"} (${
    ratio.toFixed(2)
  }×), CPU ${cpuRatio >= TARGET ? "met" : "MISSED"} (${cpuRatio.toFixed(2)}×)`,
);
