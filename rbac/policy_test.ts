import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultPolicy, definePolicy, hasPermission, isAllowed, type Principal } from "./policy.ts";
import { type Permission, PERMISSIONS } from "./permissions.ts";
import { ROLES } from "./roles.ts";

const EXPECTED: Record<string, readonly Permission[]> = {
  system_admin: PERMISSIONS,
  org_admin: [
    "view_org",
    "update_org",
    "manage_org_users",
    "view_org_users",
    "create_api_key",
    "revoke_api_key",
    "view_api_keys",
    "view_org_usage",
    "manage_org_budget",
    "use_api",
  ],
  org_user: ["view_org", "view_org_usage", "use_api"],
};

test("hasPermission() matches the full role × permission matrix", () => {
  let checked = 0;
  for (const role of ROLES) {
    for (const permission of PERMISSIONS) {
      assert.equal(
        hasPermission(role, permission),
        EXPECTED[role]!.includes(permission),
        `${role} × ${permission}`,
      );
      checked++;
    }
    assert.deepEqual(defaultPolicy.permissionsOf(role), EXPECTED[role]);
  }
  assert.equal(checked, 3 * PERMISSIONS.length);
});

test("hasPermission() denies unknown roles and permissions, prototype names included", () => {
  for (const role of ["", "root", "__proto__", "constructor", "toString", "SYSTEM_ADMIN"]) {
    assert.equal(hasPermission(role, "view_org"), false, role);
    assert.deepEqual(defaultPolicy.permissionsOf(role), []);
  }
  for (const permission of ["", "sudo", "__proto__", "constructor"]) {
    assert.equal(hasPermission("system_admin", permission as Permission), false, permission);
  }
  assert.equal(hasPermission(undefined as unknown as string, "view_org"), false);
});

test("definePolicy() adds roles, permissions and grants to the built-in table", () => {
  const policy = definePolicy({
    roles: ["auditor"],
    permissions: ["export_audit_log"],
    grants: { auditor: ["view_org", "export_audit_log"], org_admin: ["export_audit_log"] },
  });
  assert.equal(policy.hasPermission("auditor", "export_audit_log"), true);
  assert.equal(policy.hasPermission("auditor", "update_org"), false);
  assert.equal(policy.hasPermission("org_admin", "export_audit_log"), true);
  assert.equal(policy.hasPermission("org_user", "export_audit_log"), false);
  assert.equal(policy.hasPermission("system_admin", "export_audit_log"), true);
  assert.equal(policy.isRole("auditor"), true);
  assert.equal(policy.isPermission("export_audit_log"), true);
  assert.equal(policy.isGlobalRole("auditor"), false);
  assert.deepEqual(policy.permissionsOf("auditor"), ["view_org", "export_audit_log"]);
  assert.equal(defaultPolicy.isRole("auditor"), false, "the default policy is untouched");
  assert.ok(Object.isFrozen(policy));
  const global = definePolicy({ roles: ["support"], globalRoles: ["system_admin", "support"] });
  assert.equal(global.isGlobalRole("support"), true);
  assert.deepEqual(global.permissionsOf("support"), []);
});

test("definePolicy() refuses malformed, duplicate and unknown names", () => {
  const bad: unknown[] = [
    null,
    { roles: "auditor" },
    { roles: ["Auditor"] },
    { roles: ["org_admin"] },
    { permissions: ["view_org"] },
    { permissions: ["x", "x"] },
    { grants: { ghost: ["view_org"] } },
    { grants: { org_user: ["fly"] } },
    { grants: { org_user: "view_org" } },
    { globalRoles: ["ghost"] },
    { globalRoles: "system_admin" },
  ];
  for (const definition of bad) {
    assert.throws(() => definePolicy(definition as never), TypeError, JSON.stringify(definition));
  }
});

test("isAllowed() narrows a role by the principal's scopes", () => {
  assert.equal(isAllowed({ role: "org_admin" }, "create_api_key"), true);
  assert.equal(isAllowed({ role: "org_admin", scopes: [] }, "create_api_key"), true);
  assert.equal(isAllowed({ role: "org_admin", scopes: ["view_org"] }, "create_api_key"), false);
  assert.equal(
    isAllowed({ role: "org_user", scopes: ["create_api_key"] }, "create_api_key"),
    false,
  );
  assert.equal(isAllowed(null as never, "view_org"), false);
});

test("isAllowed() refuses scopes that are not a list instead of matching a substring", () => {
  for (const scopes of ["view_org_usage", "use_api view_org", "view_org", "", {}]) {
    const principal = { role: "org_admin", scopes } as unknown as Principal;
    for (const permission of ["view_org", "use_api", "view_org_usage"]) {
      assert.equal(isAllowed(principal, permission), false, `${String(scopes)} → ${permission}`);
    }
  }
  assert.equal(isAllowed({ role: "org_admin", scopes: ["view_org"] }, "view_org"), true);
  assert.equal(isAllowed({ role: "org_admin", scopes: [] }, "use_api"), true);
});
