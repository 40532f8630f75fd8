/**
 * What a module loads at run time, read from the sources: the tests that keep Hono, `node:`
 * built-ins and sibling packages out of the entry points that must not load them.
 *
 * @module
 */
import { readFileSync } from "node:fs";

/** The repository root (this folder's parent). */
const root = new URL("../", import.meta.url);

/** A specifier that a module loads at run time, and the file (relative to the root) naming it. */
export interface RuntimeImport {
  readonly file: string;
  readonly specifier: string;
}

/** The file a `@plinth/<pkg>[/<sub>]` specifier names, from that package's `deno.json` exports. */
function resolvePlinth(specifier: string): URL {
  const match = /^@plinth\/([^/]+)(\/.*)?$/.exec(specifier);
  if (match === null) throw new TypeError(`Not a @plinth specifier: ${specifier}`);
  const dir = new URL(`${match[1]}/`, root);
  const exports = JSON.parse(readFileSync(new URL("deno.json", dir), "utf8")).exports;
  const target = typeof exports === "string"
    ? (match[2] === undefined ? exports : undefined)
    : exports?.[match[2] === undefined ? "." : `.${match[2]}`];
  if (typeof target !== "string") throw new TypeError(`${specifier} is not exported`);
  return new URL(target, dir);
}

/**
 * Every non-relative specifier loaded at run time by `entry` — value imports and re-exports,
 * side-effect imports and `import("…")` — in the files it reaches through relative specifiers
 * (`import type` and `export type` erase). With `followPlinth`, `@plinth/*` specifiers are
 * followed into the sibling package instead of being reported.
 */
export function runtimeImports(
  entry: URL,
  options: { readonly followPlinth?: boolean } = {},
): RuntimeImport[] {
  const found: RuntimeImport[] = [];
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file.href)) continue;
    seen.add(file.href);
    const text = readFileSync(file, "utf8");
    const specifiers: string[] = [];
    const statements = /^(?:import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms;
    for (const [, type, specifier] of text.matchAll(statements)) {
      if (type === undefined) specifiers.push(specifier!);
    }
    for (const [, specifier] of text.matchAll(/^import\s+"([^"]+)"/gm)) specifiers.push(specifier!);
    for (const [, specifier] of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) {
      specifiers.push(specifier!);
    }
    const where = file.href.startsWith(root.href) ? file.href.slice(root.href.length) : file.href;
    for (const specifier of specifiers) {
      if (specifier.startsWith(".")) queue.push(new URL(specifier, file));
      else if (options.followPlinth === true && specifier.startsWith("@plinth/")) {
        queue.push(resolvePlinth(specifier));
      } else found.push({ file: where, specifier });
    }
  }
  return found;
}

/** The `node:` modules `entry` loads at run time, through any file and sibling package it reaches. */
export function nodeImports(entry: URL): string[] {
  return runtimeImports(entry, { followPlinth: true })
    .filter((i) => i.specifier.startsWith("node:"))
    .map((i) => `${i.file} imports ${i.specifier}`);
}
