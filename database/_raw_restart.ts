// Run by restart_test.ts in a separate process: raw postgres.js (no plinth) hammered with
// queries while the parent restarts the server, counting what escapes as an uncaught exception
// or an unhandled rejection. Its own process, so whatever the driver leaks (late, too) cannot
// touch the test process. Runs until its stdin ends, then prints one JSON line.
import process from "node:process";
import postgres from "postgres";

const url = process.argv.at(-1);
const escaped: string[] = [];
const record = (error: unknown): void => {
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  escaped.push(`${String(e?.name)}:${String(e?.code)}:${String(e?.message)}`);
};
process.on("uncaughtException", record);
process.on("unhandledRejection", record);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pad = "y".repeat(4096); // > 1 KiB so postgres.js writes at once (its nextWrite path)
const sql = postgres(url!, { max: 10, onnotice: () => {}, connect_timeout: 1 });
let running = true;
let ok = 0;
let failed = 0;
const tasks = Array.from({ length: 50 }, async (_, n) => {
  while (running) {
    await sql`select ${n}::int, ${pad}::text`.then(
      () => void ok++,
      async () => {
        failed++;
        await sleep(2);
      },
    );
  }
});
console.log("started");
await new Promise((resolve) => {
  process.stdin.once("end", resolve);
  process.stdin.resume();
});
running = false;
await Promise.race([Promise.all(tasks), sleep(5000)]);
await sql.end({ timeout: 0 }).catch(() => {});
await sleep(1500); // late escapes from the driver's reconnect timers
console.log(JSON.stringify({ ok, failed, escaped }));
process.exit(0);
