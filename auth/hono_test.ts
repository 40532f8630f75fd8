import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const here = new URL("./", import.meta.url);

/** The relative imports of a module, followed through the package (type-only imports included). */
function closure(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    const text = readFileSync(new URL(file, here), "utf8");
    seen.set(file, text);
    for (const match of text.matchAll(/^(?:import|export)[^;]*?from\s+"(\.\/[^"]+)"/gms)) {
      pending.push(match[1] as string);
    }
  }
  return seen;
}

test("mod.ts and everything it imports never import hono", () => {
  const files = closure("./mod.ts");
  assert.ok(files.has("./auth_context.ts"), "the walk follows mod.ts's re-exports");
  for (const [file, text] of files) {
    // Examples in JSDoc may use Hono; only real import lines count.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "");
    assert.doesNotMatch(code, /from\s+"hono(?:\/[^"]*)?"/, `${file} imports hono`);
  }
});

test("@plinth/auth/hono exports authenticate() and @plinth/auth does not", async () => {
  const hono = await import("@plinth/auth/hono");
  const core: Record<string, unknown> = await import("@plinth/auth");
  assert.equal(typeof hono.authenticate, "function");
  assert.equal(core["authenticate"], undefined);
  assert.equal(core["chain"], undefined);
});

test("authenticate() types c.var.auth through Hono's Env generic, without casts", async () => {
  const { Hono } = await import("hono");
  const { authenticate } = await import("@plinth/auth/hono");
  const { generateApiKey } = await import("@plinth/auth");
  const { key, id, hash } = generateApiKey();
  // A plain Hono app: the route learns `auth` from the middleware's Env, not from the app.
  const app = new Hono().get(
    "/org",
    authenticate({
      lookupApiKey: (keyId) => keyId === id ? { hash, orgId: "acme", role: "org_user" } : null,
      logger: { warn: () => {} },
    }),
    (c) => c.text(`${c.var.auth.kind}:${c.var.auth.orgId}`),
  );
  const res = await app.request("/org", { headers: { "x-api-key": key } });
  assert.equal(await res.text(), "api_key:acme");
  const optional = new Hono().get(
    "/",
    authenticate({ lookupApiKey: () => null, optional: true, logger: { warn: () => {} } }),
    (c) => c.text(c.var.auth === undefined ? "anonymous" : c.var.auth.orgId ?? "no organisation"),
  );
  assert.equal(await (await optional.request("/")).text(), "anonymous");
});
