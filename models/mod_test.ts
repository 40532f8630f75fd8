// The dependency direction the issue asks for: @plinth/auth knows nothing of the database (its
// TokenStore is implemented here), and models takes a postgres.js `sql` without loading
// @plinth/database or the driver itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { runtimeImports } from "@plinth/testing/imports";

const auth = new URL("../auth/", import.meta.url);

test("@plinth/auth imports neither @plinth/database nor postgres, not even for types", () => {
  const files = readdirSync(auth).filter((f) => f.endsWith(".ts") && !f.endsWith("_test.ts"));
  assert.ok(files.includes("token_issuer.ts"), "the walk reads auth's sources");
  const naming = files.filter((file) =>
    /from\s+"(@plinth\/database[^"]*|postgres)"|import\(\s*"(@plinth\/database|postgres)/.test(
      readFileSync(new URL(file, auth), "utf8"),
    )
  );
  assert.deepEqual(naming, []);
  for (const entry of ["mod.ts", "hono.ts"]) {
    const loaded = runtimeImports(new URL(entry, auth), { followPlinth: true })
      .map((i) => i.specifier);
    assert.ok(loaded.includes("jose"), `the walk of auth/${entry} reaches its dependencies`);
    assert.deepEqual(
      loaded.filter((s) => s === "postgres" || s.startsWith("@plinth/database")),
      [],
    );
  }
});

test("@plinth/models loads neither @plinth/database nor the driver at run time", () => {
  const loaded = runtimeImports(new URL("mod.ts", import.meta.url)).map((i) => i.specifier);
  assert.ok(
    loaded.includes("@plinth/auth") && loaded.includes("zod"),
    "the walk reaches mod.ts's files",
  );
  assert.deepEqual(loaded.filter((s) => s === "postgres" || s.startsWith("@plinth/database")), []);
});
