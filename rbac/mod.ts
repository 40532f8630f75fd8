/**
 * Authorisation for plinth services: the built-in roles (`system_admin`, `org_admin`,
 * `org_user`) and permissions as `as const` unions with zod schemas, one role → permission
 * table a service can extend with {@linkcode definePolicy}, tenant isolation with
 * {@linkcode canAccessResource}, and {@linkcode RbacError}, the one error its denials throw.
 * Everything is denied unless granted. The Hono middleware (`requirePermission()`,
 * `requireOrgAccess()`) lives in `@plinth/rbac/hono`; this entry point loads no web framework.
 *
 * @example
 * ```ts
 * import { canAccessResource, hasPermission } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * assert.equal(hasPermission("org_admin", "manage_org_budget"), true);
 * assert.equal(hasPermission("org_user", "manage_org_budget"), false);
 * assert.equal(canAccessResource({ role: "org_admin", orgId: "acme" }, "globex"), false);
 * assert.equal(canAccessResource({ role: "system_admin", orgId: null }, "globex"), true);
 * ```
 *
 * @module
 */
export * from "./roles.ts";
export * from "./permissions.ts";
export * from "./policy.ts";
export * from "./tenant.ts";
export * from "./rbac_error.ts";
