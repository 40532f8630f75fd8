import { type Permission, PERMISSIONS } from "./permissions.ts";
import { type Role, ROLES } from "./roles.ts";
import { scopesAllow } from "./_scopes.ts";

/**
 * A role → permission table: which roles exist, which permissions, which roles each grants,
 * and which roles reach every organisation. Made by {@linkcode definePolicy}; the built-in one
 * is {@linkcode defaultPolicy}. Anything not granted is denied, unknown names included.
 *
 * @example
 * ```ts
 * import { defaultPolicy, type Policy } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * const policy: Policy = defaultPolicy;
 * assert.equal(policy.hasPermission("org_admin", "create_api_key"), true);
 * assert.equal(policy.hasPermission("org_user", "create_api_key"), false);
 * ```
 */
export interface Policy<R extends string = Role, P extends string = Permission> {
  /** Every role. */
  readonly roles: readonly R[];
  /** Every permission. */
  readonly permissions: readonly P[];
  /** Roles that reach every organisation (`system_admin`). */
  readonly globalRoles: readonly R[];
  /** Whether `role` is granted `permission`; `false` for unknown names. */
  hasPermission(role: string, permission: string): boolean;
  /** The permissions `role` is granted (empty for an unknown role). */
  permissionsOf(role: string): readonly P[];
  /** Whether `role` reaches every organisation. */
  isGlobalRole(role: string): boolean;
  /** Whether `value` names a role of this policy. */
  isRole(value: unknown): value is R;
  /** Whether `value` names a permission of this policy. */
  isPermission(value: unknown): value is P;
}

/**
 * What {@linkcode definePolicy} adds to the built-in table: new roles and permissions, and
 * grants for any role, all type-checked against the names.
 *
 * @example
 * ```ts
 * import { definePolicy, type PolicyDefinition } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * const definition: PolicyDefinition<"auditor", "export_audit_log"> = {
 *   roles: ["auditor"],
 *   permissions: ["export_audit_log"],
 *   grants: { auditor: ["view_org", "export_audit_log"], org_admin: ["export_audit_log"] },
 * };
 * assert.equal(definePolicy(definition).hasPermission("auditor", "export_audit_log"), true);
 * ```
 */
export interface PolicyDefinition<R extends string, P extends string> {
  /** Roles to add (lower-case identifiers, new names). @default {[]} */
  readonly roles?: readonly R[] | undefined;
  /** Permissions to add (lower-case identifiers, new names). @default {[]} */
  readonly permissions?: readonly P[] | undefined;
  /** Permissions granted per role, added to the built-in grants. @default {{}} */
  readonly grants?:
    | { readonly [K in Role | NoInfer<R>]?: readonly (Permission | NoInfer<P>)[] | undefined }
    | undefined;
  /** Roles that reach every organisation. @default {["system_admin"]} */
  readonly globalRoles?: readonly (Role | NoInfer<R>)[] | undefined;
}

const NAME_RE = /^[a-z][a-z0-9_]{0,63}$/;
const ORG_ADMIN: readonly Permission[] = [
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
];
const DEFAULT_GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  system_admin: PERMISSIONS,
  org_admin: ORG_ADMIN,
  org_user: ["view_org", "view_org_usage", "use_api"],
};

function build<R extends string, P extends string>(
  roles: readonly R[],
  permissions: readonly P[],
  grants: ReadonlyMap<string, ReadonlySet<string>>,
  globalRoles: readonly R[],
): Policy<R, P> {
  const roleSet = new Set<string>(roles);
  const permissionSet = new Set<string>(permissions);
  const globals = new Set<string>(globalRoles);
  const lists = new Map<string, readonly P[]>();
  for (const role of roles) {
    const granted = grants.get(role) ?? new Set();
    lists.set(role, Object.freeze(permissions.filter((p) => granted.has(p))));
  }
  const empty: readonly P[] = Object.freeze([]);
  return Object.freeze({
    roles: Object.freeze([...roles]),
    permissions: Object.freeze([...permissions]),
    globalRoles: Object.freeze([...globalRoles]),
    hasPermission(role: string, permission: string): boolean {
      return grants.get(role)?.has(permission) === true;
    },
    permissionsOf(role: string): readonly P[] {
      return lists.get(role) ?? empty;
    },
    isGlobalRole(role: string): boolean {
      return globals.has(role);
    },
    isRole(value: unknown): value is R {
      return typeof value === "string" && roleSet.has(value);
    },
    isPermission(value: unknown): value is P {
      return typeof value === "string" && permissionSet.has(value);
    },
  });
}

function grantMap(table: Readonly<Record<string, readonly string[]>>): Map<string, Set<string>> {
  return new Map(Object.entries(table).map(([role, list]) => [role, new Set(list)]));
}

/**
 * The built-in policy. `system_admin` has every permission and reaches every organisation;
 * `org_admin` runs its organisation (settings, users, API keys, budget, usage) but cannot
 * create or delete organisations or see others; `org_user` views its organisation and its
 * usage and calls the API.
 *
 * @example
 * ```ts
 * import { defaultPolicy } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(defaultPolicy.permissionsOf("org_user"), ["view_org", "view_org_usage", "use_api"]);
 * assert.equal(defaultPolicy.isGlobalRole("system_admin"), true);
 * ```
 */
export const defaultPolicy: Policy<Role, Permission> = build<Role, Permission>(
  ROLES,
  PERMISSIONS,
  grantMap(DEFAULT_GRANTS),
  ["system_admin"],
);

/**
 * Extends the built-in policy with a service's own roles, permissions and grants. Names are
 * type-checked (a grant naming an unknown role or permission does not compile) and checked
 * again when it runs.
 *
 * @param definition Roles, permissions and grants to add.
 * @returns The extended policy.
 * @throws {TypeError} When a name is malformed, duplicated or unknown.
 *
 * @example
 * ```ts
 * import { definePolicy } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * const policy = definePolicy({
 *   roles: ["billing_viewer"],
 *   permissions: ["export_invoices"],
 *   grants: {
 *     billing_viewer: ["view_org_usage", "export_invoices"],
 *     org_admin: ["export_invoices"],
 *   },
 * });
 * assert.equal(policy.hasPermission("billing_viewer", "export_invoices"), true);
 * assert.equal(policy.hasPermission("org_user", "export_invoices"), false);
 * assert.equal(policy.hasPermission("system_admin", "export_invoices"), true);
 * ```
 */
export function definePolicy<const R extends string = never, const P extends string = never>(
  definition: PolicyDefinition<R, P>,
): Policy<Role | R, Permission | P> {
  const where = "Cannot define policy";
  if (typeof definition !== "object" || definition === null) {
    throw new TypeError(`${where}: definition must be an object`);
  }
  const roles: (Role | R)[] = [...ROLES];
  const permissions: (Permission | P)[] = [...PERMISSIONS];
  const add = <T extends string>(list: T[], extra: unknown, kind: string): void => {
    if (extra === undefined) return;
    if (!Array.isArray(extra)) throw new TypeError(`${where}: ${kind}s must be a list`);
    for (const name of extra) {
      if (typeof name !== "string" || !NAME_RE.test(name)) {
        throw new TypeError(`${where}: each ${kind} must be a lower-case identifier`);
      }
      if ((list as string[]).includes(name)) {
        throw new TypeError(`${where}: ${kind} "${name}" is defined twice`);
      }
      list.push(name as T);
    }
  };
  add(roles, definition.roles, "role");
  add(permissions, definition.permissions, "permission");
  const grants = grantMap(DEFAULT_GRANTS);
  for (const role of roles) if (!grants.has(role)) grants.set(role, new Set());
  for (const [role, list] of Object.entries(definition.grants ?? {})) {
    if (!(roles as string[]).includes(role)) {
      throw new TypeError(`${where}: grants name unknown role "${role.slice(0, 64)}"`);
    }
    if (!Array.isArray(list)) throw new TypeError(`${where}: grants.${role} must be a list`);
    for (const permission of list) {
      if (!(permissions as string[]).includes(permission)) {
        throw new TypeError(
          `${where}: grants.${role} names unknown permission "${String(permission).slice(0, 64)}"`,
        );
      }
      grants.get(role)?.add(permission);
    }
  }
  // System admins keep every permission, the service's own included.
  for (const permission of permissions) grants.get("system_admin")?.add(permission);
  const globalRoles = definition.globalRoles ?? ["system_admin"];
  if (
    !Array.isArray(globalRoles) || !globalRoles.every((r) => (roles as string[]).includes(r))
  ) {
    throw new TypeError(`${where}: globalRoles must list known roles`);
  }
  return build(roles, permissions, grants, globalRoles as readonly (Role | R)[]);
}

/**
 * Whether `role` is granted `permission` by the built-in policy. Unknown roles and
 * permissions, and anything that is not a string, are denied.
 *
 * @param role The role (typically from `c.var.auth.role`).
 * @param permission The permission.
 * @returns `true` only for a granted pair.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { hasPermission } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * assert.equal(hasPermission("system_admin", "view_all_orgs"), true);
 * assert.equal(hasPermission("org_admin", "view_all_orgs"), false);
 * assert.equal(hasPermission("superuser", "view_org"), false);
 * ```
 */
export function hasPermission(role: string, permission: Permission): boolean {
  return defaultPolicy.hasPermission(role, permission);
}

/**
 * The principal of a permission check: a role and, optionally, scopes that narrow it (an API
 * key or token with scopes may only use permissions that are both granted and listed).
 *
 * @example
 * ```ts
 * import { isAllowed, type Principal } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * const key: Principal = { role: "org_admin", scopes: ["view_org_usage"] };
 * assert.equal(isAllowed(key, "view_org_usage"), true);
 * assert.equal(isAllowed(key, "create_api_key"), false);
 * ```
 */
export interface Principal {
  /** The role. */
  readonly role: string;
  /** Scopes narrowing the role, as a list; empty or absent means the role's whole grant, anything but a list (a space-separated string, say) grants nothing. @default {[]} */
  readonly scopes?: readonly string[] | undefined;
}

/**
 * Options of {@linkcode isAllowed} and {@linkcode canAccessResource}.
 *
 * @example
 * ```ts
 * import { definePolicy, isAllowed, type PolicyOptions } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * const options: PolicyOptions = { policy: definePolicy({ roles: ["viewer"], grants: { viewer: ["view_org"] } }) };
 * assert.equal(isAllowed({ role: "viewer" }, "view_org", options), true);
 * ```
 */
export interface PolicyOptions {
  /** The policy to check against. @default {defaultPolicy} */
  readonly policy?: Policy<string, string> | undefined;
}

/**
 * Whether a principal may use `permission`: its role must grant it, and when the principal
 * has scopes, they must list it too. Scopes must be a list (an array): a string such as
 * `"view_org_usage"` is refused, never matched as a substring.
 *
 * @param principal Role and scopes (an `AuthContext` fits).
 * @param permission The permission.
 * @param options The policy.
 * @returns `true` when allowed.
 * @throws {never} Never throws for any principal.
 *
 * @example
 * ```ts
 * import { isAllowed } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isAllowed({ role: "org_user" }, "use_api"), true);
 * assert.equal(isAllowed({ role: "org_user", scopes: ["view_org"] }, "use_api"), false);
 * const fromText = { role: "org_user", scopes: "view_org_usage" as unknown as string[] };
 * assert.equal(isAllowed(fromText, "view_org"), false); // a string is not a list of scopes
 * ```
 */
export function isAllowed(
  principal: Principal,
  permission: string,
  options: PolicyOptions = {},
): boolean {
  if (typeof principal !== "object" || principal === null) return false;
  const policy = options.policy ?? defaultPolicy;
  if (!policy.hasPermission(principal.role, permission)) return false;
  return scopesAllow(principal.scopes, permission);
}
