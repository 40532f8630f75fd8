/**
 * The demo: starts the example service on a free local port, sends it a few requests with
 * `fetch`, and prints each response as a client sees it (and the server-side log lines of
 * the 500s, with their cause chains). `--serve` keeps the server running on `PORT` (8000).
 *
 * Run it with `deno run --allow-net=127.0.0.1 --allow-env=PORT,LOG_LEVEL,LOG_FORMAT,SERVICE_NAME,NO_COLOR examples/errors_service/main.ts` (`npm run demo` runs the reference service, `examples/service/`).
 *
 * @module
 */
import { createLogger } from "@plinth/logging";
import { createApp } from "./app.ts";

const serve = Deno.args.includes("--serve");
const serverLog: string[] = [];
const logger = createLogger({
  service: "orgs-demo",
  // Serving: JSON lines on stdout. Demo: collected, and shown after the responses.
  ...(serve ? {} : { destination: { write: (line: string) => void serverLog.push(line) } }),
});
const app = createApp({ logger });

const port = serve ? Number(Deno.env.get("PORT") ?? 8000) : 0;
const server = Deno.serve(
  { hostname: "127.0.0.1", port, onListen: () => {} },
  app.fetch,
);
const base = `http://127.0.0.1:${server.addr.port}`;

if (serve) {
  console.log(`plinth errors example listening on ${base}`);
} else {
  console.log(`plinth errors demo: a Hono service on ${base}\n`);
  const requests: [string, string, unknown?][] = [
    ["GET", "/orgs/globex"],
    ["GET", "/orgs/initech"],
    ["GET", "/no/such/route"],
    ["POST", "/orgs", { id: "X", name: "", budgetTokens: "lots" }],
    ["POST", "/orgs", { id: "acme", name: "Acme again", budgetTokens: 10 }],
    ["POST", "/orgs/acme/completions", { model: "gpt-4o", messages: [] }],
    ["GET", "/reports/usage"],
    ["GET", "/legacy"],
  ];
  let n = 0;
  for (const [method, path, body] of requests) {
    n += 1;
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { "x-request-id": `demo-${n}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const shown = ["retry-after", "www-authenticate"]
      .map((h) => (res.headers.has(h) ? `  ${h}: ${res.headers.get(h)}` : ""))
      .filter((line) => line !== "");
    console.log(`${method} ${path}${body === undefined ? "" : ` ${JSON.stringify(body)}`}`);
    console.log(`→ ${res.status} ${res.statusText} (${res.headers.get("content-type")})`);
    for (const line of shown) console.log(line);
    console.log(indent(JSON.stringify(JSON.parse(text), null, 2)));
    console.log();
  }
  console.log("Server log (@plinth/logging: one access line per request, and each 500 with its");
  console.log("cause chain, which clients never see):");
  for (const line of serverLog) console.log(indent(summarise(line)));
  await server.shutdown();
}

function indent(text: string): string {
  return text.split("\n").map((line) => `  ${line}`).join("\n");
}

/** The log line without stacks and the user agent, so the chain is readable. */
function summarise(line: string): string {
  return JSON.stringify(
    JSON.parse(line),
    (key, value) => (key === "stack" || key === "user_agent" ? undefined : value),
  );
}
