import { defaultPolicy, type PolicyOptions } from "./policy.ts";

const ORG_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/**
 * Whether a value is a well-formed organisation id: a string of 1 to 128 letters, digits,
 * `_`, `.`, `:` or `-`, starting with a letter or digit (UUIDs and slugs fit; empty strings,
 * whitespace, `null` and non-strings do not).
 *
 * @param value Anything.
 * @returns `true` for a well-formed id.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { isValidOrgId } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isValidOrgId("0b7c8f52-4f9e-4b59-a1d3-2f6f1c0e9a10"), true);
 * assert.equal(isValidOrgId(""), false);
 * assert.equal(isValidOrgId(" acme"), false);
 * ```
 */
export function isValidOrgId(value: unknown): value is string {
  return typeof value === "string" && ORG_ID_RE.test(value);
}

/**
 * Who wants to reach a resource: a role and the organisation they act in.
 *
 * @example
 * ```ts
 * import { canAccessResource, type TenantPrincipal } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * const principal: TenantPrincipal = { role: "org_user", orgId: "acme" };
 * assert.equal(canAccessResource(principal, "acme"), true);
 * ```
 */
export interface TenantPrincipal {
  /** The role. */
  readonly role: string;
  /** The principal's organisation; ignored for a global role (a system administrator may belong to none). */
  readonly orgId: string | null | undefined;
}

/**
 * Tenant isolation: whether a principal may reach a resource of organisation
 * `resourceOrgId`. Global roles (`system_admin`) reach every organisation whatever their own
 * organisation id (a system administrator usually belongs to none: `null`, `undefined` or
 * `""`); any other known role only its own, and only when both ids are well formed and equal.
 * Denied by default: an unknown role, a missing or malformed resource organisation id, or —
 * for a non-global role — a missing or malformed own id (so `"" === ""` grants nothing).
 *
 * @param principal Role and organisation (an `AuthContext` fits, a system administrator's
 *   `orgId: null` included).
 * @param resourceOrgId The organisation that owns the resource (read from the loaded row).
 * @param options The policy.
 * @returns `true` when access is allowed.
 * @throws {never} Never throws for any input.
 *
 * @example
 * ```ts
 * import { canAccessResource } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * assert.equal(canAccessResource({ role: "org_admin", orgId: "acme" }, "acme"), true);
 * assert.equal(canAccessResource({ role: "org_admin", orgId: "acme" }, "globex"), false);
 * assert.equal(canAccessResource({ role: "system_admin", orgId: "ops" }, "globex"), true);
 * assert.equal(canAccessResource({ role: "system_admin", orgId: null }, "globex"), true);
 * assert.equal(canAccessResource({ role: "org_user", orgId: "" }, ""), false);
 * ```
 */
export function canAccessResource(
  principal: TenantPrincipal,
  resourceOrgId: unknown,
  options: PolicyOptions = {},
): boolean {
  if (typeof principal !== "object" || principal === null) return false;
  if (!isValidOrgId(resourceOrgId)) return false;
  const { role, orgId } = principal;
  const policy = options.policy ?? defaultPolicy;
  if (typeof role !== "string" || !policy.isRole(role)) return false;
  if (policy.isGlobalRole(role)) return true;
  return isValidOrgId(orgId) && orgId === resourceOrgId;
}
