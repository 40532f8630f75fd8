// @plinth/metrics in a small Hono service: request metrics by route template, a business
// counter, the default process metrics, and the /metrics page a Prometheus scrape receives.
// Requests go through app.request() (no port); the page is printed.
//
//   deno run examples/packages/metrics.ts
//   node examples/packages/metrics.ts          (Node 24; Node 20: node --import tsx …)
//   bun examples/packages/metrics.ts
import { Hono } from "hono";
import { createMetrics } from "@plinth/metrics";
import { httpMetrics, metricsHandler } from "@plinth/metrics/hono";

using metrics = createMetrics({ service: "orgs" });
const created = metrics.counter({
  name: "orgs_created_total",
  help: "Organisations created, by plan.",
  labelNames: ["plan"],
});

const app = new Hono();
app.use(httpMetrics(metrics));
app.get("/metrics", metricsHandler(metrics));
app.get("/orgs/:id", (c) => c.json({ id: c.req.param("id") }));
app.post("/orgs", (c) => {
  created.inc({ plan: "pro" });
  return c.json({ id: "initech" }, 201);
});

await app.request("/orgs/acme");
await app.request("/orgs/globex");
await app.request("/orgs", { method: "POST" });
await app.request("/nowhere");

const res = await app.request("/metrics");
const page = await res.text();
console.log(`Content-Type: ${res.headers.get("content-type")}\n`);
// The request and business series; the process_* and nodejs_* lines are on the page too.
console.log(
  page.split("\n").filter((line) => /^(http_requests_total|orgs_created_total)\{/.test(line))
    .join("\n"),
);
console.log(
  `\n${page.split("\n").filter((l) => /^(process|nodejs)_/.test(l)).length} default-metric samples`,
);
