import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { isAppError } from "@plinth/errors";
import { MODELS_ERROR_CODES, ModelsError, type ModelsErrorCode } from "./models_error.ts";

test("ModelsError() is an AppError with the code's status", async () => {
  const error = new ModelsError("Cannot create user: the e-mail address is taken", {
    code: "email_taken",
    cause: new Error("23505"),
  });
  assert.equal(error.name, "ModelsError");
  assert.equal(error.status, 409);
  assert.equal(error.code, "email_taken");
  assert.equal(isAppError(error), true);
  assert.equal((error.cause as Error).message, "23505");
  const body = await error.getResponse().json();
  assert.equal(body.code, "email_taken");
  const statuses = Object.fromEntries(
    MODELS_ERROR_CODES.map((code) => [code, new ModelsError("x", { code }).status]),
  );
  assert.deepEqual(statuses, {
    organization_not_found: 404,
    user_not_found: 404,
    api_key_not_found: 404,
    organization_inactive: 403,
    organization_name_taken: 409,
    email_taken: 409,
  });
});

test("ModelsError() refuses an unknown code, a missing options bag and a non-string message", () => {
  assert.throws(() => new ModelsError("x", { code: "nope" as ModelsErrorCode }), TypeError);
  assert.throws(() => new ModelsError("x", { code: "toString" as ModelsErrorCode }), TypeError);
  assert.throws(() => new ModelsError("x", undefined as never), TypeError);
  assert.throws(() => new ModelsError(5 as never, { code: "email_taken" }), TypeError);
});

test("MODELS_ERROR_CODES lists every code the package's source uses", () => {
  const dir = new URL("./", import.meta.url);
  const known = new Set<string>(MODELS_ERROR_CODES);
  const used = new Map<string, string>();
  // The published files: test-only helpers (publish.exclude) assert other packages' codes.
  const excluded = JSON.parse(readFileSync(new URL("deno.json", dir), "utf8")).publish.exclude;
  const files = readdirSync(dir).filter((f) =>
    f.endsWith(".ts") && !f.endsWith("_test.ts") && !excluded.includes(f)
  );
  assert.ok(!files.includes("_behaviour.ts"));
  assert.ok(files.includes("budget.ts") && files.includes("_common.ts"));
  for (const file of files) {
    // JSDoc examples assert codes of other packages (`validation_failed`): code lines only.
    const text = readFileSync(new URL(file, dir), "utf8").split("\n")
      .filter((line) => !/^\s*\*/.test(line)).join("\n");
    for (const match of text.matchAll(/\bcode: "([a-z_]+)"/g)) used.set(match[1] as string, file);
  }
  for (const code of ["organization_inactive", "email_taken", "api_key_not_found"]) {
    assert.ok(used.has(code), `expected to find code: "${code}" in the source`);
  }
  for (const [code, file] of used) {
    assert.ok(known.has(code), `${file} uses code "${code}", which MODELS_ERROR_CODES lacks`);
  }
  assert.ok(Object.isFrozen(MODELS_ERROR_CODES));
});
