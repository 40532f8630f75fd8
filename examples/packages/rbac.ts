/**
 * `@plinth/rbac`: the built-in role table, a policy a service extends with its own role and
 * permission, tenant isolation, and the Hono middleware of `@plinth/rbac/hono` answering 403
 * problems. The caller is set by a stand-in for `authenticate()`; requests go through
 * `app.request()`, so no port is opened. Prints one line per check.
 *
 * Permissions (README, "Deno permissions"): none.
 *
 * ```sh
 * deno run examples/packages/rbac.ts
 * ```
 *
 * @module
 */
import { Hono } from "hono";
import type { AuthContext, AuthVariables } from "@plinth/auth";
import { problemHandler } from "@plinth/errors/hono";
import { canAccessResource, definePolicy, hasPermission } from "@plinth/rbac";
import { requireOrgAccess, requirePermission } from "@plinth/rbac/hono";

console.log(`org_admin may create_api_key: ${hasPermission("org_admin", "create_api_key")}`);
console.log(`org_user may create_api_key: ${hasPermission("org_user", "create_api_key")}`);
console.log(
  `org_admin of acme reaches globex: ${
    canAccessResource({ role: "org_admin", orgId: "acme" }, "globex")
  }`,
);

const policy = definePolicy({
  roles: ["auditor"],
  permissions: ["export_audit_log"],
  grants: { auditor: ["view_org", "export_audit_log"], org_admin: ["export_audit_log"] },
});
console.log(`auditor may export_audit_log: ${policy.hasPermission("auditor", "export_audit_log")}`);

const projects = new Map([["p1", { orgId: "acme" }], ["p2", { orgId: "globex" }]]);
let caller: AuthContext = {
  kind: "api_key",
  keyId: "k1",
  orgId: "acme",
  role: "org_user",
  scopes: [],
};
const app = new Hono<{ Variables: AuthVariables }>();
app.onError(problemHandler());
app.use((c, next) => {
  c.set("auth", caller); // in a service: authenticate() of @plinth/auth/hono
  return next();
});
app.post("/keys", requirePermission("create_api_key"), (c) => c.json({}, 201));
app.get("/audit", requirePermission("export_audit_log", { policy }), (c) => c.json([]));
app.get(
  "/projects/:id",
  requireOrgAccess((c) => projects.get(c.req.param("id") ?? "")?.orgId),
  (c) => c.json({ id: c.req.param("id") }),
);

async function call(method: string, path: string): Promise<void> {
  const res = await app.request(path, { method });
  const code = res.ok ? "ok" : (await res.json()).code;
  console.log(`${caller.role} ${method} ${path} -> ${res.status} ${code}`);
}
await call("POST", "/keys");
await call("GET", "/projects/p1");
await call("GET", "/projects/p2");
caller = { ...caller, role: "org_admin" };
await call("POST", "/keys");
await call("GET", "/audit");
