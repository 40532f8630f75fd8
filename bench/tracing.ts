/**
 * Benchmark: @plinth/tracing's `tracing()` middleware side by side with @hono/otel's
 * `httpInstrumentationMiddleware()`, in one process, on the same Hono app (`GET /orgs/:id`
 * answering a small JSON body, requests carrying a `traceparent`), driven by `app.request()`:
 *
 * - bare: the app with no middleware (for scale);
 * - plinth, no SDK: `tracing()` with no tracer provider (W3C context, ids in the logging context);
 * - plinth + SDK and @hono/otel + SDK: both with the same OpenTelemetry SDK registered
 *   (BasicTracerProvider, AlwaysOn, BatchSpanProcessor into an exporter that drops the spans,
 *   AsyncLocalStorage context manager, W3C propagator — what `registerTracing()` sets up). Target: plinth ≥ 1.0× @hono/otel's requests per second.
 *
 * The apps run in interleaved batches of 250 requests (rotating which goes first), so they share
 * the machine's load; the table gives each one's median requests per second over the rounds and
 * the median of the per-round ratios.
 *
 * Run: `npm run bench -- tracing` (Node 24, Deno, Bun), or one runtime: `node bench/tracing.ts`,
 * `deno run -A bench/tracing.ts`, `bun bench/tracing.ts`. `BENCH_REQUESTS` and `BENCH_ROUNDS`
 * adjust it.
 *
 * @module
 */
import process from "node:process";
import { Hono, type MiddlewareHandler } from "hono";
import { httpInstrumentationMiddleware } from "@hono/otel";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { tracing } from "@plinth/tracing/hono";

const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 20_000);
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 7);
const versions = process.versions as Record<string, string | undefined>;
const runtime = versions["deno"] !== undefined
  ? `Deno ${versions["deno"]}`
  : versions["bun"] !== undefined
  ? `Bun ${versions["bun"]}`
  : `Node ${process.versions.node}`;

const body = { id: "acme", name: "Acme Corp", plan: "pro", seats: 42 };
const headers = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };

function app(middleware: MiddlewareHandler | undefined): Hono {
  const hono = new Hono();
  if (middleware !== undefined) hono.use(middleware);
  hono.get("/orgs/:id", (c) => c.json(body));
  return hono;
}

/** An exporter that accepts and drops every span: export cost stays out of the comparison. */
const dropping: SpanExporter = {
  export(spans: ReadableSpan[], done) {
    exported += spans.length;
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
let exported = 0;

let provider: BasicTracerProvider | undefined;
let manager: AsyncLocalStorageContextManager | undefined;

function registerSdk(): void {
  provider = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [
      new BatchSpanProcessor(dropping, { maxQueueSize: 65_536, maxExportBatchSize: 2048 }),
    ],
  });
  manager = new AsyncLocalStorageContextManager().enable();
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(manager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

async function unregisterSdk(): Promise<void> {
  await provider?.forceFlush();
  trace.disable();
  context.disable();
  propagation.disable();
  manager?.disable();
  await provider?.shutdown();
}

/** Time of `n` sequential requests to `target`, in ms. */
async function batch(target: Hono, n: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const res = await target.request("/orgs/acme", { headers });
    if (res.status !== 200) throw new Error(`Unexpected status ${res.status}`);
    await res.arrayBuffer();
  }
  return performance.now() - start;
}

/**
 * Requests per second of each app, measured in interleaved batches (rotating which goes first)
 * so that every app sees the same share of the machine's load; one value per round.
 */
async function interleaved(apps: readonly Hono[], rounds: number): Promise<number[][]> {
  const BATCH = 250;
  const perRound: number[][] = apps.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const spent = apps.map(() => 0);
    for (let done = 0, turn = 0; done < REQUESTS; done += BATCH, turn++) {
      for (let k = 0; k < apps.length; k++) {
        const i = (k + turn) % apps.length;
        spent[i]! += await batch(apps[i]!, BATCH);
      }
    }
    for (let i = 0; i < apps.length; i++) perRound[i]!.push(REQUESTS / (spent[i]! / 1000));
  }
  return perRound;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

// No SDK: the bare app and plinth's middleware.
const bare = app(undefined);
await interleaved([bare, app(tracing())], 1); // warm-up
const [bareNoSdk, plinthNoSdk] = await interleaved([bare, app(tracing())], ROUNDS);

// The same SDK for both middlewares, created after it is registered, as at a service's start.
registerSdk();
const plinth = app(tracing());
const honoOtel = app(httpInstrumentationMiddleware({ serviceName: "bench" }));
await interleaved([bare, plinth, honoOtel], 1); // warm-up
const [bareSdk, plinthSdk, otelSdk] = await interleaved([bare, plinth, honoOtel], ROUNDS);
await unregisterSdk();

const ratios = plinthSdk!.map((value, i) => value / otelSdk![i]!);
const rows: [string, number[], number[]][] = [
  ["bare (no middleware)", bareNoSdk!, bareNoSdk!],
  ["plinth `tracing()`, no SDK", plinthNoSdk!, bareNoSdk!],
  ["plinth `tracing()` + SDK", plinthSdk!, bareSdk!],
  ["@hono/otel + SDK", otelSdk!, bareSdk!],
];
const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
console.log(
  `${runtime}: ${REQUESTS.toLocaleString("en-US")} app.request() calls per app and round, ` +
    `interleaved in batches of 250, ${ROUNDS} rounds (median); ` +
    `${exported.toLocaleString("en-US")} spans exported`,
);
console.log("| scenario | requests/s | vs bare |");
console.log("| --- | ---: | ---: |");
for (const [name, values, base] of rows) {
  const ratio = median(values.map((v, i) => v / base[i]!));
  console.log(`| ${name} | ${fmt(median(values))} | ${ratio.toFixed(2)}× |`);
}
const ratio = median(ratios);
console.log(
  `plinth + SDK vs @hono/otel + SDK: ${ratio.toFixed(2)}× (median of per-round ratios; ` +
    `target ≥ 1.00×: ${ratio >= 1 ? "met" : "MISSED"})`,
);
