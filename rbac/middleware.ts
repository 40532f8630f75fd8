import type { Context, MiddlewareHandler } from "hono";
import type { AuthContext } from "@plinth/auth";
import type { Permission } from "./permissions.ts";
import { defaultPolicy, isAllowed, type Policy } from "./policy.ts";
import { RbacError } from "./rbac_error.ts";
import { canAccessResource } from "./tenant.ts";
import { scopesAllow } from "./_scopes.ts";
import { checkLogger, safeWarn } from "./_logger.ts";

/**
 * A logger the rbac middleware accepts: any object with `debug`, `info`, `warn` and `error`
 * (`@plinth/logging`'s loggers, pino, `console`). The middleware calls `warn` once per denial.
 *
 * @example
 * ```ts
 * import type { RbacLogger } from "@plinth/rbac/hono";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const logger: RbacLogger = {
 *   debug: () => {},
 *   info: () => {},
 *   warn: (message) => void seen.push(message),
 *   error: () => {},
 * };
 * logger.warn("Permission denied", { permission: "create_org" });
 * assert.deepEqual(seen, ["Permission denied"]);
 * ```
 */
export interface RbacLogger {
  /** Writes a debug line. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Writes an informational line. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Writes a warning: a request was refused (401, 403 or 404). */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Writes an error. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The context variables {@linkcode requirePermission} and {@linkcode requireOrgAccess} read:
 * `c.var.auth`, as `authenticate()` of `@plinth/auth/hono` sets it (the same shape as
 * `AuthVariables` of `@plinth/auth`). A request whose `c.var.auth` is absent, `null` or not an
 * object is refused with a 401, so the handlers after the middleware can rely on it.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { requirePermission, type RbacVariables } from "@plinth/rbac/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<{ Variables: RbacVariables }>();
 * app.use((c, next) => {
 *   c.set("auth", { kind: "api_key", keyId: "k1", orgId: "acme", role: "org_user", scopes: [] });
 *   return next();
 * });
 * // orgId is null for a system administrator's token: narrow it before use.
 * app.get("/org", requirePermission("view_org"), (c) => c.text(c.var.auth.orgId ?? "none"));
 * assert.equal(await (await app.request("/org")).text(), "acme");
 * ```
 */
export interface RbacVariables {
  /** Who the request is from. */
  auth: AuthContext;
}

/**
 * Options of {@linkcode requirePermission}.
 *
 * @example
 * ```ts
 * import { type RequirePermissionOptions, requirePermission } from "@plinth/rbac/hono";
 * import assert from "node:assert/strict";
 *
 * const options: RequirePermissionOptions = { logger: console };
 * assert.equal(typeof requirePermission("view_org", options), "function");
 * ```
 */
export interface RequirePermissionOptions<P extends string = Permission> {
  /** The policy to check against. @default {defaultPolicy} */
  readonly policy?: Policy<string, P> | undefined;
  /** Gets one warning per denial (principal, permission, method, path). @default {undefined (denials are not logged)} */
  readonly logger?: RbacLogger | undefined;
}

/**
 * Options of {@linkcode requireOrgAccess}.
 *
 * @example
 * ```ts
 * import { type RequireOrgAccessOptions, requireOrgAccess } from "@plinth/rbac/hono";
 * import assert from "node:assert/strict";
 *
 * const options: RequireOrgAccessOptions = { permission: "view_org_usage", denyAs: "not_found" };
 * assert.equal(typeof requireOrgAccess((c) => c.req.param("org"), options), "function");
 * ```
 */
export interface RequireOrgAccessOptions<P extends string = Permission> {
  /** A permission to require as well. @default {undefined (tenant check only)} */
  readonly permission?: NoInfer<P> | undefined;
  /** Answer a cross-tenant request with 403 (`"forbidden"`) or hide the resource with 404 (`"not_found"`). @default {"forbidden"} */
  readonly denyAs?: "forbidden" | "not_found" | undefined;
  /** The policy to check against. @default {defaultPolicy} */
  readonly policy?: Policy<string, P> | undefined;
  /** Gets one warning per denial (principal, permission, resource organisation, method, path). @default {undefined (denials are not logged)} */
  readonly logger?: RbacLogger | undefined;
}

type RbacContext = Context<{ Variables: RbacVariables }>;

function principalOf(auth: AuthContext): Record<string, unknown> {
  return auth.kind === "user"
    ? { kind: "user", user_id: auth.userId, org_id: auth.orgId, role: auth.role }
    : { kind: "api_key", key_id: auth.keyId, org_id: auth.orgId, role: auth.role };
}

/** A resource organisation id as logged: the string itself (cut at 128), else `<type>`. */
function loggable(value: unknown): string {
  if (typeof value !== "string") return `<${value === null ? "null" : typeof value}>`;
  return value.slice(0, 128);
}

/** `c.var.auth` when it is an object; `undefined` (unauthenticated) for anything else, `null` included. */
function authOf(c: RbacContext): AuthContext | undefined {
  // c.get(), not c.var: Hono builds a new object of every variable on each read of c.var.
  const auth: unknown = c.get("auth");
  return typeof auth === "object" && auth !== null ? auth as AuthContext : undefined;
}

function checkCommon(
  where: string,
  policy: unknown,
  logger: unknown,
): Policy<string, string> {
  if (
    policy !== undefined &&
    (typeof policy !== "object" || policy === null ||
      typeof (policy as Policy).hasPermission !== "function")
  ) {
    throw new TypeError(`Cannot create ${where}: policy must come from definePolicy()`);
  }
  checkLogger(logger, where);
  return (policy ?? defaultPolicy) as Policy<string, string>;
}

function unauthenticated(
  c: RbacContext,
  logger: RbacLogger | undefined,
  permission: string | undefined,
): RbacError {
  safeWarn(logger, "Access denied: not authenticated", {
    permission,
    method: c.req.method,
    path: c.req.path,
  });
  return new RbacError("Authentication is required for this route", {
    code: "credentials_missing",
  });
}

function permissionDenied(permission: string): RbacError {
  return new RbacError(`Permission ${permission} is required`, {
    code: "permission_denied",
    permission,
  });
}

/**
 * Hono middleware that lets a request through only when `c.var.auth` (set by
 * `authenticate()` of `@plinth/auth/hono`) holds `permission`: the role must grant it and, for
 * a principal with scopes, the scopes (a list; a string is refused) must list it. No
 * `c.var.auth` (or `null`) → 401 {@linkcode RbacError} `credentials_missing` (with
 * `WWW-Authenticate: Bearer`); permission missing → 403 `permission_denied`. With a `logger`,
 * each denial is logged with the principal, the permission and the path, never a credential.
 *
 * @param permission The permission the route needs (checked against the policy's names).
 * @param options Policy and logger.
 * @returns The middleware.
 * @throws {TypeError} When `permission` is not a permission of the policy, or an option is malformed.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { AuthVariables } from "@plinth/auth";
 * import { requirePermission } from "@plinth/rbac/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<{ Variables: AuthVariables }>();
 * app.use((c, next) => {
 *   c.set("auth", { kind: "api_key", keyId: "k1", orgId: "acme", role: "org_user", scopes: [] });
 *   return next();
 * });
 * app.get("/usage", requirePermission("view_org_usage"), (c) => c.json({ ok: true }));
 * app.post("/keys", requirePermission("create_api_key"), (c) => c.json({ ok: true }));
 *
 * assert.equal((await app.request("/usage")).status, 200);
 * const denied = await app.request("/keys", { method: "POST" });
 * assert.equal(denied.status, 403);
 * assert.equal((await denied.json()).code, "permission_denied");
 * ```
 */
export function requirePermission<const P extends string = Permission>(
  permission: NoInfer<P>,
  options: RequirePermissionOptions<P> = {},
): MiddlewareHandler<{ Variables: RbacVariables }> {
  const where = "requirePermission middleware";
  const policy = checkCommon(where, options.policy, options.logger);
  if (!policy.isPermission(permission)) {
    throw new TypeError(`Cannot create ${where}: permission is not one of the policy's`);
  }
  const logger = options.logger;
  // Decided once: the roles that hold the permission (definePolicy() policies are frozen), so a
  // request costs one set lookup and, for a principal with scopes, one scan of them. A policy
  // that is not frozen is asked on every request.
  const granted = Object.isFrozen(policy) && Array.isArray(policy.roles)
    ? new Set<string>(policy.roles.filter((r) => policy.hasPermission(r, permission)))
    : undefined;
  // Not async: an allowed request returns `next()` with no promise of its own; a denial is
  // returned as a rejection.
  return function requirePermissionMiddleware(c, next): Promise<void> {
    const auth = authOf(c);
    if (auth === undefined) return Promise.reject(unauthenticated(c, logger, permission));
    if (
      (granted === undefined
        ? policy.hasPermission(auth.role, permission)
        : granted.has(auth.role)) && scopesAllow(auth.scopes, permission)
    ) {
      return next();
    }
    safeWarn(logger, "Permission denied", {
      principal: principalOf(auth),
      permission,
      method: c.req.method,
      path: c.req.path,
    });
    return Promise.reject(permissionDenied(permission));
  };
}

/**
 * Hono middleware for tenant isolation: `getOrgId(c)` returns the organisation that owns the
 * resource — read it from the loaded row (it may load the row and `c.set` it for the
 * handler), not only from the URL — and the request passes only when
 * {@linkcode canAccessResource} allows it and the `permission` option, if given, is held.
 * No `c.var.auth` (or `null`) → 401 {@linkcode RbacError} `credentials_missing`; another
 * organisation's resource → 403 `org_access_denied` (or a 404 `not_found` with
 * `denyAs: "not_found"`); the organisation's own resource without `permission` → 403
 * `permission_denied`, as from {@linkcode requirePermission}. A global role (`system_admin`)
 * reaches every organisation's resources, with or without an organisation of its own (its
 * token's `orgId` is usually `null`). With a `logger`, each denial is logged with principal,
 * permission and resource organisation.
 *
 * @param getOrgId Reads the resource's organisation id; `undefined`/`null` (no such resource) is denied.
 * @param options Extra permission, denial status, policy, logger.
 * @returns The middleware.
 * @throws {TypeError} When `getOrgId` is not a function or an option is malformed.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { AuthVariables } from "@plinth/auth";
 * import { requireOrgAccess } from "@plinth/rbac/hono";
 * import assert from "node:assert/strict";
 *
 * const projects = new Map([["p1", { orgId: "acme" }], ["p2", { orgId: "globex" }]]);
 * const app = new Hono<{ Variables: AuthVariables }>();
 * app.use((c, next) => {
 *   c.set("auth", { kind: "api_key", keyId: "k1", orgId: "acme", role: "org_admin", scopes: [] });
 *   return next();
 * });
 * app.get(
 *   "/projects/:id",
 *   requireOrgAccess((c) => projects.get(c.req.param("id") ?? "")?.orgId),
 *   (c) => c.json({ id: c.req.param("id") }),
 * );
 *
 * assert.equal((await app.request("/projects/p1")).status, 200);
 * assert.equal((await app.request("/projects/p2")).status, 403);
 * ```
 *
 * @example A system administrator belongs to no organisation and reaches every one
 * ```ts
 * import { Hono } from "hono";
 * import type { AuthVariables } from "@plinth/auth";
 * import { requireOrgAccess } from "@plinth/rbac/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<{ Variables: AuthVariables }>();
 * app.use((c, next) => {
 *   c.set("auth", {
 *     kind: "user", userId: "root", orgId: null, role: "system_admin", scopes: [],
 *     tokenId: "j1", expiresAt: 1_800_000_900_000, claims: {
 *       sub: "root", org_id: null, role: "system_admin", jti: "j1",
 *       iat: 1_800_000_000, exp: 1_800_000_900, iss: "auth", aud: "api",
 *     },
 *   });
 *   return next();
 * });
 * app.get("/orgs/:org", requireOrgAccess((c) => c.req.param("org")), (c) => c.text("ok"));
 *
 * assert.equal((await app.request("/orgs/acme")).status, 200);
 * assert.equal((await app.request("/orgs/globex")).status, 200);
 * ```
 */
export function requireOrgAccess<const P extends string = Permission>(
  getOrgId: (c: Context) => unknown,
  options: RequireOrgAccessOptions<P> = {},
): MiddlewareHandler<{ Variables: RbacVariables }> {
  const where = "requireOrgAccess middleware";
  if (typeof getOrgId !== "function") {
    throw new TypeError(`Cannot create ${where}: getOrgId must be a function`);
  }
  const policy = checkCommon(where, options.policy, options.logger);
  const permission = options.permission;
  if (permission !== undefined && !policy.isPermission(permission)) {
    throw new TypeError(`Cannot create ${where}: permission is not one of the policy's`);
  }
  const denyAs = options.denyAs ?? "forbidden";
  if (denyAs !== "forbidden" && denyAs !== "not_found") {
    throw new TypeError(`Cannot create ${where}: denyAs must be "forbidden" or "not_found"`);
  }
  const logger = options.logger;
  return async function requireOrgAccessMiddleware(c, next): Promise<void> {
    const auth = authOf(c);
    if (auth === undefined) throw unauthenticated(c, logger, permission);
    const resourceOrgId = await getOrgId(c);
    // The tenant first: another organisation's resource is refused (or hidden) whatever the
    // permission; only then does a missing permission get its own answer.
    const tenantOk = canAccessResource(auth, resourceOrgId, { policy });
    if (!tenantOk || (permission !== undefined && !isAllowed(auth, permission, { policy }))) {
      safeWarn(logger, tenantOk ? "Permission denied" : "Organisation access denied", {
        principal: principalOf(auth),
        permission,
        resource_org_id: loggable(resourceOrgId),
        method: c.req.method,
        path: c.req.path,
      });
      if (tenantOk) throw permissionDenied(permission as string);
      throw denyAs === "not_found"
        ? new RbacError("No such resource", { code: "not_found" })
        : new RbacError("The resource belongs to another organisation", {
          code: "org_access_denied",
        });
    }
    await next();
  };
}
