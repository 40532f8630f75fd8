import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeImports } from "@plinth/testing/imports";

test("mod.ts loads no node: module, statically or with import(), through any file it reaches", () => {
  assert.deepEqual(nodeImports(new URL("mod.ts", import.meta.url)), []);
});
