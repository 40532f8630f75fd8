// The default process and runtime metrics, under the names prom-client's collectDefaultMetrics()
// uses, built on prom-client's metric classes. Not prom-client's own collectors: those enable an
// event-loop-delay monitor and a GC observer that nothing can stop, so close() could not leave
// the process as it found it. Here every resource is released by stop(), and each metric is
// registered only where the runtime can fill it (checked once, at start). The gauges prom-client
// names `*_total` (active handles, requests, resources) are not made: promtool rejects a gauge
// ending in `_total`, and `sum(nodejs_active_resources)` gives the same figure.
import client from "prom-client";
import process from "node:process";
import { readdirSync, readFileSync } from "node:fs";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";

/** The default metrics of one Metrics: `names` as registered, `stop()` releases them. */
export interface DefaultMetrics {
  readonly names: readonly string[];
  stop(): void;
}

/** Which runtime runs the code (the default metrics differ in what each can measure). */
export function runtimeName(): "deno" | "bun" | "node" {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.deno !== undefined) return "deno";
  if (versions.bun !== undefined) return "bun";
  return "node";
}

/** The part of `Deno.permissions` used here (feature-detected: absent on Node and Bun). */
interface DenoPermissions {
  querySync(descriptor: { name: string }): { readonly state: string };
}

/**
 * Whether reading `/proc/self` may be tried without a prompt: always on Node and Bun; on Deno,
 * which treats `/proc/self` as privileged (it takes every permission, as `-A` grants), only when
 * all are granted — a permission in the "prompt" state would make Deno ask on a terminal.
 */
export function procAllowed(
  permissions: DenoPermissions | undefined =
    (globalThis as { Deno?: { permissions?: DenoPermissions } }).Deno?.permissions,
): boolean {
  if (typeof permissions?.querySync !== "function") return true;
  try {
    return ["read", "write", "net", "env", "sys", "run", "ffi"].every((name) =>
      permissions.querySync({ name }).state === "granted"
    );
  } catch {
    return false;
  }
}

function readable(read: () => unknown): boolean {
  try {
    read();
    return true;
  } catch {
    return false;
  }
}

function statusField(text: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s*kB`, "m").exec(text);
  return match === null ? undefined : Number(match[1]) * 1024;
}

/** What the default metrics take from the runtime that holds a resource (replaced in tests). */
export interface DefaultMetricsHooks {
  readonly monitorEventLoopDelay: typeof monitorEventLoopDelay;
  readonly PerformanceObserver: typeof PerformanceObserver;
  readonly runtime: "deno" | "bun" | "node";
}

/** Registers the default metrics on `registry`, each name with `prefix` in front. */
export function startDefaultMetrics(
  registry: client.Registry,
  prefix: string,
  hooks: DefaultMetricsHooks = {
    monitorEventLoopDelay,
    PerformanceObserver,
    runtime: runtimeName(),
  },
): DefaultMetrics {
  const names: string[] = [];
  const stops: (() => void)[] = [];
  const registers = [registry];
  const gauge = (
    name: string,
    help: string,
    collect: (g: client.Gauge) => void | Promise<void>,
    labelNames: string[] = [],
  ): void => {
    names.push(prefix + name);
    new client.Gauge({
      name: prefix + name,
      help,
      labelNames,
      registers,
      collect() {
        return collect(this);
      },
    });
  };
  const counter = (name: string, help: string, read: () => number): void => {
    names.push(prefix + name);
    new client.Counter({
      name: prefix + name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  };
  const runtime = hooks.runtime;

  counter(
    "process_cpu_user_seconds_total",
    "Total user CPU time spent in seconds.",
    () => process.cpuUsage().user / 1e6,
  );
  counter(
    "process_cpu_system_seconds_total",
    "Total system CPU time spent in seconds.",
    () => process.cpuUsage().system / 1e6,
  );
  counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  });
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  gauge(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    (g) => {
      g.set(startTime);
    },
  );

  // Linux's /proc: resident, virtual and data memory, open and maximum file descriptors.
  const proc = procAllowed();
  if (proc && readable(() => readFileSync("/proc/self/status", "utf8"))) {
    const fields = [
      ["process_resident_memory_bytes", "Resident memory size in bytes.", "VmRSS"],
      ["process_virtual_memory_bytes", "Virtual memory size in bytes.", "VmSize"],
      ["process_heap_bytes", "Process heap size in bytes.", "VmData"],
    ] as const;
    for (const [name, help, field] of fields) {
      gauge(name, help, (g) => {
        const value = statusField(readFileSync("/proc/self/status", "utf8"), field);
        if (value !== undefined) g.set(value);
      });
    }
  } else {
    gauge("process_resident_memory_bytes", "Resident memory size in bytes.", (g) => {
      g.set(process.memoryUsage().rss);
    });
  }
  if (proc && readable(() => readdirSync("/proc/self/fd"))) {
    // The listing itself holds one descriptor while it runs.
    gauge("process_open_fds", "Number of open file descriptors.", (g) => {
      g.set(readdirSync("/proc/self/fd").length - 1);
    });
  }
  if (proc && readable(() => readFileSync("/proc/self/limits", "utf8"))) {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (match !== null) {
      const max = Number(match[1]);
      gauge("process_max_fds", "Maximum number of open file descriptors.", (g) => {
        g.set(max);
      });
    }
  }

  // The lag a scrape sees: the time a setImmediate callback waits.
  gauge(
    "nodejs_eventloop_lag_seconds",
    "Lag of event loop in seconds.",
    (g) =>
      new Promise((resolve) => {
        const start = performance.now();
        setImmediate(() => {
          g.set((performance.now() - start) / 1000);
          resolve();
        });
      }),
  );
  // Deno's monitorEventLoopDelay() reports figures unrelated to the real delay: not used there.
  if (runtime !== "deno") {
    try {
      const delay = hooks.monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      stops.push(() => delay.disable());
      const stats = [
        ["min", "The minimum recorded event loop delay.", () => delay.min],
        ["max", "The maximum recorded event loop delay.", () => delay.max],
        ["mean", "The mean of the recorded event loop delays.", () => delay.mean],
        ["stddev", "The standard deviation of the recorded event loop delays.", () => delay.stddev],
        [
          "p50",
          "The 50th percentile of the recorded event loop delays.",
          () => delay.percentile(50),
        ],
        [
          "p90",
          "The 90th percentile of the recorded event loop delays.",
          () => delay.percentile(90),
        ],
        [
          "p99",
          "The 99th percentile of the recorded event loop delays.",
          () => delay.percentile(99),
        ],
      ] as const;
      for (const [stat, help, read] of stats) {
        gauge(`nodejs_eventloop_lag_${stat}_seconds`, help, (g) => {
          // No sample since the last scrape: min is a huge sentinel, the rest NaN or 0.
          if (delay.count > 0) g.set(read() / 1e9);
          // Collected in registration order, p99 last: each scrape reports the delays since
          // the previous one.
          if (stat === "p99") delay.reset();
        });
      }
    } catch {
      // A runtime without the monitor: only nodejs_eventloop_lag_seconds.
    }
  }

  if (typeof process.getActiveResourcesInfo === "function") {
    gauge(
      "nodejs_active_resources",
      "Number of active resources that are currently keeping the event loop alive, grouped by async resource type.",
      (g) => {
        g.reset();
        const counts = new Map<string, number>();
        for (const type of process.getActiveResourcesInfo()) {
          counts.set(type, (counts.get(type) ?? 0) + 1);
        }
        for (const [type, count] of counts) g.set({ type }, count);
      },
      ["type"],
    );
  }

  gauge("nodejs_heap_size_total_bytes", "Process heap size from Node.js in bytes.", (g) => {
    g.set(process.memoryUsage().heapTotal);
  });
  gauge("nodejs_heap_size_used_bytes", "Process heap size used from Node.js in bytes.", (g) => {
    g.set(process.memoryUsage().heapUsed);
  });
  gauge("nodejs_external_memory_bytes", "Node.js external memory size in bytes.", (g) => {
    g.set(process.memoryUsage().external);
  });
  if (readable(() => getHeapSpaceStatistics())) {
    const spaces = [
      ["total", "space_size"],
      ["used", "space_used_size"],
      ["available", "space_available_size"],
    ] as const;
    for (const [what, field] of spaces) {
      gauge(
        `nodejs_heap_space_size_${what}_bytes`,
        `Process heap space size ${what} from Node.js in bytes.`,
        (g) => {
          for (const space of getHeapSpaceStatistics()) {
            g.set({ space: space.space_name.replace(/_space$/, "") }, space[field]);
          }
        },
        ["space"],
      );
    }
  }

  const [major = "0", minor = "0", patch = "0"] = process.versions.node.split(".");
  gauge("nodejs_version_info", "Node.js version info.", (g) => {
    g.set({ version: `v${process.versions.node}`, major, minor, patch }, 1);
  }, ["version", "major", "minor", "patch"]);

  // Garbage collections: only Node reports them to a PerformanceObserver.
  if (runtime === "node") {
    const kinds = new Map<number, string>([[1, "minor"], [4, "major"], [8, "incremental"], [
      16,
      "weakcb",
    ]]);
    names.push(prefix + "nodejs_gc_duration_seconds");
    const gc = new client.Histogram({
      name: prefix + "nodejs_gc_duration_seconds",
      help: "Garbage collection duration by kind, one of major, minor, incremental or weakcb.",
      labelNames: ["kind"],
      buckets: [0.001, 0.01, 0.1, 1, 2, 5],
      registers,
    });
    const observer = new hooks.PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const detail = (entry as { detail?: unknown }).detail as
          | { kind?: number }
          | null
          | undefined;
        const kind = kinds.get(detail?.kind ?? -1) ?? "unknown";
        gc.observe({ kind }, entry.duration / 1000);
      }
    });
    observer.observe({ entryTypes: ["gc"] });
    stops.push(() => observer.disconnect());
  }

  return {
    names,
    stop() {
      for (const stop of stops) stop();
      stops.length = 0;
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
