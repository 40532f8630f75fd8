/**
 * The reference service's entry file, the same on Deno, Node (24, and 20 with tsx) and Bun.
 *
 * Without arguments (`npm run demo`) it starts the service on a free local port with the
 * embedded defaults for whatever is not configured — PGlite, the in-memory bus, a generated
 * development secret, the fake upstream — drives the scripted tour over real HTTP, prints what
 * it saw and the log lines of one trace, and stops. `--serve` keeps it running on `PORT`
 * (JSON log lines on stdout) until SIGTERM or SIGINT: then it stops accepting connections,
 * finishes the requests in flight, stops the consumer after its events in flight, closes the
 * relay, the bus and the pool, and exits 0 (1 if something did not finish within
 * `SHUTDOWN_TIMEOUT_MS`); a second signal exits at once.
 *
 * @module
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createLogger } from "@plinth/logging";
import { loadSettings } from "./settings.ts";
import { startService } from "./service.ts";
import { runTour } from "./tour.ts";

const serving = process.argv.slice(2).includes("--serve");
const config = await loadSettings({ dir: fileURLToPath(new URL(".", import.meta.url)) });
const settings = config.values;

if (serving) {
  const service = await startService(settings, { environment: config.environment });
  let signals = 0;
  const stop = (signal: string) => {
    signals++;
    if (signals > 1) {
      service.logger.warn("second signal: exiting at once", { signal });
      process.exit(1);
    }
    service.logger.info("signal received: shutting down", { signal });
    void service.close().then(
      (clean) => process.exit(clean ? 0 : 1),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
} else {
  // The demo: the service's log lines are kept, and a few shown at the end.
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: settings.SERVICE_NAME,
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  console.log("plinth reference service — the demo\n");
  const service = await startService({ ...settings, PORT: 0 }, {
    logger,
    environment: config.environment,
  });
  const defaults = Object.entries(service.embedded).filter(([, on]) => on).map(([name]) => name);
  console.log(`started in ${Math.round(service.startMs)} ms on ${service.url}`);
  console.log(
    `embedded development defaults: ${defaults.length === 0 ? "none" : defaults.join(", ")}` +
      " (set DATABASE_URL, NATS_URL, JWT_SECRET, UPSTREAM_URL to use real ones)\n",
  );
  let failed = false;
  try {
    const tour = await runTour(service.url, {
      adminEmail: settings.ADMIN_EMAIL,
      print: (line) => console.log(`• ${line}`),
    });
    console.log(`\none trace (${tour.traceId}) across the log lines:`);
    for (const line of lines.filter((l) => l.trace_id === tour.traceId)) {
      const { timestamp: _t, service_name: _s, trace_id: _id, trace_flags: _f, ...rest } = line;
      console.log(`  ${JSON.stringify(rest)}`);
    }
    const readyz = await fetch(`${service.url}/readyz`).then((r) => r.json());
    console.log(`\nGET /readyz: ${JSON.stringify(readyz)}`);
    const metrics = await fetch(`${service.url}/metrics`).then((r) => r.text());
    console.log("GET /metrics (a few lines):");
    for (
      const line of metrics.split("\n").filter((l) =>
        /^(tokens_charged_total|chat_completions_total)\{/.test(l)
      )
    ) {
      console.log(`  ${line}`);
    }
  } catch (error) {
    failed = true;
    console.error(error);
  } finally {
    await service.close(5000);
  }
  console.log(
    failed
      ? "\nthe tour failed"
      : "\n`npm run demo -- --serve` keeps the service running on PORT (8000).",
  );
  process.exit(failed ? 1 : 0);
}
