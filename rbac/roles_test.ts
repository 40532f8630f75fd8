import { test } from "node:test";
import assert from "node:assert/strict";
import { ROLES, RoleSchema } from "./roles.ts";

test("RoleSchema accepts exactly the built-in roles", () => {
  for (const role of ROLES) assert.equal(RoleSchema.parse(role), role);
  for (const bad of ["", "admin", "SYSTEM_ADMIN", null, 1]) {
    assert.equal(RoleSchema.safeParse(bad).success, false, String(bad));
  }
  assert.ok(Object.isFrozen(ROLES));
});
