import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { isAppError } from "@plinth/errors";
import { RBAC_ERROR_CODES, RbacError, type RbacErrorCode } from "./rbac_error.ts";

const here = new URL(".", import.meta.url);

/** The package's own source files, tests left out. */
function sources(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(here)) {
    if (name.endsWith(".ts") && !name.endsWith("_test.ts")) {
      files.set(name, readFileSync(new URL(name, here), "utf8"));
    }
  }
  return files;
}

test("RBAC_ERROR_CODES gives every code its status", () => {
  const statuses: Record<string, number> = {};
  for (const code of RBAC_ERROR_CODES) statuses[code] = new RbacError("Denied", { code }).status;
  assert.deepEqual(statuses, {
    credentials_missing: 401,
    permission_denied: 403,
    org_access_denied: 403,
    not_found: 404,
  });
  assert.ok(Object.isFrozen(RBAC_ERROR_CODES));
});

test("RBAC_ERROR_CODES lists every code the package's source uses", () => {
  const known = new Set<string>(RBAC_ERROR_CODES);
  const used = new Set<string>();
  for (const [name, text] of sources()) {
    for (const match of text.matchAll(/code: "([a-z_]+)"/g)) {
      used.add(match[1]!);
      assert.ok(
        known.has(match[1]!),
        `${name} uses code "${match[1]}", missing from RBAC_ERROR_CODES`,
      );
    }
  }
  // The scan itself works: the middleware's denials are found.
  for (const code of RBAC_ERROR_CODES) assert.ok(used.has(code), `no source uses "${code}"`);
});

test("RbacError is an AppError that isAppError() recognises, with name, code and cause", () => {
  const cause = new Error("policy lookup failed");
  const error = new RbacError("Permission view_org is required", {
    code: "permission_denied",
    permission: "view_org",
    cause,
  });
  assert.ok(isAppError(error));
  assert.equal(error.name, "RbacError");
  assert.equal(error.code, "permission_denied");
  assert.equal(error.cause, cause);
  assert.equal(error.message, "Permission view_org is required");
  assert.equal(error.toProblem()["permission"], "view_org");
  assert.equal(error.headers["www-authenticate"], undefined);
});

test("RbacError sends the bare Bearer challenge on a 401 only", () => {
  const missing = new RbacError("Not authenticated", { code: "credentials_missing" });
  assert.equal(missing.headers["www-authenticate"], "Bearer");
  assert.equal(missing.detail, "Authentication is required");
  for (const code of ["permission_denied", "org_access_denied", "not_found"] as const) {
    assert.equal(new RbacError("Denied", { code }).headers["www-authenticate"], undefined, code);
  }
  assert.equal(
    new RbacError("Hidden", { code: "org_access_denied", status: 404 }).status,
    404,
    "status overrides the code's",
  );
});

test("RbacError refuses an unknown code or a permission that is not a string", () => {
  for (const code of ["forbidden", "", "__proto__", "toString", undefined, 403]) {
    assert.throws(() => new RbacError("x", { code: code as RbacErrorCode }), {
      name: "TypeError",
      message: /options\.code must be an RbacErrorCode/,
    });
  }
  assert.throws(() => new RbacError("x", undefined as never), TypeError);
  assert.throws(
    () => new RbacError("x", { code: "permission_denied", permission: 7 as never }),
    { name: "TypeError", message: /options\.permission must be a string/ },
  );
});
