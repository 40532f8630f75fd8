// Fault tests against a throwaway PostgreSQL of their own (never the shared server). Each runs
// on one runtime (CI runs all of them): down-at-start on Bun, restart x10 under load on Deno,
// the postgres.js #1154 reproduction on Node 24.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connectDatabase } from "./connect_database.ts";
import { captureLogger, inCI, nodeMajor, runtime, sleep } from "@plinth/testing";
import { ThrowawayPostgres } from "@plinth/testing/postgres";

function onlyOn(t: { skip(message?: string): void }, wanted: string): boolean {
  const here = runtime() === "node" ? `node${nodeMajor()}` : runtime();
  if (here !== wanted) {
    const message = `runs on ${wanted} only (this is ${here})`;
    console.log(`skipped: ${message}`);
    t.skip(message);
    return false;
  }
  if (!ThrowawayPostgres.available()) {
    const message = "PostgreSQL 15 binaries are not installed";
    if (inCI) throw new Error(message);
    console.log(`skipped: ${message}`);
    t.skip(message);
    return false;
  }
  return true;
}

/** Collects what escapes as an uncaught exception or unhandled rejection while `fn` runs. */
async function escapes<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; escaped: unknown[] }> {
  const escaped: unknown[] = [];
  const onError = (error: unknown) => void escaped.push(error);
  process.on("uncaughtException", onError);
  process.on("unhandledRejection", onError);
  try {
    const result = await fn();
    await sleep(50);
    return { result, escaped };
  } finally {
    process.off("uncaughtException", onError);
    process.off("unhandledRejection", onError);
  }
}

test(
  "connectDatabase() retries while PostgreSQL is down and starts when it comes up",
  {
    timeout: 120_000,
  },
  async (t) => {
    if (!onlyOn(t, "bun")) return;
    const cluster = await ThrowawayPostgres.create();
    try {
      const logger = captureLogger();
      const starting = sleep(500).then(() => cluster.startAsync());
      const started = performance.now();
      const { result: db, escaped } = await escapes(() =>
        connectDatabase(cluster.url, {
          max: 3,
          retry: { retries: 5, baseDelay: 200, maxDelay: 1000 },
          connectTimeout: 1000,
          logger,
        })
      );
      await starting;
      try {
        assert.deepEqual(escaped, [], "nothing escaped while connecting");
        const [row] = await db.sql`select 1 as one`;
        assert.equal(row?.one, 1);
        const retries = logger.lines.filter((l) => l.message.includes("retrying"));
        assert.ok(retries.length >= 1, "it had to retry");
        assert.match(
          String(retries[0]?.fields.target),
          /^127\.0\.0\.1:\d+\/postgres$/,
        );
        console.log(
          `connected after ${retries.length} retries, ${
            (performance.now() - started).toFixed(0)
          } ms`,
        );
      } finally {
        await db.close();
      }
    } finally {
      cluster.remove();
    }
  },
);

test(
  "Database survives 10 restarts under load: failures reject, queries succeed within 2 s",
  {
    timeout: 120_000,
  },
  async (t) => {
    if (!onlyOn(t, "deno")) return;
    const cluster = await ThrowawayPostgres.create();
    cluster.start();
    const logger = captureLogger();
    const db = await connectDatabase(cluster.url, {
      max: 10,
      queueTimeout: 2000,
      connectTimeout: 1000,
      logger,
    });
    try {
      const { result, escaped } = await escapes(async () => {
        let running = true;
        let ok = 0;
        const failures = new Map<string, number>();
        const task = async () => {
          while (running) {
            try {
              await db.sql`select pg_sleep(0.002), ${"x".repeat(2000)}::text as pad`;
              ok++;
            } catch (error) {
              const code = String(
                (error as { code?: unknown }).code ?? (error as Error).name,
              );
              failures.set(code, (failures.get(code) ?? 0) + 1);
              await sleep(5);
            }
          }
        };
        const tasks = Array.from({ length: 50 }, task);
        const recoveries: number[] = [];
        for (let i = 0; i < 10; i++) {
          await sleep(150);
          cluster.stop(i % 2 === 0 ? "fast" : "immediate");
          await sleep(100);
          cluster.start();
          const back = performance.now();
          for (;;) {
            try {
              await db.sql`select 1`;
              break;
            } catch {
              if (performance.now() - back > 5000) break;
              await sleep(20);
            }
          }
          recoveries.push(performance.now() - back);
        }
        running = false;
        await Promise.all(tasks);
        return { ok, failures, recoveries };
      });
      console.log(
        `restarts: recovery ms ${result.recoveries.map((r) => r.toFixed(0)).join(", ")}; ` +
          `${result.ok} ok, failures ${JSON.stringify([...result.failures])}`,
      );
      assert.deepEqual(escaped, [], "nothing escaped as uncaught or unhandled");
      assert.ok(result.failures.size > 0, "the restarts did fail queries");
      assert.ok(result.ok > 0);
      for (const ms of result.recoveries) {
        assert.ok(
          ms < 2000,
          `recovered after ${ms} ms`,
        );
      }
      assert.equal((await db.health()).ok, true);
    } finally {
      await db.close({ timeout: 1000 });
      cluster.remove();
    }
  },
);

/** Raw postgres.js hammering `url` in a child process until `stop()`; its findings then. */
function rawHammer(url: string): {
  started: Promise<void>;
  stop(): Promise<{ ok: number; failed: number; escaped: string[] }>;
} {
  const script = fileURLToPath(new URL("./_raw_restart.ts", import.meta.url));
  const child = spawn(process.execPath, [script, url], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let output = "";
  let onStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => (onStarted = resolve));
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    output += chunk;
    if (output.includes("started")) onStarted();
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return {
    started,
    async stop() {
      child.stdin.end();
      await exited;
      const line = output.trim().split("\n").at(-1) ?? "";
      return JSON.parse(line);
    },
  };
}

test(
  "postgres.js #1154 (TypeError from nextWrite on restart): tried raw, nothing escapes Database",
  { timeout: 120_000 },
  async (t) => {
    if (!onlyOn(t, "node24")) return;
    const cluster = await ThrowawayPostgres.create();
    cluster.start();
    const pad = "y".repeat(4096); // > 1 KiB so postgres.js writes at once (its nextWrite path)
    const restart = async (): Promise<void> => {
      for (let i = 0; i < 10; i++) {
        await sleep(100);
        cluster.stop("immediate");
        await sleep(50);
        cluster.start();
      }
      await sleep(300);
    };
    try {
      // Raw postgres.js in a process of its own: what it leaks cannot reach this one.
      const raw = rawHammer(cluster.url);
      await raw.started;
      await restart();
      const rawRun = await raw.stop();
      // The same load through plinth, in this process: nothing may escape, not even late.
      const db = await connectDatabase(cluster.url, {
        max: 10,
        connectTimeout: 1000,
        logger: captureLogger(),
      });
      let failed = 0;
      let ok = 0;
      const { escaped } = await escapes(async () => {
        let running = true;
        const tasks = Array.from({ length: 50 }, async (_, n) => {
          while (running) {
            await db.sql`select ${n}::int, ${pad}::text`.then(
              () => void ok++,
              async () => {
                failed++;
                await sleep(2);
              },
            );
          }
        });
        await restart();
        running = false;
        await Promise.race([Promise.all(tasks), sleep(5000)]);
        await db.close({ timeout: 1000 });
        await sleep(1500); // anything late from retired driver instances
      });
      const describe = (list: unknown[]) => [
        ...new Set(
          list.map((e) =>
            `${(e as Error)?.name}:${(e as { code?: string })?.code}:${(e as Error)?.message}`
          ),
        ),
      ];
      const typeErrors = rawRun.escaped.filter((e) => e.startsWith("TypeError"));
      console.log(
        `#1154: raw postgres.js: ${rawRun.escaped.length} escaped (${typeErrors.length} TypeError) ` +
          `${
            JSON.stringify([...new Set(rawRun.escaped)])
          }, ${rawRun.ok} ok, ${rawRun.failed} failed; ` +
          `plinth: ${escaped.length} escaped ${
            JSON.stringify(describe(escaped))
          }, ${ok} ok, ${failed} failed`,
      );
      assert.ok(rawRun.failed > 0 && failed > 0, "the restarts hit queries in flight");
      assert.ok(ok > 0, "plinth's queries succeeded between restarts");
      assert.deepEqual(describe(escaped), [], "nothing escaped plinth's pool");
    } finally {
      cluster.remove();
    }
  },
);
