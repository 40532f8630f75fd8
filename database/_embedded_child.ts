// Test helper, run as its own process by embedded_test.ts (Deno with chosen permissions):
// starts the embedded database in the data directory given as the first argument, runs a query,
// closes it, and prints "ok"; on failure prints the error's message and code and exits with 1.
import process from "node:process";
import { connectEmbedded } from "@plinth/database/embedded";

try {
  const db = await connectEmbedded({ dataDir: process.argv[2] });
  const [row] = await db.sql`select 40 + 2 as n`;
  await db.close();
  console.log(row?.n === 42 ? "ok" : "wrong answer");
} catch (error) {
  const { message, code } = error as { message?: string; code?: string };
  console.log(JSON.stringify({ message, code }));
  process.exitCode = 1;
}
