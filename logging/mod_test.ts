import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = new URL("../", import.meta.url);

/** The file a `@plinth/<pkg>[/<sub>]` specifier names, from that package's `deno.json` exports. */
function resolvePlinth(specifier: string): URL {
  const [, pkg, sub] = /^@plinth\/([^/]+)(\/.*)?$/.exec(specifier)!;
  const dir = new URL(`${pkg}/`, root);
  const exports = JSON.parse(readFileSync(new URL("deno.json", dir), "utf8")).exports;
  const target = typeof exports === "string"
    ? exports
    : exports[sub === undefined ? "." : `.${sub}`];
  assert.equal(typeof target, "string", `${specifier} is not exported`);
  return new URL(target, dir);
}

/**
 * Every `node:` module loaded at run time by `entry`, statically (value imports and re-exports,
 * side-effect imports) or by `import()`, in the files it reaches through relative and
 * `@plinth/*` specifiers (`import type` and `export type` erase), each with the file naming it.
 */
function nodeImports(entry: URL): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file.href)) continue;
    seen.add(file.href);
    const text = readFileSync(file, "utf8");
    const specifiers: string[] = [];
    for (
      const [, type, specifier] of text.matchAll(
        /^(?:import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms,
      )
    ) {
      if (type === undefined) specifiers.push(specifier!);
    }
    for (const [, specifier] of text.matchAll(/^import\s+"([^"]+)"/gm)) specifiers.push(specifier!);
    for (const [, specifier] of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) {
      specifiers.push(specifier!);
    }
    for (const specifier of specifiers) {
      const where = file.href.startsWith(root.href) ? file.href.slice(root.href.length) : file.href;
      if (specifier.startsWith("node:")) found.push(`${where} imports ${specifier}`);
      else if (specifier.startsWith(".")) queue.push(new URL(specifier, file));
      else if (specifier.startsWith("@plinth/")) queue.push(resolvePlinth(specifier));
    }
  }
  return found;
}

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
