import { test } from "node:test";
import assert from "node:assert/strict";
import { PERMISSIONS, PermissionSchema } from "./permissions.ts";

test("PermissionSchema accepts exactly the built-in permissions", () => {
  for (const permission of PERMISSIONS) {
    assert.equal(PermissionSchema.parse(permission), permission);
  }
  for (const bad of ["", "sudo", "create_org ", undefined]) {
    assert.equal(PermissionSchema.safeParse(bad).success, false, String(bad));
  }
  for (
    const named of [
      "create_org",
      "manage_org_users",
      "view_org_usage",
      "create_api_key",
      "revoke_api_key",
      "manage_org_budget",
      "view_all_orgs",
    ]
  ) {
    assert.ok((PERMISSIONS as readonly string[]).includes(named), named);
  }
});
