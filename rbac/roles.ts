import { z } from "zod";

/**
 * The built-in roles, most powerful first: `system_admin` (platform operators, every
 * organisation), `org_admin` (runs one organisation), `org_user` (uses one organisation).
 *
 * @example
 * ```ts
 * import { ROLES } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(ROLES, ["system_admin", "org_admin", "org_user"]);
 * ```
 */
export const ROLES: readonly ["system_admin", "org_admin", "org_user"] = Object.freeze(
  ["system_admin", "org_admin", "org_user"] as const,
);

/**
 * A built-in role name.
 *
 * @example
 * ```ts
 * import type { Role } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * const role: Role = "org_admin";
 * assert.equal(role, "org_admin");
 * ```
 */
export type Role = typeof ROLES[number];

/**
 * zod schema of a built-in {@linkcode Role}, for request bodies and database rows.
 *
 * @example
 * ```ts
 * import { RoleSchema } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * assert.equal(RoleSchema.parse("org_user"), "org_user");
 * assert.equal(RoleSchema.safeParse("root").success, false);
 * ```
 */
export const RoleSchema: z.ZodEnum<
  { system_admin: "system_admin"; org_admin: "org_admin"; org_user: "org_user" }
> = z.enum(ROLES);
