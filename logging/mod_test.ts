import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { nodeImports } from "@plinth/testing/imports";

test("nodeImports() reports value, side-effect and dynamic node: imports and skips type-only ones", () => {
  const dir = mkdtempSync(join(tmpdir(), "graph-"));
  writeFileSync(join(dir, "a.ts"), 'import type { X } from "node:os";\nexport * from "./b.ts";\n');
  writeFileSync(
    join(dir, "b.ts"),
    'import {\n  AsyncLocalStorage,\n} from "node:async_hooks";\nimport "node:process";\n' +
      'export const load = () => import("node:fs");\n',
  );
  const entry = pathToFileURL(join(dir, "a.ts"));
  const b = pathToFileURL(join(dir, "b.ts")).href;
  assert.deepEqual(nodeImports(entry), [
    `${b} imports node:async_hooks`,
    `${b} imports node:process`,
    `${b} imports node:fs`,
  ]);
});

test("mod.ts loads no node: module at the top level, through any file it reaches", () => {
  assert.deepEqual(nodeImports(new URL("mod.ts", import.meta.url)), []);
});

test("hono.ts loads no node: module at the top level, through any file it reaches", () => {
  assert.deepEqual(nodeImports(new URL("hono.ts", import.meta.url)), []);
});
