/**
 * Hono adapter for `@plinth/rbac`: {@linkcode requirePermission} and
 * {@linkcode requireOrgAccess}, middleware over the `c.var.auth` that `authenticate()` of
 * `@plinth/auth/hono` sets (typed as {@linkcode RbacVariables}). A denial is thrown as an
 * `RbacError` of `@plinth/rbac` (401, 403 or 404), which `problemHandler()` of
 * `@plinth/errors/hono` renders as problem+json. Only this entry point is about Hono; the roles,
 * permissions, policies and tenant checks come from `@plinth/rbac`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { AuthVariables } from "@plinth/auth";
 * import { problemHandler } from "@plinth/errors/hono";
 * import { requireOrgAccess, requirePermission } from "@plinth/rbac/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<{ Variables: AuthVariables }>();
 * app.onError(problemHandler());
 * app.use((c, next) => {
 *   // In a service: app.use(authenticate({ verifier }))
 *   c.set("auth", { kind: "api_key", keyId: "k1", orgId: "acme", role: "org_user", scopes: [] });
 *   return next();
 * });
 * app.post("/keys", requirePermission("create_api_key"), (c) => c.json({}, 201));
 * app.get("/orgs/:org", requireOrgAccess((c) => c.req.param("org")), (c) => c.json({ ok: true }));
 *
 * assert.equal((await app.request("/keys", { method: "POST" })).status, 403);
 * assert.equal((await app.request("/orgs/acme")).status, 200);
 * assert.equal((await app.request("/orgs/globex")).status, 403);
 * ```
 *
 * @module
 */
export * from "./middleware.ts";
