import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const here = new URL(".", import.meta.url);

/**
 * The bare specifiers `entry` loads at run time: its value imports and re-exports, and those of
 * the package files it reaches through relative ones (`import type` and `export type` erase).
 */
function runtimeImports(entry: string): Set<string> {
  const bare = new Set<string>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(new URL(file, here), "utf8");
    const statements = text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms);
    for (const [, , type, specifier] of statements) {
      if (type !== undefined) continue;
      if (specifier!.startsWith("./")) queue.push(specifier!.slice(2));
      else bare.add(specifier!);
    }
  }
  return bare;
}

test("mod.ts loads neither Hono, @plinth/auth, jose nor @plinth/logging at run time", () => {
  assert.deepEqual([...runtimeImports("mod.ts")].sort(), ["@plinth/errors", "zod"]);
});

test("hono.ts adds no run-time dependency beyond mod.ts's", () => {
  assert.deepEqual([...runtimeImports("hono.ts")].sort(), ["@plinth/errors", "zod"]);
});
