// Test-only (publish.exclude): run by cached_token_store_test.ts as a process of its own, on the
// runtime that runs the test. Arguments: the database URL, a schema with the migrations applied,
// and what to close at the end: "store" (the store, then the pool) or "pool" (the pool only: the
// store's timer must not keep the process alive). Prints one JSON line and exits on its own.
import process from "node:process";
import { connectDatabase } from "@plinth/database";
import { createCachedTokenStore } from "./cached_token_store.ts";

const [url, schema, mode] = process.argv.slice(-3) as [string, string, string];
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const db = await connectDatabase(url, {
  max: 2,
  prewarm: false,
  logger: quiet,
  connection: { search_path: schema },
});
const store = await createCachedTokenStore(db.sql, { refreshInterval: 20 });
await store.revoke("child-family", Date.now() + 60_000);
const revoked = store.isRevoked("child-family");
await new Promise((resolve) => setTimeout(resolve, 100)); // a few reloads and heartbeats
if (mode === "store") await store.close();
await db.close();
console.log(JSON.stringify({ revoked, size: store.size }));
