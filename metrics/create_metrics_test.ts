import { test } from "node:test";
import assert from "node:assert/strict";
import client from "prom-client";
import { captureLogger } from "@plinth/testing";
import { createMetrics, DEFAULT_MAX_SERIES, SERIES_DROPPED_METRIC } from "./mod.ts";
import { needCommand, promtoolCheck } from "./_promtool_test_helper.ts";

function quiet() {
  return createMetrics({ service: "svc", defaultMetrics: false, logger: captureLogger() });
}

function sample(body: string, series: string): number | undefined {
  for (const line of body.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

test("createMetrics() checks its options, naming the option", () => {
  const bad: [unknown, RegExp, ErrorConstructor][] = [
    [null, /options: must be an object/, TypeError],
    [{}, /option service/, TypeError],
    [{ service: "" }, /option service/, TypeError],
    [{ service: "s", prefix: "1x_" }, /option prefix/, TypeError],
    [{ service: "s", registry: {} }, /option registry/, TypeError],
    [{ service: "s", defaultLabels: { "bad-name": "x" } }, /defaultLabels/, TypeError],
    [{ service: "s", defaultLabels: { __x: "x" } }, /reserved/, TypeError],
    [{ service: "s", defaultLabels: { zone: 1 } }, /"zone" must be a string/, TypeError],
    [{ service: "s", defaultMetrics: "yes" }, /option defaultMetrics/, TypeError],
    [{ service: "s", maxSeries: 0 }, /option maxSeries/, RangeError],
    [{ service: "s", maxSeries: 1.5 }, /option maxSeries/, RangeError],
    [{ service: "s", logger: {} }, /option logger/, TypeError],
  ];
  for (const [options, message, type] of bad) {
    assert.throws(
      () => createMetrics(options as Parameters<typeof createMetrics>[0]),
      (error: unknown) => error instanceof type && message.test((error as Error).message),
      JSON.stringify(options),
    );
  }
});

test("createMetrics() keeps service, prefix and the default limit", () => {
  using metrics = createMetrics({ service: "svc", prefix: "app_", defaultMetrics: false });
  assert.equal(metrics.service, "svc");
  assert.equal(metrics.prefix, "app_");
  assert.equal(metrics.maxSeries, DEFAULT_MAX_SERIES);
  assert.equal(metrics.counter({ name: "jobs_total", help: "Jobs." }).name, "app_jobs_total");
});

test("metric factories refuse bad names, labels, help and buckets at creation", () => {
  using metrics = quiet();
  const cases: [() => unknown, RegExp, ErrorConstructor][] = [
    [() => metrics.counter({ name: "jobs", help: "h" }), /must end in "_total"/, TypeError],
    [() => metrics.gauge({ name: "jobs_total", help: "h" }), /only a counter/, TypeError],
    [() => metrics.gauge({ name: "bad-name", help: "h" }), /option name must match/, TypeError],
    [() => metrics.gauge({ name: "__x", help: "h" }), /reserved/, TypeError],
    [() => metrics.gauge({ name: "ok", help: "" }), /option help/, TypeError],
    [
      () => metrics.gauge({ name: "ok", help: "h", labelNames: ["__name"] }),
      /label "__name" starts with "__"/,
      TypeError,
    ],
    [
      () => metrics.gauge({ name: "ok", help: "h", labelNames: ["a", "a"] }),
      /"a" is listed twice/,
      TypeError,
    ],
    [
      () => metrics.gauge({ name: "ok", help: "h", labelNames: ["a b"] }),
      /label names must match/,
      TypeError,
    ],
    [
      () => metrics.histogram({ name: "h_seconds", help: "h", labelNames: ["le"] }),
      /"le" is the bucket's own/,
      TypeError,
    ],
    [() => metrics.histogram({ name: "h_sum", help: "h" }), /suffixes/, TypeError],
    [
      () => metrics.histogram({ name: "h_seconds", help: "h", buckets: [1, 1] }),
      /strictly increasing/,
      RangeError,
    ],
    [
      () => metrics.histogram({ name: "h_seconds", help: "h", buckets: [1, Infinity] }),
      /finite/,
      RangeError,
    ],
    [
      () => metrics.histogram({ name: "h_seconds", help: "h", buckets: [] }),
      /non-empty/,
      TypeError,
    ],
    [() => metrics.gauge({ name: "ok", help: "h", maxSeries: -1 }), /maxSeries/, RangeError],
  ];
  for (const [make, message, type] of cases) {
    assert.throws(
      make,
      (error: unknown) => error instanceof type && message.test((error as Error).message),
      String(message),
    );
  }
});

test("a second metric of the same name is a TypeError naming it", () => {
  using metrics = quiet();
  metrics.counter({ name: "jobs_total", help: "Jobs." });
  assert.throws(
    () => metrics.counter({ name: "jobs_total", help: "Jobs again." }),
    (error: unknown) =>
      error instanceof TypeError && /"jobs_total": a metric with this name/.test(error.message),
  );
});

test("samples with bad values or labels throw and leave the output intact", async () => {
  using metrics = quiet();
  const counter = metrics.counter({ name: "jobs_total", help: "Jobs.", labelNames: ["queue"] });
  const gauge = metrics.gauge({ name: "depth", help: "Depth." });
  const histogram = metrics.histogram({ name: "wait_seconds", help: "Wait.", buckets: [1] });
  counter.inc({ queue: "mail" });
  for (const value of [-1, NaN, Infinity, -Infinity]) {
    assert.throws(() => counter.inc({ queue: "mail" }, value), RangeError, String(value));
  }
  for (const value of [NaN, Infinity]) {
    assert.throws(() => gauge.set(value), RangeError);
    assert.throws(() => gauge.inc(value), RangeError);
    assert.throws(() => histogram.observe(value), RangeError);
  }
  assert.throws(() => gauge.set(undefined as unknown as number), RangeError);
  const untyped = counter.inc as (labels?: unknown, value?: number) => void;
  assert.throws(() => untyped({ queue: "mail", extra: "x" }), /unknown label "extra"/);
  assert.throws(() => untyped({ other: "x" }), /unknown label "other"/);
  assert.throws(() => untyped({}), /label "queue" is missing/);
  assert.throws(() => untyped(), /labels must be an object/);
  assert.throws(() => untyped({ queue: { toString: () => "x" } }), /must be a string or a finite/);
  assert.throws(() => untyped({ queue: NaN }), /must be a string or a finite/);
  const unlabelled = gauge.set as (labels: unknown, value?: number) => void;
  assert.throws(() => unlabelled({ queue: "x" }, 1), /it has no labels/);
  const { body } = await metrics.render();
  assert.equal(sample(body, 'jobs_total{queue="mail",service="svc"}'), 1);
  assert.doesNotMatch(body, /NaN|Inf(?!")/);
});

test("counters, gauges and histograms record what they are given", async () => {
  using metrics = quiet();
  const counter = metrics.counter({
    name: "jobs_total",
    help: "Jobs.",
    labelNames: ["queue", "ok"],
  });
  counter.inc({ queue: "mail", ok: 1 });
  counter.inc({ ok: 1, queue: "mail" }, 2.5);
  counter.inc({ queue: "mail", ok: 0 }, 0);
  const gauge = metrics.gauge({ name: "depth", help: "Depth." });
  gauge.set(10);
  gauge.inc();
  gauge.dec(4);
  const histogram = metrics.histogram({
    name: "wait_seconds",
    help: "Wait.",
    labelNames: ["queue"],
    buckets: [0.1, 1],
  });
  for (const value of [0.05, 0.1, 0.5, 2, 50]) histogram.observe({ queue: "mail" }, value);
  const { body } = await metrics.render();
  assert.equal(sample(body, 'jobs_total{queue="mail",ok="1",service="svc"}'), 3.5);
  assert.equal(sample(body, 'jobs_total{queue="mail",ok="0",service="svc"}'), 0);
  assert.equal(sample(body, 'depth{service="svc"}'), 7);
  assert.equal(sample(body, 'wait_seconds_bucket{le="0.1",service="svc",queue="mail"}'), 2);
  assert.equal(sample(body, 'wait_seconds_bucket{le="1",service="svc",queue="mail"}'), 3);
  assert.equal(sample(body, 'wait_seconds_bucket{le="+Inf",service="svc",queue="mail"}'), 5);
  assert.equal(sample(body, 'wait_seconds_count{service="svc",queue="mail"}'), 5);
  assert.equal(sample(body, 'wait_seconds_sum{service="svc",queue="mail"}'), 52.65);
});

test("histogram: the +Inf bucket equals _count for every label set", async () => {
  using metrics = quiet();
  const histogram = metrics.histogram({ name: "x_seconds", help: "X.", labelNames: ["k"] });
  for (let i = 0; i < 300; i++) histogram.observe({ k: `k${i % 3}` }, (i % 17) * 0.9 - 1);
  const { body } = await metrics.render();
  for (const k of ["k0", "k1", "k2"]) {
    const inf = sample(body, `x_seconds_bucket{le="+Inf",service="svc",k="${k}"}`);
    assert.equal(inf, 100);
    assert.equal(sample(body, `x_seconds_count{service="svc",k="${k}"}`), inf);
  }
});

test("label values with quotes, backslashes and newlines are escaped", async (t) => {
  using metrics = quiet();
  const counter = metrics.counter({
    name: "odd_total",
    help: 'Help with \\ and\nnewline "q".',
    labelNames: ["v"],
  });
  const value = 'a"b\\c\nd';
  counter.inc({ v: value });
  const { body } = await metrics.render();
  assert.match(body, /^odd_total\{v="a\\"b\\\\c\\nd",service="svc"\} 1$/m);
  assert.match(body, /^# HELP odd_total Help with \\\\ and\\nnewline "q"\.$/m);
  const open = await metrics.render({ accept: "application/openmetrics-text; version=1.0.0" });
  assert.match(open.body, /^odd_total\{v="a\\"b\\\\c\\nd",service="svc"\} 1$/m);
  if (!needCommand(t, "promtool")) return;
  const checked = promtoolCheck(body);
  assert.equal(checked.status, 0, checked.output);
});

test("maxSeries: past the limit new label sets are dropped, counted and warned once", async () => {
  const logger = captureLogger();
  using metrics = createMetrics({ service: "svc", defaultMetrics: false, maxSeries: 3, logger });
  const counter = metrics.counter({ name: "hits_total", help: "Hits.", labelNames: ["user"] });
  const gauge = metrics.gauge({
    name: "seen",
    help: "Seen.",
    labelNames: ["a", "b"],
    maxSeries: 2,
  });
  for (let i = 0; i < 10; i++) counter.inc({ user: `u${i}` });
  counter.inc({ user: "u0" }, 5); // a known set is still counted
  gauge.set({ a: "1", b: "1" }, 1);
  gauge.set({ a: "1", b: "2" }, 1);
  gauge.set({ a: "2", b: "1" }, 1); // a new first label past the limit
  gauge.set({ a: "1", b: "3" }, 1); // a new last label past the limit
  const histogram = metrics.histogram({
    name: "wait_seconds",
    help: "Wait.",
    labelNames: ["queue"],
    buckets: [1],
    maxSeries: 1,
  });
  histogram.observe({ queue: "mail" }, 0.5);
  histogram.observe({ queue: "sms" }, 0.5);
  histogram.observe({ queue: "push" }, 0.5);
  histogram.observe({ queue: "mail" }, 2);
  const { body } = await metrics.render();
  assert.equal(body.match(/^wait_seconds_count\{/gm)?.length, 1);
  assert.equal(sample(body, 'wait_seconds_count{service="svc",queue="mail"}'), 2);
  assert.equal(sample(body, 'wait_seconds_bucket{le="+Inf",service="svc",queue="mail"}'), 2);
  assert.equal(sample(body, `${SERIES_DROPPED_METRIC}{metric="wait_seconds",service="svc"}`), 2);
  assert.equal(sample(body, 'hits_total{user="u0",service="svc"}'), 6);
  assert.equal(body.match(/^hits_total\{/gm)?.length, 3);
  assert.equal(body.match(/^seen\{/gm)?.length, 2);
  assert.equal(sample(body, `${SERIES_DROPPED_METRIC}{metric="hits_total",service="svc"}`), 7);
  assert.equal(sample(body, `${SERIES_DROPPED_METRIC}{metric="seen",service="svc"}`), 2);
  const warnings = logger.lines.filter((line) => line.level === "warn");
  assert.deepEqual(warnings.map((line) => line.fields.metric), [
    "hits_total",
    "seen",
    "wait_seconds",
  ]);
  assert.equal(warnings[0]!.fields.max_series, 3);
});

test("two registries stay apart; a shared registry refuses a duplicate", async () => {
  using a = createMetrics({ service: "a", defaultMetrics: false });
  using b = createMetrics({ service: "b", defaultMetrics: false });
  a.counter({ name: "jobs_total", help: "Jobs." }).inc(2);
  b.counter({ name: "jobs_total", help: "Jobs." }).inc(5);
  assert.notEqual(a.registry, b.registry);
  assert.equal(sample((await a.render()).body, 'jobs_total{service="a"}'), 2);
  assert.equal(sample((await b.render()).body, 'jobs_total{service="b"}'), 5);

  const registry = new client.Registry();
  using c = createMetrics({ service: "c", registry, defaultMetrics: false });
  using d = createMetrics({ service: "c", registry, defaultMetrics: false });
  c.gauge({ name: "depth", help: "Depth." });
  assert.throws(() => d.gauge({ name: "depth", help: "Depth." }), /already registered/);
  assert.match(await registry.metrics(), /# TYPE depth gauge/);
});

test("render() answers OpenMetrics only when Accept prefers it, and leaves names intact", async () => {
  using metrics = quiet();
  metrics.counter({ name: "jobs_total", help: "Jobs." }).inc();
  const text = "text/plain; version=0.0.4; charset=utf-8";
  const open = "application/openmetrics-text; version=1.0.0; charset=utf-8";
  const prometheus2 =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
  const cases: [string | undefined | null, string][] = [
    [undefined, text],
    [null, text],
    ["", text],
    ["*/*", text],
    ["text/plain", text],
    [prometheus2, open],
    ["application/openmetrics-text", open],
    ["application/openmetrics-text;version=2.0.0, text/plain;q=0.1", text],
    ["application/openmetrics-text;q=0.2, text/plain;q=0.9", text],
    ["application/openmetrics-text;q=0", text],
  ];
  for (const [accept, contentType] of cases) {
    const rendered = await metrics.render({ accept });
    assert.equal(rendered.contentType, contentType, String(accept));
    if (contentType === open) {
      assert.match(rendered.body, /^# TYPE jobs counter$/m);
      assert.match(rendered.body, /^jobs_total\{service="svc"\} 1$/m);
      assert.match(rendered.body, /# EOF\n$/);
    } else {
      assert.match(rendered.body, /^# TYPE jobs_total counter$/m);
      assert.match(rendered.body, /^jobs_total\{service="svc"\} 1$/m);
    }
  }
  // Concurrent renders in both formats each see the names they should.
  const both = await Promise.all([
    metrics.render({ accept: prometheus2 }),
    metrics.render(),
    metrics.render({ accept: prometheus2 }),
    metrics.render(),
  ]);
  assert.match(both[1]!.body, /^# TYPE jobs_total counter$/m);
  assert.match(both[3]!.body, /^# TYPE jobs_total counter$/m);
  assert.match(await metrics.registry.metrics(), /^# TYPE jobs_total counter$/m);
});

test("default metrics render on this runtime and pass promtool with no lint", async (t) => {
  using metrics = createMetrics({ service: "svc", prefix: "app_" });
  const { body } = await metrics.render();
  for (
    const name of [
      "app_process_cpu_seconds_total",
      "app_process_start_time_seconds",
      "app_process_resident_memory_bytes",
      "app_nodejs_eventloop_lag_seconds",
      "app_nodejs_heap_size_used_bytes",
      "app_nodejs_version_info",
    ]
  ) {
    assert.match(body, new RegExp(`^${name}\\{`, "m"), name);
  }
  // No gauge ends in _total (promtool's lint), and every counter does.
  for (const match of body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    assert.equal(match[1]!.endsWith("_total"), match[2] === "counter", match[1]);
  }
  if (!needCommand(t, "promtool")) return;
  const checked = promtoolCheck(body);
  assert.equal(checked.status, 0, checked.output);
});

test("close() removes the default metrics, keeps the rest, and is idempotent", async () => {
  const metrics = createMetrics({ service: "svc" });
  metrics.gauge({ name: "kept", help: "Kept." }).set(1);
  assert.match((await metrics.render()).body, /process_cpu_seconds_total/);
  metrics.close();
  metrics.close();
  await metrics[Symbol.asyncDispose]();
  const { body } = await metrics.render();
  assert.doesNotMatch(body, /process_|nodejs_/);
  assert.match(body, /^kept\{service="svc"\} 1$/m);
});

test("the prom-client registry's own JSON and reset work on plinth's metrics", async () => {
  using metrics = quiet();
  const counter = metrics.counter({ name: "jobs_total", help: "Jobs.", labelNames: ["queue"] });
  const gauge = metrics.gauge({ name: "depth", help: "Depth." });
  counter.inc({ queue: "mail" }, 2);
  gauge.set(4);
  const json = await metrics.registry.getMetricsAsJSON();
  const jobs = json.find((m) => m.name === "jobs_total");
  assert.equal(jobs?.type, "counter");
  assert.deepEqual(jobs?.values, [{ value: 2, labels: { queue: "mail", service: "svc" } }]);
  metrics.registry.resetMetrics();
  const { body } = await metrics.render();
  assert.doesNotMatch(body, /^jobs_total\{/m);
  assert.equal(sample(body, 'depth{service="svc"}'), 0);
  counter.inc({ queue: "mail" });
  assert.equal(sample((await metrics.render()).body, 'jobs_total{queue="mail",service="svc"}'), 1);
});

test("label names are a const tuple: a sample takes exactly those keys (checked by the compiler too)", () => {
  using metrics = quiet();
  const counter = metrics.counter({ name: "jobs_total", help: "Jobs.", labelNames: ["queue"] });
  const plain = metrics.gauge({ name: "depth", help: "Depth." });
  counter.inc({ queue: "mail" });
  plain.set(1);
  // Each line below is a type error (deno check fails if one is not) and a TypeError at run time.
  // @ts-expect-error an unknown key
  assert.throws(() => counter.inc({ queue: "mail", extra: "x" }), TypeError);
  // @ts-expect-error a missing key
  assert.throws(() => counter.inc({}), TypeError);
  // @ts-expect-error no labels given to a metric that has some
  assert.throws(() => counter.inc(), TypeError);
  // @ts-expect-error labels given to a metric without any
  assert.throws(() => plain.set({ queue: "mail" }, 1), TypeError);
  assert.deepEqual(counter.labelNames, ["queue"]);
});
