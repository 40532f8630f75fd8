import { test } from "node:test";
import assert from "node:assert/strict";
import { nodeImports, runtimeImports } from "@plinth/testing/imports";

const entry = (name: string): URL => new URL(name, import.meta.url);

test("mod.ts and hono.ts load no node: module at the top level (edge runtimes)", () => {
  assert.deepEqual(nodeImports(entry("mod.ts")), []);
  assert.deepEqual(nodeImports(entry("hono.ts")), []);
});

test("mod.ts loads only @opentelemetry/api and plinth packages: no SDK, no Hono", () => {
  const specifiers = new Set(runtimeImports(entry("mod.ts")).map((i) => i.specifier));
  assert.deepEqual([...specifiers].sort(), [
    "@opentelemetry/api",
    "@plinth/errors",
    "@plinth/logging",
  ]);
});

test("hono.ts adds Hono and nothing else; only otlp.ts loads the SDK", () => {
  const hono = new Set(runtimeImports(entry("hono.ts")).map((i) => i.specifier));
  assert.deepEqual([...hono].sort(), ["@opentelemetry/api", "@plinth/logging", "hono/route"]);
  const otlp = new Set(runtimeImports(entry("otlp.ts")).map((i) => i.specifier));
  assert.ok(otlp.has("@opentelemetry/sdk-trace-base"));
  assert.ok(otlp.has("@opentelemetry/exporter-trace-otlp-http"));
});
