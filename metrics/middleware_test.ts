import { test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { Hono as Hono46 } from "hono-4-6";
import { notFound } from "@plinth/errors";
import { problemHandler } from "@plinth/errors/hono";
import { captureLogger, runtime } from "@plinth/testing";
import { createMetrics, type Metrics } from "./mod.ts";
import { httpMetrics, metricsHandler, UNMATCHED_ROUTE } from "./hono.ts";
import { needCommand, promtoolCheck } from "./_promtool_test_helper.ts";

function metricsFor(): Metrics {
  return createMetrics({ service: "svc", defaultMetrics: false, logger: captureLogger() });
}

/** `http_requests_total` samples as `METHOD route status` → count. */
async function counts(metrics: Metrics): Promise<Record<string, number>> {
  const { body } = await metrics.render();
  const out: Record<string, number> = {};
  const line =
    /^http_requests_total\{method="([^"]*)",route="([^"]*)",status="([^"]*)",service="svc"\} (\S+)$/gm;
  for (const match of body.matchAll(line)) {
    out[`${match[1]} ${match[2]} ${match[3]}`] = Number(match[4]);
  }
  return out;
}

function silentProblems() {
  return problemHandler({ logger: captureLogger() });
}

// Hono 4.6 (the oldest supported) through the `hono-4-6` alias: its types differ, its API used
// here does not.
const versions: [string, typeof Hono][] = [["4.13", Hono], [
  "4.6",
  Hono46 as unknown as typeof Hono,
]];
for (const [version, App] of versions) {
  test(`httpMetrics() labels the route template, through app.route() too (Hono ${version})`, async () => {
    using metrics = metricsFor();
    const app = new App();
    app.use(httpMetrics(metrics));
    app.get("/orgs/:id", (c) => c.text(c.req.param("id")));
    const api = new App();
    api.get("/users/:user/keys/:key", (c) => c.text("key"));
    api.post("/users", (c) => c.text("made", 201));
    app.route("/api/v1", api);
    app.use("/private/*", async (c, next) => {
      if (c.req.header("authorization") === undefined) return c.text("no", 401);
      await next();
    });
    app.get("/private/report", (c) => c.text("report"));

    await app.request("/orgs/acme");
    await app.request("/orgs/globex");
    await app.request("/api/v1/users/u1/keys/k1");
    await app.request("/api/v1/users", { method: "POST" });
    await app.request("/private/report");
    await app.request("/private/elsewhere");
    await app.request("/no/such/path");
    assert.deepEqual(await counts(metrics), {
      "GET /orgs/:id 200": 2,
      "GET /api/v1/users/:user/keys/:key 200": 1,
      "POST /api/v1/users 201": 1,
      "GET /private/report 401": 1,
      [`GET ${UNMATCHED_ROUTE} 401`]: 1,
      [`GET ${UNMATCHED_ROUTE} 404`]: 1,
    });
  });

  test(`httpMetrics() counts a throwing handler with the status the error handler sent (Hono ${version})`, async () => {
    using metrics = metricsFor();
    const app = new App();
    app.onError(silentProblems() as never);
    app.use(httpMetrics(metrics));
    app.get("/missing/:id", () => {
      throw notFound("No such thing");
    });
    app.get("/boom", () => {
      throw new Error("boom");
    });
    app.get("/async", async () => {
      await Promise.resolve();
      throw notFound("Later");
    });
    assert.equal((await app.request("/missing/1")).status, 404);
    assert.equal((await app.request("/boom")).status, 500);
    assert.equal((await app.request("/async")).status, 404);
    assert.deepEqual(await counts(metrics), {
      "GET /missing/:id 404": 1,
      "GET /boom 500": 1,
      "GET /async 404": 1,
    });
  });
}

test("httpMetrics() counts a thrown non-Error as 500 and rethrows it", async () => {
  using metrics = metricsFor();
  const app = new Hono();
  app.use(httpMetrics(metrics));
  app.get("/odd", () => {
    throw "a string";
  });
  await assert.rejects(async () => await app.request("/odd"), (error) => error === "a string");
  assert.deepEqual(await counts(metrics), { "GET /odd 500": 1 });
  assert.match((await metrics.render()).body, /^http_requests_in_flight\{service="svc"\} 0$/m);
});

test("httpMetrics() puts methods outside the standard set under OTHER", async () => {
  using metrics = metricsFor();
  const app = new Hono();
  app.use(httpMetrics(metrics));
  app.on(["PURGE", "PATCH"], "/cache/:key", (c) => c.text("ok"));
  await app.request("/cache/a", { method: "PURGE" });
  await app.request("/cache/a", { method: "PATCH" });
  // A WebDAV method: Bun's Request turns a method it does not know into GET.
  await app.request("/cache/a", { method: "PROPFIND" });
  assert.deepEqual(await counts(metrics), {
    "OTHER /cache/:key 200": 1,
    "PATCH /cache/:key 200": 1,
    [`OTHER ${UNMATCHED_ROUTE} 404`]: 1,
  });
});

test("httpMetrics() leaves out /metrics, what metricsHandler() answers and skipped paths", async () => {
  using metrics = metricsFor();
  const app = new Hono();
  app.use(httpMetrics(metrics, { skip: ["/healthz"] }));
  app.get("/metrics", (c) => c.text("someone else's"));
  app.get("/internal/scrape", metricsHandler(metrics));
  app.get("/healthz", (c) => c.text("ok"));
  app.get("/work", (c) => c.text("ok"));
  await app.request("/metrics");
  await app.request("/internal/scrape");
  await app.request("/healthz");
  await app.request("/work");
  assert.deepEqual(await counts(metrics), { "GET /work 200": 1 });

  using other = metricsFor();
  const predicate = new Hono();
  predicate.use(httpMetrics(other, { skip: (c) => c.req.path.startsWith("/static/") }));
  predicate.get("/static/*", (c) => c.text("file"));
  predicate.get("/metrics", (c) => c.text("x"));
  predicate.get("/page", (c) => c.text("page"));
  await predicate.request("/static/app.js");
  await predicate.request("/metrics");
  await predicate.request("/page");
  assert.deepEqual(await counts(other), { "GET /page 200": 1 });
});

test("httpMetrics() tracks requests in flight and times them with the injected clock", async () => {
  using metrics = metricsFor();
  let clock = 1000;
  const app = new Hono();
  app.use(httpMetrics(metrics, { now: () => clock, buckets: [0.1, 1] }));
  let inside = "";
  app.get("/slow", async (c) => {
    inside = (await metrics.render()).body;
    clock += 250;
    return c.text("done");
  });
  await app.request("/slow");
  assert.match(inside, /^http_requests_in_flight\{service="svc"\} 1$/m);
  const { body } = await metrics.render();
  assert.match(body, /^http_requests_in_flight\{service="svc"\} 0$/m);
  const labels = 'method="GET",route="/slow",status="200"';
  assert.match(
    body,
    new RegExp(`^http_request_duration_seconds_sum\\{service="svc",${labels}\\} 0.25$`, "m"),
  );
  assert.match(
    body,
    new RegExp(
      `^http_request_duration_seconds_bucket\\{le="0.1",service="svc",${labels}\\} 0$`,
      "m",
    ),
  );
  assert.match(
    body,
    new RegExp(`^http_request_duration_seconds_bucket\\{le="1",service="svc",${labels}\\} 1$`, "m"),
  );
});

test("httpMetrics() and metricsHandler() check their arguments once", () => {
  using metrics = metricsFor();
  assert.throws(() => httpMetrics({} as Metrics), /argument metrics/);
  assert.throws(() => httpMetrics(metrics, { skip: "/x" as never }), /option skip/);
  assert.throws(() => httpMetrics(metrics, { skip: [1] as never }), /option skip/);
  assert.throws(() => httpMetrics(metrics, { now: 5 as never }), /option now/);
  assert.throws(() => httpMetrics(metrics, { buckets: [2, 1] }), RangeError);
  assert.throws(() => metricsHandler({} as Metrics), /argument metrics/);
  assert.throws(() => metricsHandler(metrics, { openMetrics: 1 as never }), /option openMetrics/);
  // One httpMetrics() per Metrics: a second would register the same names.
  using fresh = metricsFor();
  httpMetrics(fresh);
  assert.throws(() => httpMetrics(fresh), /already registered/);
});

test("metricsHandler() answers the format Accept prefers, with its Content-Type", async () => {
  using metrics = metricsFor();
  metrics.counter({ name: "jobs_total", help: "Jobs." }).inc();
  const app = new Hono();
  app.get("/metrics", metricsHandler(metrics));
  app.get("/plain", metricsHandler(metrics, { openMetrics: false }));
  const accept =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

  const text = await app.request("/metrics");
  assert.equal(text.status, 200);
  assert.equal(text.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assert.equal(text.headers.get("cache-control"), "no-store");
  assert.match(await text.text(), /^jobs_total\{service="svc"\} 1$/m);

  const open = await app.request("/metrics", { headers: { accept } });
  assert.equal(
    open.headers.get("content-type"),
    "application/openmetrics-text; version=1.0.0; charset=utf-8",
  );
  const body = await open.text();
  assert.match(body, /^# TYPE jobs counter$/m);
  assert.match(body, /# EOF\n$/);

  const plain = await app.request("/plain", { headers: { accept } });
  assert.equal(plain.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
});

interface DenoServe {
  serve(
    options: { port: number; hostname: string; onListen: () => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { addr: { port: number }; shutdown(): Promise<void> };
}

test("httpMetrics() counts an unknown method over a real Deno server as OTHER", async (t) => {
  if (runtime() !== "deno") {
    // Node's HTTP parser answers 400 to a method it does not know before any app sees it; Bun's
    // server closes the connection without an answer (and its Request turns one into GET).
    t.skip("only Deno.serve passes unknown methods to the app");
    return;
  }
  using metrics = metricsFor();
  const app = new Hono();
  app.use(httpMetrics(metrics));
  app.on("FROB", "/things/:id", (c) => c.text("frobbed"));
  const deno = (globalThis as unknown as { Deno: DenoServe }).Deno;
  const server = deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const frob = await fetch(`${base}/things/1`, { method: "FROB" });
    assert.equal(await frob.text(), "frobbed");
    const other = await fetch(`${base}/elsewhere`, { method: "X-CUSTOM" });
    assert.equal(other.status, 404);
    await other.body?.cancel();
    assert.deepEqual(await counts(metrics), {
      "OTHER /things/:id 200": 1,
      [`OTHER ${UNMATCHED_ROUTE} 404`]: 1,
    });
  } finally {
    await server.shutdown();
  }
});

test("promtool check metrics exits 0 on the page with default and HTTP metrics", async (t) => {
  using metrics = createMetrics({ service: "svc", logger: captureLogger() });
  const app = new Hono();
  app.onError(silentProblems() as never);
  app.use(httpMetrics(metrics));
  app.get("/metrics", metricsHandler(metrics));
  app.get("/orgs/:id", (c) => c.json({ id: c.req.param("id") }));
  app.post("/orgs", (c) => c.json({ ok: true }, 201));
  app.get("/missing/:id", () => {
    throw notFound("No such org");
  });
  await app.request("/orgs/acme");
  await app.request("/orgs", { method: "POST" });
  await app.request("/missing/1");
  await app.request("/nowhere");
  const res = await app.request("/metrics");
  const body = await res.text();
  // Every kind of series promtool looks at is on the page.
  for (
    const name of [
      "http_requests_total",
      "http_request_duration_seconds_bucket",
      "http_requests_in_flight",
      "process_cpu_seconds_total",
      "nodejs_eventloop_lag_seconds",
      "nodejs_version_info",
    ]
  ) {
    assert.match(body, new RegExp(`^${name}\\{`, "m"), name);
  }
  if (!needCommand(t, "promtool")) return;
  const checked = promtoolCheck(body);
  // 0, not 1 (a parse error) nor 3 (lint such as a gauge named *_total).
  assert.equal(checked.status, 0, checked.output);
});
