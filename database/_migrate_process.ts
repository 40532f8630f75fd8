// Run by migrations_test.ts in a separate process: waits until the given moment, runs the
// migrations once and prints the result as one JSON line.
import process from "node:process";
import { runMigrations } from "./migrations.ts";

const [url, dir, table, startAt] = process.argv.slice(-4);
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const wait = Number(startAt) - Date.now();
if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
try {
  const result = await runMigrations(url!, {
    dir: dir!,
    table: table!,
    logger,
    pollInterval: 20,
  });
  console.log(
    JSON.stringify({ ok: true, applied: result.applied.map((m) => m.version) }),
  );
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error) }));
}
