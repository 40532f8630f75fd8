#!/usr/bin/env node
// The npm artefact of every package, built the way JSR's npm layer builds it: JavaScript and
// `.d.ts` files compiled from the TypeScript source, a publishable `package.json`, then `npm pack`.
//
//   node scripts/build.mjs [--no-pack] [--keep] [<pkg> ...]    (npm run build)
//
// One TypeScript program covers every workspace member (the packages in the root `deno.json`
// `workspace`), so siblings resolve to their source through the npm workspace links and a type
// error anywhere fails the build. Each package's files (all `.ts` files except what its
// `deno.json` `publish.exclude` names) are emitted to `dist/<pkg>/`, relative `./x.ts` imports
// rewritten to `./x.js`. Its `package.json` takes name and version from `deno.json`, `exports`
// from `deno.json` `exports` (`types` + `default` per entry point), and `description`,
// `dependencies`, `peerDependencies` and `peerDependenciesMeta` from the source `package.json`.
// The build then reads every import of the emitted `.js` and `.d.ts` files and fails when one is
// not declared there (or a declared dependency is never imported). `npm pack` writes
// `dist/plinth-<pkg>-<version>.tgz`; the `dist/<pkg>/` folders are then removed (`--keep` keeps
// them, `--no-pack` stops before packing and keeps them), so that `deno check .` never sees them.
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const ts = createRequire(import.meta.url)("typescript");

/** Fields every built package.json carries besides what the package declares. */
const ENGINES = { node: ">=20.16" };

/** The `dist/<pkg>/` folders written so far, removed on failure and after packing. */
const staged = new Set();
let keep = false;
function unstage() {
  if (keep) return;
  for (const dir of staged) rmSync(dir, { recursive: true, force: true });
}

function fail(message) {
  console.error(`build: ${message}`);
  unstage();
  process.exit(1);
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    fail(`cannot read ${relative(root, path)}: ${error.message}`);
  }
}

// --- What to build ---------------------------------------------------------------------------

const argv = process.argv.slice(2);
const pack = !argv.includes("--no-pack");
keep = !pack || argv.includes("--keep");
const workspace = readJson(join(root, "deno.json")).workspace.map((m) => m.replace(/^\.\//, ""));
const wanted = argv.filter((a) => !a.startsWith("--"));
for (const name of wanted) {
  if (!workspace.includes(name)) fail(`"${name}" is not a member of the deno.json workspace`);
}
const selected = wanted.length > 0 ? wanted : workspace;

/** `publish.exclude` globs (`**`, `*`, plain names) as one RegExp over package-relative paths. */
function excluder(patterns) {
  const sources = patterns.map((pattern) => {
    const p = pattern.replace(/^\.\//, "").replace(/\/$/, "/**");
    let re = "";
    for (let i = 0; i < p.length; i++) {
      const c = p[i];
      if (c === "*" && p[i + 1] === "*") {
        re += p[i + 2] === "/" ? "(?:.*/)?" : ".*";
        i += p[i + 2] === "/" ? 2 : 1;
      } else if (c === "*") re += "[^/]*";
      else re += c.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
    }
    return p.includes("/") ? `^${re}$` : `^(?:.*/)?${re}$`;
  });
  const re = new RegExp(sources.join("|") || "(?!)");
  return (path) => re.test(path);
}

function listFiles(dir, base = dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    if (entry === "node_modules" || entry.startsWith(".")) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...listFiles(path, base));
    else out.push(relative(base, path).split(sep).join("/"));
  }
  return out;
}

/** Files of a package folder the build writes itself (or copies below), not assets. */
const PACKAGE_FILES = new Set(["deno.json", "package.json", "README.md", "LICENSE"]);

/** Everything the build needs to know about one workspace member. */
function describe(name) {
  const dir = join(root, name);
  const deno = readJson(join(dir, "deno.json"));
  const npm = readJson(join(dir, "package.json"));
  if (deno.name !== npm.name) fail(`${name}: deno.json and package.json name differ`);
  if (deno.version !== npm.version) fail(`${name}: deno.json and package.json version differ`);
  const exports = typeof deno.exports === "string" ? { ".": deno.exports } : deno.exports ?? {};
  if (Object.keys(exports).length === 0) fail(`${name}: deno.json has no exports`);
  const excluded = excluder(deno.publish?.exclude ?? []);
  const files = listFiles(dir);
  const sources = files
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !excluded(f))
    .sort();
  // Other published files (SQL migrations, say) are copied as they are.
  const assets = files
    .filter((f) => !f.endsWith(".ts") && !excluded(f) && !PACKAGE_FILES.has(f))
    .sort();
  for (const [subpath, target] of Object.entries(exports)) {
    const file = target.replace(/^\.\//, "");
    if (!sources.includes(file)) {
      fail(`${name}: export "${subpath}" points at ${target}, which is missing or excluded`);
    }
  }
  return { name, dir, deno, npm, exports, sources, assets };
}

const members = new Map(selected.map((name) => [name, describe(name)]));

// --- Compile ---------------------------------------------------------------------------------

/** Compiler options: ESM that Node 20 loads, declarations a consumer's `tsc` accepts. */
const denoCompilerOptions = readJson(join(root, "deno.json")).compilerOptions ?? {};
const options = {
  ...ts.convertCompilerOptionsFromJson(denoCompilerOptions, root).options,
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts", "lib.dom.d.ts"],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: ["node"],
  rewriteRelativeImportExtensions: true,
  declaration: true,
  rootDir: root,
  outDir: dist,
  newLine: ts.NewLineKind.LineFeed,
  skipLibCheck: true,
  noEmitOnError: true,
};
// Siblings imported by name come into the program through the npm workspace links (their source);
// what is emitted for a member that was not selected is removed again below.
const rootNames = selected.flatMap((name) => {
  const m = members.get(name);
  return m.sources.map((f) => join(m.dir, f));
});

const started = performance.now();
rmSync(dist, { recursive: true, force: true });
const program = ts.createProgram({ rootNames, options });
const diagnostics = ts.getPreEmitDiagnostics(program);
const host = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => root,
  getNewLine: () => "\n",
};
if (diagnostics.length > 0) {
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  fail(`type errors: ${diagnostics.length} (nothing written)`);
}
/** `./x.ts` → `./x.js` in declaration files too (`rewriteRelativeImportExtensions` does the JS). */
function rewriteDeclarationImports(context) {
  const f = context.factory;
  const fix = (node) =>
    node && ts.isStringLiteral(node) && /^\.\.?\/.*\.ts$/.test(node.text) &&
      !node.text.endsWith(".d.ts")
      ? f.createStringLiteral(node.text.replace(/\.ts$/, ".js"))
      : node;
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      return f.updateImportDeclaration(
        node,
        node.modifiers,
        node.importClause,
        fix(node.moduleSpecifier),
        node.attributes,
      );
    }
    if (ts.isExportDeclaration(node)) {
      return f.updateExportDeclaration(
        node,
        node.modifiers,
        node.isTypeOnly,
        node.exportClause,
        fix(node.moduleSpecifier),
        node.attributes,
      );
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      return f.updateImportTypeNode(
        ts.visitEachChild(node, visit, context),
        f.updateLiteralTypeNode(node.argument, fix(node.argument.literal)),
        node.attributes,
        node.qualifier,
        node.typeArguments,
        node.isTypeOf,
      );
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (node) => ts.visitNode(node, visit);
}

const emitted = [];
const result = program.emit(
  undefined,
  (file, text) => {
    staged.add(join(dist, relative(dist, file).split(sep)[0]));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    emitted.push(relative(dist, file).split(sep).join("/"));
  },
  undefined,
  false,
  { afterDeclarations: [rewriteDeclarationImports] },
);
if (result.emitSkipped || result.diagnostics.length > 0) {
  console.error(ts.formatDiagnosticsWithColorAndContext(result.diagnostics, host));
  fail("emit failed");
}
const strays = emitted.filter((f) => !workspace.includes(f.split("/")[0]));
if (strays.length > 0) fail(`emitted files outside the packages: ${strays.join(", ")}`);
console.log(
  `compiled ${emitted.length} files for ${members.size} packages in ${
    Math.round(performance.now() - started)
  } ms`,
);

// --- package.json, imports check, README/LICENSE ---------------------------------------------

const BUILTIN = /^node:/;

/** The package a bare specifier names: `@scope/name/sub` → `@scope/name`, `hono/x` → `hono`. */
function packageOf(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Bare specifiers imported (statically, dynamically or as types) by the emitted files. */
function importsOf(dir) {
  const found = new Map();
  for (const file of listFiles(dir)) {
    if (!file.endsWith(".js") && !file.endsWith(".d.ts")) continue;
    const info = ts.preProcessFile(readFileSync(join(dir, file), "utf8"), true, true);
    for (const { fileName } of [...info.importedFiles, ...info.referencedFiles]) {
      if (fileName.startsWith(".") || BUILTIN.test(fileName)) {
        if (fileName.startsWith(".") && fileName.endsWith(".ts") && !fileName.endsWith(".d.ts")) {
          fail(`${relative(root, join(dir, file))} still imports "${fileName}"`);
        }
        continue;
      }
      const pkg = packageOf(fileName);
      if (!found.has(pkg)) found.set(pkg, new Set());
      found.get(pkg).add(file);
    }
  }
  return found;
}

function entry(target) {
  const base = target.replace(/^\.\//, "").replace(/\.ts$/, "");
  return { types: `./${base}.d.ts`, default: `./${base}.js` };
}

const problems = [];
const built = [];
for (const name of selected) {
  const m = members.get(name);
  const out = join(dist, name);
  for (const file of ["README.md", "LICENSE"]) {
    if (!existsSync(join(m.dir, file))) problems.push(`${name}: no ${file}`);
    else copyFileSync(join(m.dir, file), join(out, file));
  }
  for (const file of m.assets) {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    copyFileSync(join(m.dir, file), join(out, file));
  }
  const declared = {
    ...m.npm.dependencies,
    ...m.npm.peerDependencies,
  };
  const imported = importsOf(out);
  imported.delete(m.deno.name); // a package may name itself in a JSDoc example only
  for (const [pkg, files] of imported) {
    if (!(pkg in declared)) {
      problems.push(
        `${name}: imports "${pkg}" (${[...files].slice(0, 3).join(", ")}) ` +
          `but its package.json declares it in neither dependencies nor peerDependencies`,
      );
    }
  }
  for (const pkg of Object.keys(declared)) {
    if (!imported.has(pkg)) {
      problems.push(`${name}: package.json declares "${pkg}", which no published file imports`);
    }
  }
  if (!m.npm.description) problems.push(`${name}: package.json has no description`);
  const manifest = {
    name: m.deno.name,
    version: m.deno.version,
    description: m.npm.description,
    license: m.deno.license ?? m.npm.license,
    type: "module",
    exports: Object.fromEntries(
      Object.entries(m.exports).map(([subpath, target]) => [subpath, entry(target)]),
    ),
    dependencies: m.npm.dependencies,
    peerDependencies: m.npm.peerDependencies,
    peerDependenciesMeta: m.npm.peerDependenciesMeta,
    engines: ENGINES,
    sideEffects: false,
  };
  for (const [key, value] of Object.entries(manifest)) {
    if (value === undefined) delete manifest[key];
  }
  writeFileSync(join(out, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  built.push(m);
}
// Members that were compiled but not selected leave no folder behind.
for (const name of workspace) {
  if (!selected.includes(name)) rmSync(join(dist, name), { recursive: true, force: true });
}
if (problems.length > 0) fail(`\n  ${problems.join("\n  ")}`);

// --- npm pack --------------------------------------------------------------------------------

if (pack) {
  const output = execFileSync(
    "npm",
    [
      "pack",
      "--json",
      "--ignore-scripts",
      "--pack-destination",
      dist,
      ...built.map((m) => `./${relative(root, join(dist, m.name))}`),
    ],
    { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  for (const tarball of JSON.parse(output)) {
    const bad = tarball.files.filter((f) =>
      /_test\.|_testing|\.ts$/.test(f.path) && !/\.d\.ts$/.test(f.path)
    );
    if (bad.length > 0) fail(`${tarball.filename} contains ${bad.map((f) => f.path).join(", ")}`);
    console.log(
      `dist/${tarball.filename}: ${tarball.entryCount} files, ${
        (tarball.size / 1024).toFixed(1)
      } kB`,
    );
  }
  unstage();
} else {
  for (const m of built) console.log(`dist/${m.name}/ (not packed)`);
}
