import { test } from "node:test";
import assert from "node:assert/strict";
import { canAccessResource, isValidOrgId } from "./tenant.ts";
import { definePolicy } from "./policy.ts";
import { ROLES } from "./roles.ts";

test("canAccessResource() lets every role reach its own organisation", () => {
  for (const role of ROLES) {
    assert.equal(canAccessResource({ role, orgId: "acme" }, "acme"), true, role);
  }
});

test("canAccessResource() denies cross-tenant access for every role but system_admin", () => {
  for (const role of ROLES) {
    assert.equal(
      canAccessResource({ role, orgId: "acme" }, "globex"),
      role === "system_admin",
      role,
    );
  }
});

test("canAccessResource() denies empty, missing and malformed organisation ids on either side", () => {
  const bad: unknown[] = [
    "",
    " ",
    " acme",
    "acme ",
    "ac me",
    "a\nb",
    "x".repeat(129),
    null,
    undefined,
    7,
    {},
    ["acme"],
  ];
  for (const role of ROLES) {
    assert.equal(canAccessResource({ role, orgId: "" }, ""), false, `${role}: '' === ''`);
    for (const value of bad) {
      assert.equal(
        canAccessResource({ role, orgId: "acme" }, value),
        false,
        `${role} → ${String(value)}`,
      );
    }
  }
  for (const role of ["org_admin", "org_user"]) {
    for (const value of bad) {
      assert.equal(
        canAccessResource({ role, orgId: value as string }, "acme"),
        false,
        `${role} from ${String(value)}`,
      );
    }
  }
});

test("canAccessResource() lets a global role reach every organisation whatever its own org id", () => {
  // A system administrator belongs to no organisation (users.org_id is nullable).
  for (const orgId of ["", null, undefined, "ops", " ", 7 as unknown as string]) {
    for (const target of ["org-2", "acme"]) {
      assert.equal(
        canAccessResource({ role: "system_admin", orgId }, target),
        true,
        `system_admin from ${String(orgId)} → ${target}`,
      );
    }
    assert.equal(canAccessResource({ role: "system_admin", orgId }, ""), false);
    assert.equal(canAccessResource({ role: "system_admin", orgId }, null), false);
  }
  const policy = definePolicy({ roles: ["support"], globalRoles: ["system_admin", "support"] });
  assert.equal(canAccessResource({ role: "support", orgId: null }, "acme", { policy }), true);
  assert.equal(canAccessResource({ role: "support", orgId: null }, "acme"), false);
  assert.equal(canAccessResource({ role: "org_admin", orgId: null }, "acme", { policy }), false);
});

test("canAccessResource() denies unknown roles and non-objects", () => {
  assert.equal(canAccessResource({ role: "root", orgId: "acme" }, "acme"), false);
  assert.equal(canAccessResource({ role: 5 as unknown as string, orgId: "acme" }, "acme"), false);
  assert.equal(canAccessResource(null as never, "acme"), false);
});

test("canAccessResource() honours a policy's global roles", () => {
  const policy = definePolicy({ roles: ["support"], globalRoles: ["system_admin", "support"] });
  assert.equal(canAccessResource({ role: "support", orgId: "ops" }, "acme", { policy }), true);
  assert.equal(canAccessResource({ role: "support", orgId: "ops" }, "acme"), false);
});

test("isValidOrgId() accepts UUIDs and slugs only", () => {
  assert.equal(isValidOrgId("6f1c0e9a-0b7c-4f9e-8b59-a1d32f6f1c0e"), true);
  assert.equal(isValidOrgId("org_123"), true);
  assert.equal(isValidOrgId("-leading"), false);
  assert.equal(isValidOrgId(""), false);
});
