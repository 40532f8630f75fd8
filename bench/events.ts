/**
 * Benchmark: publish throughput of `@plinth/events` (`publish` and `publishMany`) against raw
 * `@nats-io/jetstream` `js.publish`, 128-byte payloads, 256 in flight, on the shared NATS server
 * (NATS_URL, else 127.0.0.1:4222); then end-to-end latency publish → handler at 1 000 events/s.
 *
 * Run: `node bench/events.ts`, `deno run -A bench/events.ts` or `bun bench/events.ts`.
 *
 * @module
 */
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { createLogger } from "@plinth/logging";
import { connectEvents } from "@plinth/events";

const TARGET = 0.9;
const EVENTS = 20_000;
const IN_FLIGHT = 256;
const ROUNDS = 3;
const LATENCY_EVENTS = 5000;
const RATE = 1000;

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  ?.env;
const servers = env?.["NATS_URL"] ?? "127.0.0.1:4222";
const id = crypto.randomUUID().slice(0, 8);
const stream = `BENCH_${id}`;
const subject = (name: string): string => `bench_${id}.${name}`;
const logger = createLogger({ service: "bench", level: "warn", destination: { write: () => {} } });

// 128-byte JSON body for plinth (the payload object serialises to exactly 128 bytes).
const payload = { user: "u-000001", org: "acme", kind: "usage.recorded", pad: "" };
payload.pad = "x".repeat(128 - JSON.stringify(payload).length);
const body = new TextEncoder().encode(JSON.stringify(payload));
if (body.length !== 128) throw new Error(`payload is ${body.length} bytes`);

const bus = await connectEvents({
  servers,
  logger,
  source: "bench",
  deadLetter: false,
  streams: [{ name: stream, subjects: [`bench_${id}.>`], storage: "memory" }],
});
// The same connection settings plinth uses (no async stack traces), so the ratio is its own overhead.
const nc = await connect({ servers, noAsyncTraces: true });
const js = jetstream(nc);

async function pool(count: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < count) await fn(next++);
  }));
  return performance.now() - start;
}

const runs: Record<string, number[]> = { raw: [], rawId: [], publish: [], publishMany: [] };
const cases: [string, () => Promise<number>][] = [
  ["raw", () => pool(EVENTS, () => js.publish(subject("raw"), body))],
  [
    "rawId",
    () => pool(EVENTS, () => js.publish(subject("raw"), body, { msgID: crypto.randomUUID() })),
  ],
  ["publish", () => pool(EVENTS, () => bus.publish(subject("plinth"), payload))],
  ["publishMany", async () => {
    const events = Array.from({ length: EVENTS }, () => ({ subject: subject("many"), payload }));
    const start = performance.now();
    const results = await bus.publishMany(events, { concurrency: IN_FLIGHT });
    const ms = performance.now() - start;
    if (results.some((r) => !r.ok)) throw new Error("publishMany failed");
    return ms;
  }],
];
for (const [, run] of cases) await run(); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of cases) runs[name]!.push(EVENTS / (await run()) * 1000);
}

// End-to-end latency at a fixed rate: publish time stamped in the payload.
const latencies: number[] = [];
let resolveDone!: () => void;
const done = new Promise<void>((resolve) => (resolveDone = resolve));
const origin = performance.timeOrigin;
await bus.subscribe(subject("latency"), (p: { sent: number }) => {
  latencies.push(origin + performance.now() - p.sent);
  if (latencies.length === LATENCY_EVENTS) resolveDone();
}, { durable: "latency", concurrency: 16 });
const start = performance.now();
for (let i = 0; i < LATENCY_EVENTS; i++) {
  const due = start + (i * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
  bus.publish(subject("latency"), { sent: origin + performance.now(), pad: "x".repeat(90) });
}
await done;
const sent = performance.now() - start;

await bus.deleteStream(stream);
await bus.close();
await nc.close();

const best = (xs: number[]): number => Math.max(...xs);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const raw = median(runs["raw"]!);
const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "Node";
const version = runtime === "Node"
  ? (globalThis as { process?: { version?: string } }).process?.version
  : runtime === "Deno"
  ? (globalThis as unknown as { Deno: { version: { deno: string } } }).Deno.version.deno
  : (globalThis as unknown as { Bun: { version: string } }).Bun.version;
console.log(
  `\n@plinth/events on ${runtime} ${version}: ${EVENTS} × 128-byte events, ${IN_FLIGHT} in flight, ` +
    `median of ${ROUNDS} rounds (best in brackets)\n`,
);
console.log("| publisher                          |  events/s (best) | × raw js.publish |");
console.log("| ---------------------------------- | ---------------: | ---------------: |");
const row = (label: string, xs: number[]): void => {
  const m = median(xs);
  console.log(
    `| ${label.padEnd(34)} | ${`${Math.round(m)} (${Math.round(best(xs))})`.padStart(16)} | ${
      (m / raw).toFixed(2).padStart(15)
    }× |`,
  );
};
row("raw js.publish (no msgID)", runs["raw"]!);
row("raw js.publish + msgID", runs["rawId"]!);
row("plinth publish", runs["publish"]!);
row("plinth publishMany", runs["publishMany"]!);
latencies.sort((a, b) => a - b);
const q = (p: number): number =>
  latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
console.log(
  `\nend-to-end publish → handler at ${RATE}/s (${LATENCY_EVENTS} events in ${
    (sent / 1000).toFixed(1)
  } s): ` +
    `p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, max ${q(1).toFixed(2)} ms`,
);
const ratio = Math.min(median(runs["publish"]!), median(runs["publishMany"]!)) / raw;
console.log(
  `target: plinth ≥ ${TARGET}× raw — ${ratio >= TARGET ? "met" : "MISSED"} (${ratio.toFixed(2)}×)`,
);
