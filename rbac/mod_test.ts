import { test } from "node:test";
import assert from "node:assert/strict";
import { runtimeImports } from "@plinth/testing/imports";

/** The bare specifiers `entry` loads at run time (sibling packages not followed). */
function bare(entry: string): string[] {
  const found = runtimeImports(new URL(entry, import.meta.url)).map((i) => i.specifier);
  return [...new Set(found)].sort();
}

test("mod.ts loads neither Hono, @plinth/auth, jose nor @plinth/logging at run time", () => {
  assert.deepEqual(bare("mod.ts"), ["@plinth/errors", "zod"]);
});

test("hono.ts adds no run-time dependency beyond mod.ts's", () => {
  assert.deepEqual(bare("hono.ts"), ["@plinth/errors", "zod"]);
});
