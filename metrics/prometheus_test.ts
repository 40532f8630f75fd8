// End to end: a real Prometheus (Debian's `prometheus`, which scripts/services.sh installs)
// scrapes an app served over real HTTP every second, and PromQL through its HTTP API returns
// the request counts per route that the test sent. Runs on every runtime where the binary is
// installed; skips with a reason elsewhere, fails in CI when it is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { captureLogger, freePort, waitFor } from "@plinth/testing";
import { createMetrics } from "./mod.ts";
import { httpMetrics, metricsHandler } from "./hono.ts";
import { needCommand } from "./_promtool_test_helper.ts";

type Fetch = (request: Request) => Response | Promise<Response>;

/** Serves `fetch` on 127.0.0.1:`port` with the runtime's own server; resolves to its stop. */
async function serve(fetch: Fetch, port: number): Promise<() => Promise<void>> {
  const g = globalThis as {
    Deno?: {
      serve(
        o: { port: number; hostname: string; onListen: () => void },
        h: Fetch,
      ): { shutdown(): Promise<void> };
    };
    Bun?: { serve(o: { port: number; hostname: string; fetch: Fetch }): { stop(): void } };
  };
  if (g.Deno !== undefined) {
    const server = g.Deno.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, fetch);
    return () => server.shutdown();
  }
  if (g.Bun !== undefined) {
    const server = g.Bun.serve({ port, hostname: "127.0.0.1", fetch });
    return () => Promise.resolve(server.stop());
  }
  const { serve: nodeServe } = await import("@hono/node-server");
  const server = await new Promise<{ close(cb: () => void): void }>((resolve) => {
    const s = nodeServe({ fetch, port, hostname: "127.0.0.1" }, () => resolve(s));
  });
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

test("a real Prometheus scrapes the app and PromQL returns the requests per route", {
  timeout: 60_000,
}, async (t) => {
  if (!needCommand(t, "prometheus")) return;
  using metrics = createMetrics({ service: "e2e", logger: captureLogger() });
  const app = new Hono();
  app.use(httpMetrics(metrics));
  app.get("/metrics", metricsHandler(metrics));
  app.get("/orgs/:id", (c) => c.json({ id: c.req.param("id") }));
  app.post("/orgs", (c) => c.json({ ok: true }, 201));

  const appPort = await freePort();
  const stopApp = await serve(app.fetch, appPort);
  const dir = mkdtempSync(join(tmpdir(), "plinth-prometheus-"));
  let prometheus: ReturnType<typeof spawn> | undefined;
  let output = "";
  try {
    const base = `http://127.0.0.1:${appPort}`;
    for (const id of ["acme", "globex", "initech"]) {
      await (await fetch(`${base}/orgs/${id}`)).text();
    }
    for (let i = 0; i < 2; i++) await (await fetch(`${base}/orgs`, { method: "POST" })).text();
    await (await fetch(`${base}/nowhere`)).text();

    const promPort = await freePort();
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global:",
        "  scrape_interval: 1s",
        "  scrape_timeout: 1s",
        "scrape_configs:",
        "  - job_name: plinth",
        "    static_configs:",
        `      - targets: ["127.0.0.1:${appPort}"]`,
        "",
      ].join("\n"),
    );
    prometheus = spawn("prometheus", [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ], { stdio: ["ignore", "pipe", "pipe"] });
    prometheus.stdout?.on("data", (chunk) => (output += chunk));
    prometheus.stderr?.on("data", (chunk) => (output += chunk));

    const query = async (promql: string): Promise<Sample[]> => {
      const url = `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(promql)}`;
      try {
        const res = await fetch(url);
        const json = await res.json() as { status: string; data?: { result: Sample[] } };
        return json.status === "success" ? json.data?.result ?? [] : [];
      } catch {
        return []; // not listening yet
      }
    };
    const promql = 'sum by (method, route, status) (http_requests_total{job="plinth"})';
    let result: Sample[] = [];
    try {
      await waitFor(
        async () => {
          result = await query(promql);
          return result.length >= 3;
        },
        30_000,
        "Prometheus to scrape the app",
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; Prometheus said:\n${output.slice(-2000)}`);
    }
    const counts = Object.fromEntries(
      result.map((s) => [`${s.metric.method} ${s.metric.route} ${s.metric.status}`, s.value[1]]),
    );
    assert.deepEqual(counts, {
      "GET /orgs/:id 200": "3",
      "POST /orgs 201": "2",
      "GET (unmatched) 404": "1",
    });
    // The target is healthy, its series carry the service label, and the scrapes of /metrics
    // were never counted.
    const up = await query('up{job="plinth"}');
    assert.equal(up[0]?.value[1], "1");
    const services = await query('count by (service) (http_requests_total{job="plinth"})');
    assert.deepEqual(services.map((s) => s.metric.service), ["e2e"]);
    const scraped = await query('scrape_samples_scraped{job="plinth"}');
    assert.ok(Number(scraped[0]?.value[1]) > 20, "the default metrics were scraped too");
  } finally {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once("exit", resolve));
      prometheus.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (prometheus.exitCode === null) prometheus.kill("SIGKILL");
    }
    await stopApp();
    rmSync(dir, { recursive: true, force: true });
  }
});
