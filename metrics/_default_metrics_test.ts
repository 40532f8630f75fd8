import { test } from "node:test";
import assert from "node:assert/strict";
import client from "prom-client";
import type { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { runtime } from "@plinth/testing";
import {
  type DefaultMetricsHooks,
  procAllowed,
  runtimeName,
  startDefaultMetrics,
} from "./_default_metrics.ts";

/** Hooks that record what the default metrics start and stop. */
function recording(runtime: DefaultMetricsHooks["runtime"]) {
  const events: string[] = [];
  const fakeMonitor = ((options: { resolution?: number }) => {
    events.push(`monitor ${options.resolution}`);
    return {
      enable: () => (events.push("enable"), true),
      disable: () => (events.push("disable"), true),
      reset: () => {},
      percentile: () => 0,
      count: 0,
      min: 0,
      max: 0,
      mean: 0,
      stddev: 0,
    };
  }) as unknown as typeof monitorEventLoopDelay;
  class FakeObserver {
    constructor(_callback: unknown) {
      events.push("observer");
    }
    observe(options: { entryTypes: string[] }): void {
      events.push(`observe ${options.entryTypes.join()}`);
    }
    disconnect(): void {
      events.push("disconnect");
    }
  }
  const hooks: DefaultMetricsHooks = {
    monitorEventLoopDelay: fakeMonitor,
    PerformanceObserver: FakeObserver as unknown as typeof PerformanceObserver,
    runtime,
  };
  return { events, hooks };
}

test("default metrics: stop() releases the event-loop monitor and the GC observer", () => {
  const { events, hooks } = recording("node");
  const registry = new client.Registry();
  const defaults = startDefaultMetrics(registry, "", hooks);
  assert.deepEqual(events, ["monitor 10", "enable", "observer", "observe gc"]);
  assert.ok(defaults.names.includes("nodejs_gc_duration_seconds"));
  assert.ok(defaults.names.includes("nodejs_eventloop_lag_p99_seconds"));
  assert.equal(registry.getMetricsAsArray().length, defaults.names.length);
  defaults.stop();
  assert.deepEqual(events.slice(4).sort(), ["disable", "disconnect"]);
  assert.equal(registry.getMetricsAsArray().length, 0);
  defaults.stop();
  assert.equal(events.length, 6);
});

test("default metrics: Deno gets no delay monitor and Bun no GC observer", () => {
  const deno = recording("deno");
  const onDeno = startDefaultMetrics(new client.Registry(), "", deno.hooks);
  assert.deepEqual(deno.events, []);
  assert.ok(onDeno.names.includes("nodejs_eventloop_lag_seconds"));
  assert.ok(!onDeno.names.includes("nodejs_eventloop_lag_p99_seconds"));
  assert.ok(!onDeno.names.includes("nodejs_gc_duration_seconds"));
  onDeno.stop();

  const bun = recording("bun");
  const onBun = startDefaultMetrics(new client.Registry(), "x_", bun.hooks);
  assert.deepEqual(bun.events, ["monitor 10", "enable"]);
  assert.ok(onBun.names.includes("x_nodejs_eventloop_lag_p99_seconds"));
  assert.ok(!onBun.names.includes("x_nodejs_gc_duration_seconds"));
  onBun.stop();
  assert.deepEqual(bun.events, ["monitor 10", "enable", "disable"]);
});

test("default metrics: what this runtime reports", async () => {
  assert.equal(runtimeName(), runtime());
  const registry = new client.Registry();
  const defaults = startDefaultMetrics(registry, "");
  try {
    const body = await registry.metrics();
    const value = (name: string): number => {
      const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(body);
      assert.ok(match, `${name} is missing`);
      return Number(match[1]);
    };
    assert.ok(value("process_cpu_seconds_total") > 0);
    assert.ok(
      Math.abs(value("process_start_time_seconds") - Date.now() / 1000) < 3600 * 24,
    );
    assert.ok(value("process_resident_memory_bytes") > 1_000_000);
    assert.ok(value("nodejs_heap_size_used_bytes") > 0);
    assert.ok(value("nodejs_eventloop_lag_seconds") >= 0);
    // Linux's /proc is readable on every runtime here.
    assert.ok(value("process_open_fds") > 0);
    assert.ok(value("process_max_fds") >= value("process_open_fds"));
    assert.equal(defaults.names.includes("nodejs_gc_duration_seconds"), runtime() === "node");
    assert.equal(
      defaults.names.includes("nodejs_eventloop_lag_p99_seconds"),
      runtime() !== "deno",
    );
  } finally {
    defaults.stop();
  }
});

test("procAllowed: always off Deno; on Deno only when every permission is granted (no prompt)", () => {
  assert.equal(procAllowed(undefined), true);
  const asked: string[] = [];
  const all = {
    querySync: ({ name }: { name: string }) => (asked.push(name), { state: "granted" }),
  };
  assert.equal(procAllowed(all), true);
  assert.ok(asked.includes("read") && asked.includes("run"));
  const readOnly = {
    querySync: ({ name }: { name: string }) => ({ state: name === "read" ? "granted" : "prompt" }),
  };
  assert.equal(procAllowed(readOnly), false);
  const throwing = {
    querySync: (): { state: string } => {
      throw new TypeError("unknown permission");
    },
  };
  assert.equal(procAllowed(throwing), false);
});
