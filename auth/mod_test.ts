import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeImports } from "@plinth/testing/imports";

test("mod.ts loads no node: module at the top level, through any file it reaches", () => {
  assert.deepEqual(nodeImports(new URL("mod.ts", import.meta.url)), []);
});

test("hono.ts loads no node: module at the top level, through any file it reaches", () => {
  assert.deepEqual(nodeImports(new URL("hono.ts", import.meta.url)), []);
});
