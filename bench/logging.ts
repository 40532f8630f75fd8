// plinth's logger side by side with pino, in one process: the same line shape and fields, both
// writing synchronously to /dev/null through a 4 KiB buffer (plinth's fileDestination default,
// pino.destination({ sync: true, minLength: 4096 })).
//
//   node bench/logging.ts            (Node 24)
//   deno run -A bench/logging.ts
//   bun bench/logging.ts
import { createLogger, fileDestination, getContext, runWithContext } from "@plinth/logging";
import pino from "pino";
import process from "node:process";

const LINES = 200_000;
const DISABLED_CALLS = 10_000_000;
const ROUNDS = 5;

function runtime(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.deno !== undefined) return `Deno ${versions.deno}`;
  if (versions.bun !== undefined) return `Bun ${versions.bun}`;
  return `Node ${process.versions.node}`;
}

const plinthRoot = createLogger({
  service: "bench",
  level: "info",
  destination: fileDestination("/dev/null", { bufferSize: 4096 }),
});
const plinth = plinthRoot.child({ component: "orders" });

const pinoOptions = {
  base: { service_name: "bench" },
  messageKey: "message",
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};
const pinoDestination = () => pino.destination({ dest: "/dev/null", sync: true, minLength: 4096 });
const pinoRoot = pino(pinoOptions, pinoDestination());
const pinoChild = pinoRoot.child({ component: "orders" });
const pinoMixin = pino({
  ...pinoOptions,
  mixin: () => {
    const id = getContext()?.request_id;
    return id === undefined ? {} : { request_id: id };
  },
}, pinoDestination()).child({ component: "orders" });

function linesPerSecond(fn: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < LINES; i++) fn(i);
  return LINES / ((performance.now() - start) / 1000);
}

function nsPerCall(fn: (i: number) => void): number {
  const start = performance.now();
  for (let i = 0; i < DISABLED_CALLS; i++) fn(i);
  return ((performance.now() - start) * 1e6) / DISABLED_CALLS;
}

function best(values: number[], higherIsBetter: boolean): number {
  return higherIsBetter ? Math.max(...values) : Math.min(...values);
}

const scenarios = {
  plain: {
    plinth: (i: number) => plinth.info("order placed", { order_id: i, sku: "A-100", paid: true }),
    pino: (i: number) => pinoChild.info({ order_id: i, sku: "A-100", paid: true }, "order placed"),
  },
  context: {
    plinth: (i: number) => plinth.info("order placed", { order_id: i, sku: "A-100", paid: true }),
    pino: (i: number) => pinoMixin.info({ order_id: i, sku: "A-100", paid: true }, "order placed"),
  },
  disabled: {
    plinth: (i: number) => plinth.debug("cache miss", { key: i }),
    pino: (i: number) => pinoChild.debug({ key: i }, "cache miss"),
  },
};

const results = {
  plain: { plinth: [] as number[], pino: [] as number[] },
  context: { plinth: [] as number[], pino: [] as number[] },
  disabled: { plinth: [] as number[], pino: [] as number[] },
};

for (let round = 0; round < ROUNDS; round++) {
  for (const name of ["plinth", "pino"] as const) {
    results.plain[name].push(linesPerSecond(scenarios.plain[name]));
    runWithContext({ request_id: "0f8e2d4c-7b1a-4c3e-9d5f-2a6b8c0e1f3a" }, () => {
      results.context[name].push(linesPerSecond(scenarios.context[name]));
    });
    results.disabled[name].push(nsPerCall(scenarios.disabled[name]));
  }
}
plinthRoot.flush();

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
const rows: string[][] = [];
for (const name of ["plain", "context"] as const) {
  const a = best(results[name].plinth, true);
  const b = best(results[name].pino, true);
  rows.push([
    name === "plain"
      ? "info, 3 fields + 1 bound (lines/s)"
      : "same + request_id from context (lines/s)",
    fmt(a),
    fmt(b),
    `${(a / b).toFixed(2)}×`,
  ]);
}
const dA = best(results.disabled.plinth, false);
const dB = best(results.disabled.pino, false);
rows.push(["disabled debug (ns/call)", dA.toFixed(1), dB.toFixed(1), `${(dB / dA).toFixed(2)}×`]);

console.log(
  `${runtime()}: ${LINES.toLocaleString("en-US")} lines per run, best of ${ROUNDS} rounds`,
);
console.log("| scenario | plinth | pino | plinth vs pino |");
console.log("| --- | ---: | ---: | ---: |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
