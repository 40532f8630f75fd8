// @plinth/httpclient side by side with its anchors, in one process:
//
// - requests: GET of a small JSON body from a local node:http server (keep-alive), one request at
//   a time, body read to the end: plain `fetch`, plinth's client (a timeout per attempt and in
//   total, the retry policy, a traceparent on every request; no OpenTelemetry SDK is registered,
//   so no span is recorded, as in a service without one) and ky; requests per second,
//   target ≥ 0.9× plain fetch. A fourth side, `fetch` with what the client must give every
//   request (an AbortController with a timer, cleared on the response, and a traceparent),
//   shows the runtime's own price of that, apart from the client's own work;
// - SSE: a 2.4 MB OpenAI-style chat stream (10 000 chunk events, CRLF-free, `data:` only) fed as
//   16 KiB text pieces to plinth's createSseParser() and to eventsource-parser's createParser();
//   MB per second, target ≥ 1.0×; and the same in 256-byte pieces (about one event per read).
//
// Requests: 60 rounds of 100 requests per side, the order rotated, each side's rate over all its
// rounds, each ratio the median of the 60 rounds' ratios. SSE: rounds alternate, each figure the best of its rounds.
//
//   node bench/httpclient.ts            (Node 24)
//   deno run -A bench/httpclient.ts
//   bun bench/httpclient.ts
import { createServer } from "node:http";
import process from "node:process";
import ky from "ky";
import { createParser } from "eventsource-parser";
import { createHttpClient, createSseParser } from "@plinth/httpclient";

const ROUNDS = 60;
const BLOCK = 100;
const SSE_ROUNDS = 15;

function runtime(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.deno !== undefined) return `Deno ${versions.deno}`;
  if (versions.bun !== undefined) return `Bun ${versions.bun}`;
  return `Node ${process.versions.node}`;
}

const payload = JSON.stringify({ id: "acme", name: "Acme Corp", plan: "pro", seats: 42 });
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": payload.length });
  res.end(payload);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as { port: number };
const url = `http://127.0.0.1:${port}/orgs/acme`;

const client = createHttpClient({ baseUrl: `http://127.0.0.1:${port}/` });
const kyClient = ky.create({ prefixUrl: `http://127.0.0.1:${port}/`, retry: 2 });

/** ms for `count` sequential requests. */
async function time(one: () => Promise<unknown>, count: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < count; i++) await one();
  return performance.now() - start;
}

const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const sides = {
  fetch: () => fetch(url).then((r) => r.text()),
  bare: () => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10_000);
    return fetch(url, { signal: controller.signal, headers: { traceparent } }).then((r) => {
      clearTimeout(timer);
      return r.text();
    });
  },
  plinth: () => client.get("orgs/acme").then((r) => r.text()),
  ky: () => kyClient.get("orgs/acme").text(),
};
const names = ["fetch", "bare", "plinth", "ky"] as const;
// Warm every side first (compiled code, the connection pool).
for (const name of names) await time(sides[name], 200);
// Small blocks, the order rotated each round, so that the load of a shared machine falls on
// every side alike; each side's rate is its total over all its blocks, and a ratio is the median
// of the ratios of the blocks run side by side in each round (one busy moment of the machine
// then moves one round's ratio, not the result).
const spent = { fetch: 0, bare: 0, plinth: 0, ky: 0 };
const blocks: Record<(typeof names)[number], number[]> = {
  fetch: [],
  bare: [],
  plinth: [],
  ky: [],
};
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(round + k) % names.length]!;
    const ms = await time(sides[name], BLOCK);
    spent[name] += ms;
    blocks[name].push(ms);
  }
}
/** The rate of side `a` over that of side `b`: the median over the rounds. */
function ratio(a: (typeof names)[number], b: (typeof names)[number]): number {
  const ratios = blocks[a].map((ms, i) => blocks[b][i]! / ms).sort((x, y) => x - y);
  return (ratios[(ratios.length - 1) >> 1]! + ratios[ratios.length >> 1]!) / 2;
}
const best = {
  fetch: (ROUNDS * BLOCK) / (spent.fetch / 1000),
  bare: (ROUNDS * BLOCK) / (spent.bare / 1000),
  plinth: (ROUNDS * BLOCK) / (spent.plinth / 1000),
  ky: (ROUNDS * BLOCK) / (spent.ky / 1000),
};
server.closeAllConnections();
await new Promise<void>((resolve) => server.close(() => resolve()));

// SSE: the same text through both parsers.
const events: string[] = [];
for (let i = 0; i < 10_000; i++) {
  events.push(
    `data: {"id":"chatcmpl-${i % 97}","object":"chat.completion.chunk","created":1700000000,` +
      `"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"tok\u00e9n ${i}"},` +
      `"finish_reason":null}]}\n\n`,
  );
}
const text = events.join("") + "data: [DONE]\n\n";
const pieces: string[] = [];
for (let i = 0; i < text.length; i += 16_384) pieces.push(text.slice(i, i + 16_384));
const megabytes = new TextEncoder().encode(text).byteLength / 1e6;

// Smaller pieces too: a model's stream arrives about one event per read.
const small: string[] = [];
for (let i = 0; i < text.length; i += 256) small.push(text.slice(i, i + 256));

function throughput(
  feed: (onData: (data: string) => void) => (piece: string) => void,
  pieces: readonly string[],
): number {
  let bytes = 0;
  let count = 0;
  const push = feed((data) => {
    bytes += data.length;
    count++;
  });
  const start = performance.now();
  for (const piece of pieces) push(piece);
  const seconds = (performance.now() - start) / 1000;
  if (count !== 10_001 || bytes === 0) throw new Error(`parsed ${count} events`);
  return megabytes / seconds;
}
const parsers = {
  plinth: (onData: (data: string) => void) => {
    const parser = createSseParser((event) => onData(event.data));
    return (piece: string) => parser.feed(piece);
  },
  anchor: (onData: (data: string) => void) => {
    const parser = createParser({ onEvent: (event) => onData(event.data) });
    return (piece: string) => parser.feed(piece);
  },
};
const sse = { plinth: 0, anchor: 0 };
const sseSmall = { plinth: 0, anchor: 0 };
for (let round = 0; round < SSE_ROUNDS; round++) {
  for (const name of ["plinth", "anchor"] as const) {
    sse[name] = Math.max(sse[name], throughput(parsers[name], pieces));
    sseSmall[name] = Math.max(sseSmall[name], throughput(parsers[name], small));
  }
}

const f = (n: number) => n.toFixed(0);
console.log(
  `${runtime()}: ${ROUNDS} × ${BLOCK} requests per side, interleaved (req/s over all blocks, ratio ` +
    `the median of the ${ROUNDS} rounds'); SSE best of ${SSE_ROUNDS} rounds`,
);
console.log("| measure | plinth | anchor | plinth / anchor (target) |");
console.log("| --- | ---: | ---: | ---: |");
console.log(
  `| GET req/s vs plain fetch | ${f(best.plinth)} | ${f(best.fetch)} | ${
    ratio("plinth", "fetch").toFixed(2)
  }× (≥ 0.9×) |`,
);
console.log(
  `| GET req/s vs fetch with a timeout timer and traceparent | ${f(best.plinth)} | ${
    f(best.bare)
  } | ${ratio("plinth", "bare").toFixed(2)}× |`,
);
console.log(
  `| fetch with a timeout timer and traceparent vs plain fetch | ${f(best.bare)} | ${
    f(best.fetch)
  } | ${ratio("bare", "fetch").toFixed(2)}× |`,
);
console.log(
  `| GET req/s vs ky | ${f(best.plinth)} | ${f(best.ky)} | ${ratio("plinth", "ky").toFixed(2)}× |`,
);
console.log(
  `| SSE MB/s, 16 KiB pieces, vs eventsource-parser | ${sse.plinth.toFixed(0)} | ${
    sse.anchor.toFixed(0)
  } | ${(sse.plinth / sse.anchor).toFixed(2)}× (≥ 1.0×) |`,
);
console.log(
  `| SSE MB/s, 256 B pieces, vs eventsource-parser | ${sseSmall.plinth.toFixed(0)} | ${
    sseSmall.anchor.toFixed(0)
  } | ${(sseSmall.plinth / sseSmall.anchor).toFixed(2)}× (≥ 1.0×) |`,
);
