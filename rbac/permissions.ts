import { z } from "zod";

/**
 * The built-in permissions: what a role may do. `create_org` and `view_all_orgs` concern the
 * whole platform; the rest act inside one organisation.
 *
 * @example
 * ```ts
 * import { PERMISSIONS } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * assert.ok(PERMISSIONS.includes("create_api_key"));
 * ```
 */
export const PERMISSIONS: readonly [
  "create_org",
  "view_all_orgs",
  "view_org",
  "update_org",
  "delete_org",
  "manage_org_users",
  "view_org_users",
  "create_api_key",
  "revoke_api_key",
  "view_api_keys",
  "view_org_usage",
  "manage_org_budget",
  "use_api",
] = Object.freeze(
  [
    "create_org",
    "view_all_orgs",
    "view_org",
    "update_org",
    "delete_org",
    "manage_org_users",
    "view_org_users",
    "create_api_key",
    "revoke_api_key",
    "view_api_keys",
    "view_org_usage",
    "manage_org_budget",
    "use_api",
  ] as const,
);

/**
 * A built-in permission name.
 *
 * @example
 * ```ts
 * import type { Permission } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * const permission: Permission = "view_org_usage";
 * assert.equal(permission, "view_org_usage");
 * ```
 */
export type Permission = typeof PERMISSIONS[number];

/**
 * zod schema of a built-in {@linkcode Permission}.
 *
 * @example
 * ```ts
 * import { PermissionSchema } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * assert.equal(PermissionSchema.parse("revoke_api_key"), "revoke_api_key");
 * assert.equal(PermissionSchema.safeParse("sudo").success, false);
 * ```
 */
export const PermissionSchema: z.ZodEnum<{ [P in Permission]: P }> = z.enum(PERMISSIONS);
