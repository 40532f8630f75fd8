import { test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { problemHandler } from "@plinth/errors/hono";
import { isAppError } from "@plinth/errors";
import {
  type AuthContext,
  type AuthVariables,
  createTokenIssuer,
  createTokenVerifier,
} from "@plinth/auth";
import { authenticate } from "@plinth/auth/hono";
import { type RbacLogger, requireOrgAccess, requirePermission } from "./middleware.ts";
import { RbacError } from "./rbac_error.ts";
import { definePolicy } from "./policy.ts";
import { PERMISSIONS } from "./permissions.ts";
import { ROLES } from "./roles.ts";

/** A logger that keeps each warning as `{ message, ...fields }` in `logs`. */
function logTo(logs: Record<string, unknown>[]): RbacLogger {
  return {
    debug: () => {},
    info: () => {},
    warn: (message, fields) => void logs.push({ message, ...fields }),
    error: () => {},
  };
}

function appAs(
  auth: AuthContext | undefined,
  logs: Record<string, unknown>[] = [],
): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>();
  app.onError(problemHandler({ logger: { error: () => {} } }));
  app.use((c, next) => {
    if (auth !== undefined) c.set("auth", auth);
    return next();
  });
  const logger = logTo(logs);
  for (const permission of PERMISSIONS) {
    app.get(
      `/p/${permission}`,
      requirePermission(permission, { logger }),
      (c) => c.json({ ok: true }),
    );
  }
  app.get(
    "/orgs/:org/usage",
    requireOrgAccess((c) => c.req.param("org"), { permission: "view_org_usage", logger }),
    (c) => c.json({ ok: true }),
  );
  app.get(
    "/hidden/:org",
    requireOrgAccess((c) => Promise.resolve(c.req.param("org")), { denyAs: "not_found", logger }),
    (c) => c.json({ ok: true }),
  );
  return app;
}

const user = (role: string, orgId: string | null = "acme"): AuthContext => ({
  kind: "user",
  userId: "u1",
  orgId,
  role,
  scopes: [],
  tokenId: "j1",
  expiresAt: 0,
  claims: { sub: "u1", org_id: orgId, role, jti: "j1", iat: 0, exp: 0, iss: "i", aud: "a" },
});

test("requirePermission() answers 200 or 403 across the whole role × permission matrix", async () => {
  const allowed: Record<string, number> = {};
  for (const role of ROLES) {
    const app = appAs(user(role));
    allowed[role] = 0;
    for (const permission of PERMISSIONS) {
      const res = await app.request(`/p/${permission}`);
      if (res.status === 200) allowed[role]++;
      else {
        assert.equal(res.status, 403, `${role} × ${permission}`);
        const body = await res.json();
        assert.equal(body.code, "permission_denied");
        assert.equal(body.permission, permission);
      }
    }
  }
  assert.deepEqual(allowed, { system_admin: PERMISSIONS.length, org_admin: 10, org_user: 3 });
});

test("requirePermission() answers 401 with a challenge when unauthenticated", async () => {
  const logs: Record<string, unknown>[] = [];
  const res = await appAs(undefined, logs).request("/p/view_org");
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), "Bearer");
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.equal(logs[0]?.["permission"], "view_org");
});

test("requirePermission() logs each denial with principal, permission and path", async () => {
  const logs: Record<string, unknown>[] = [];
  const key: AuthContext = {
    kind: "api_key",
    keyId: "k1",
    orgId: "acme",
    role: "org_admin",
    scopes: ["view_org"],
  };
  const app = appAs(key, logs);
  assert.equal((await app.request("/p/view_org")).status, 200);
  assert.equal((await app.request("/p/create_api_key")).status, 403, "scopes narrow the role");
  assert.deepEqual(logs, [{
    message: "Permission denied",
    principal: { kind: "api_key", key_id: "k1", org_id: "acme", role: "org_admin" },
    permission: "create_api_key",
    method: "GET",
    path: "/p/create_api_key",
  }]);
});

test("requireOrgAccess() denies cross-tenant access for every role but system_admin", async () => {
  for (const role of ROLES) {
    const app = appAs(user(role));
    assert.equal((await app.request("/orgs/acme/usage")).status, 200, `${role} own org`);
    const other = await app.request("/orgs/globex/usage");
    assert.equal(other.status, role === "system_admin" ? 200 : 403, `${role} other org`);
    if (role !== "system_admin") assert.equal((await other.json()).code, "org_access_denied");
  }
});

test("requireOrgAccess() denies empty organisation ids and can hide resources as 404", async () => {
  const logs: Record<string, unknown>[] = [];
  const app = appAs(user("org_admin", ""), logs);
  assert.equal((await app.request("/hidden/")).status, 404);
  const admin = appAs(user("org_admin"), logs);
  assert.equal((await admin.request("/hidden/globex")).status, 404);
  assert.equal((await admin.request("/hidden/acme")).status, 200);
  assert.equal(logs.at(-1)?.["message"], "Organisation access denied");
  assert.equal(logs.at(-1)?.["resource_org_id"], "globex");
  assert.equal((await appAs(undefined).request("/orgs/acme/usage")).status, 401);
});

test("requireOrgAccess() reads the organisation from the loaded row", async () => {
  const rows = new Map([["inv-1", { orgId: "acme" }], ["inv-2", { orgId: "globex" }]]);
  const logs: Record<string, unknown>[] = [];
  const app = new Hono<{ Variables: AuthVariables }>();
  app.use((c, next) => {
    c.set("auth", user("org_user"));
    return next();
  });
  app.get(
    "/acme/invoices/:id",
    requireOrgAccess((c) => rows.get(c.req.param("id") ?? "")?.orgId, {
      logger: logTo(logs),
    }),
    (c) => c.json({ ok: true }),
  );
  assert.equal((await app.request("/acme/invoices/inv-1")).status, 200);
  assert.equal(
    (await app.request("/acme/invoices/inv-2")).status,
    403,
    "URL says acme, row says globex",
  );
  assert.equal((await app.request("/acme/invoices/none")).status, 403);
  assert.equal(logs.at(-1)?.["resource_org_id"], "<undefined>");
});

test("requirePermission() and requireOrgAccess() work with a custom policy", async () => {
  const policy = definePolicy({
    roles: ["auditor"],
    permissions: ["export_audit_log"],
    grants: { auditor: ["export_audit_log"] },
  });
  const app = new Hono<{ Variables: AuthVariables }>();
  app.use((c, next) => {
    c.set("auth", user("auditor"));
    return next();
  });
  app.get("/audit", requirePermission("export_audit_log", { policy }), (c) => c.text("ok"));
  app.get(
    "/orgs/:org",
    requireOrgAccess((c) => c.req.param("org"), { policy, permission: "export_audit_log" }),
    (c) => c.text("ok"),
  );
  assert.equal((await app.request("/audit")).status, 200);
  assert.equal((await app.request("/orgs/acme")).status, 200);
  assert.equal((await app.request("/orgs/globex")).status, 403);
});

test("requirePermission() and requireOrgAccess() validate their arguments when created", () => {
  assert.throws(() => requirePermission("fly" as never), TypeError);
  assert.throws(() => requirePermission("view_org", { policy: {} as never }), TypeError);
  assert.throws(() => requirePermission("view_org", { logger: {} as never }), TypeError);
  // A logger is any object with debug, info, warn and error; one with only warn is refused.
  assert.throws(
    () => requirePermission("view_org", { logger: { warn: () => {} } as never }),
    { name: "TypeError", message: /logger must have debug, info, warn and error methods/ },
  );
  assert.throws(
    () => requireOrgAccess(() => "a", { logger: { ...logTo([]), info: 1 } as never }),
    { name: "TypeError", message: /logger/ },
  );
  assert.equal(typeof requirePermission("view_org", { logger: console }), "function");
  assert.throws(() => requireOrgAccess("org" as never), TypeError);
  assert.throws(() => requireOrgAccess(() => "a", { permission: "fly" as never }), TypeError);
  assert.throws(() => requireOrgAccess(() => "a", { denyAs: "teapot" as never }), TypeError);
});

test("authenticate() + requirePermission() protect a route end to end", async () => {
  const secret = "rbac-test-secret-rbac-test-secret-32b";
  const options = { secret, issuer: "auth", audience: "api" };
  const issuer = createTokenIssuer({ ...options, kid: "k" });
  const app = new Hono<{ Variables: AuthVariables }>();
  app.use(authenticate({ verifier: createTokenVerifier(options), logger: logTo([]) }));
  app.get("/budget", requirePermission("manage_org_budget"), (c) => c.text("ok"));
  const admin = await issuer.generateTokenPair({ userId: "u1", orgId: "acme", role: "org_admin" });
  const member = await issuer.generateTokenPair({ userId: "u2", orgId: "acme", role: "org_user" });
  const call = (token: string): Promise<Response> =>
    Promise.resolve(app.request("/budget", { headers: { authorization: `Bearer ${token}` } }));
  assert.equal((await call(admin.accessToken)).status, 200);
  assert.equal((await call(member.accessToken)).status, 403);
  assert.equal((await app.request("/budget")).status, 401);
});

test("requirePermission() and requireOrgAccess() write nothing to the console when given no logger", async () => {
  const written: unknown[][] = [];
  const methods = ["debug", "info", "warn", "error", "log"] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...args: unknown[]) => void written.push(args);
  let statuses: number[];
  try {
    const app = new Hono<{ Variables: AuthVariables }>();
    app.use((c, next) => {
      if (c.req.header("x-anonymous") === undefined) c.set("auth", user("org_user"));
      return next();
    });
    app.get("/orgs", requirePermission("create_org"), (c) => c.text("ok"));
    app.get("/orgs/:org", requireOrgAccess((c) => c.req.param("org")), (c) => c.text("ok"));
    statuses = [
      (await app.request("/orgs")).status,
      (await app.request("/orgs/globex")).status,
      (await app.request("/orgs", { headers: { "x-anonymous": "1" } })).status,
    ];
  } finally {
    methods.forEach((m, i) => console[m] = saved[i]!);
  }
  assert.deepEqual(statuses, [403, 403, 401]);
  assert.deepEqual(written, []);
});

test("requirePermission() lets an allowed request through synchronously, returning next() itself", async () => {
  const mw = requirePermission("view_org");
  const app = new Hono<{ Variables: AuthVariables }>();
  const sentinel = Promise.resolve();
  app.get("/:role", (c) => {
    c.set("auth", user(c.req.param("role")));
    const returned = mw(c, () => sentinel);
    returned.catch(() => {});
    return c.json({ same: returned === sentinel });
  });
  assert.deepEqual(await (await app.request("/org_user")).json(), { same: true });
  assert.deepEqual(await (await app.request("/guest")).json(), { same: false });
});

test("requirePermission() asks a policy that is not frozen on every request", async () => {
  let allow = false;
  const policy = {
    ...definePolicy({}),
    hasPermission: (): boolean => allow,
  };
  const app = appAs(user("org_user"));
  app.get(
    "/dyn",
    requirePermission("view_org", { policy }),
    (c) => c.text("ok"),
  );
  assert.equal((await app.request("/dyn")).status, 403);
  allow = true;
  assert.equal((await app.request("/dyn")).status, 200);
});

test("requirePermission() and requireOrgAccess() answer 401 when c.var.auth is null or not an object", async () => {
  for (const value of [null, "org_admin", 7]) {
    const logs: Record<string, unknown>[] = [];
    const app = appAs(value as unknown as AuthContext, logs);
    for (const path of ["/p/view_org", "/orgs/acme/usage", "/hidden/acme"]) {
      const res = await app.request(path);
      assert.equal(res.status, 401, `${String(value)} ${path}`);
      assert.equal(res.headers.get("www-authenticate"), "Bearer");
      assert.equal((await res.json()).code, "credentials_missing");
    }
    assert.equal(logs.length, 3);
    assert.ok(logs.every((l) => l["message"] === "Access denied: not authenticated"));
  }
});

test("requirePermission() refuses scopes given as a string instead of matching a substring", async () => {
  for (const scopes of ["view_org_usage", "use_api view_org", "view_org", ""]) {
    const key = { kind: "api_key", keyId: "k1", orgId: "acme", role: "org_admin", scopes };
    const logs: Record<string, unknown>[] = [];
    const app = appAs(key as unknown as AuthContext, logs);
    for (const permission of ["view_org", "use_api", "view_org_usage"]) {
      const res = await app.request(`/p/${permission}`);
      assert.equal(res.status, 403, `${scopes} → ${permission}`);
      assert.equal((await res.json()).code, "permission_denied");
    }
    const res = await app.request("/orgs/acme/usage");
    assert.equal(res.status, 403, `requireOrgAccess with scopes ${scopes}`);
    assert.equal((await res.json()).code, "permission_denied");
  }
});

test("requireOrgAccess({ permission }) tells a missing permission from another tenant", async () => {
  const logs: Record<string, unknown>[] = [];
  const app = appAs(user("org_admin"), logs);
  app.get(
    "/orgs/:org/delete",
    requireOrgAccess((c) => c.req.param("org"), {
      permission: "delete_org",
      denyAs: "not_found",
      logger: logTo(logs),
    }),
    (c) => c.json({ ok: true }),
  );
  const own = await app.request("/orgs/acme/delete");
  assert.equal(own.status, 403);
  const body = await own.json();
  assert.equal(body.code, "permission_denied");
  assert.equal(body.permission, "delete_org");
  assert.doesNotMatch(body.detail ?? "", /another organisation/);
  assert.equal(logs.at(-1)?.["message"], "Permission denied");
  assert.equal(logs.at(-1)?.["permission"], "delete_org");
  // Another tenant's resource stays hidden, whatever the permission.
  assert.equal((await app.request("/orgs/globex/delete")).status, 404);
  assert.equal(logs.at(-1)?.["message"], "Organisation access denied");
  const member = appAs(user("org_user"));
  const usage = await member.request("/orgs/globex/usage");
  assert.equal(usage.status, 403);
  assert.equal((await usage.json()).code, "org_access_denied");
  const unprivileged = appAs({ ...user("org_user"), scopes: ["view_org"] });
  const scoped = await unprivileged.request("/orgs/acme/usage");
  assert.equal(scoped.status, 403);
  const scopedBody = await scoped.json();
  assert.equal(scopedBody.code, "permission_denied");
  assert.equal(scopedBody.permission, "view_org_usage");
});

test("requireOrgAccess() logs the resource organisation as its plain value", async () => {
  const logs: Record<string, unknown>[] = [];
  const app = appAs(user("org_user"), logs);
  assert.equal((await app.request("/orgs/globex/usage")).status, 403);
  assert.equal(logs.at(-1)?.["resource_org_id"], "globex");
  // A logger that writes JSON lines gets the plain value, not a JSON string inside a string.
  const lines: string[] = [];
  const json: RbacLogger = {
    ...logTo([]),
    warn: (message, fields) => void lines.push(JSON.stringify({ message, ...fields })),
  };
  const plain = new Hono<{ Variables: AuthVariables }>();
  plain.use((c, next) => {
    c.set("auth", user("org_user"));
    return next();
  });
  plain.get(
    "/orgs/:org",
    requireOrgAccess((c) => c.req.param("org"), { logger: json }),
    (c) => c.text("ok"),
  );
  assert.equal((await plain.request("/orgs/globex")).status, 403);
  assert.equal(JSON.parse(lines[0]!).resource_org_id, "globex");
  assert.equal(lines[0]!.includes('\\"globex\\"'), false);
});

test("requirePermission() and requireOrgAccess() answer 401 for a null auth end to end", async () => {
  const app = new Hono<{ Variables: AuthVariables }>();
  app.use((c, next) => {
    c.set("auth", null as unknown as AuthContext);
    return next();
  });
  app.get("/a", requirePermission("view_org"), (c) => c.text("ok"));
  app.get("/b", requireOrgAccess(() => "acme"), (c) => c.text("ok"));
  // Without an error handler too: Hono's default renders the RbacError as a 401 problem.
  assert.equal((await app.request("/a")).status, 401);
  assert.equal((await app.request("/b")).status, 401);
});

test("requirePermission() and requireOrgAccess() refuse the attack corpus with their exact codes", async () => {
  const key = (extra: Record<string, unknown>): AuthContext =>
    ({
      kind: "api_key",
      keyId: "k1",
      orgId: "acme",
      role: "org_admin",
      scopes: [],
      ...extra,
    }) as unknown as AuthContext;
  // [label, c.var.auth, path, status, code]
  const corpus: [string, AuthContext, string, number, string][] = [
    ["auth null", null as unknown as AuthContext, "/p/view_org", 401, "credentials_missing"],
    [
      "auth a string",
      "org_admin" as unknown as AuthContext,
      "/p/view_org",
      401,
      "credentials_missing",
    ],
    [
      "auth null, tenant route",
      null as unknown as AuthContext,
      "/orgs/acme/usage",
      401,
      "credentials_missing",
    ],
    [
      "scopes a string naming the permission",
      key({ scopes: "view_org" }),
      "/p/view_org",
      403,
      "permission_denied",
    ],
    [
      "scopes a string containing it",
      key({ scopes: "view_org_usage" }),
      "/p/view_org",
      403,
      "permission_denied",
    ],
    ["scopes an empty string", key({ scopes: "" }), "/p/use_api", 403, "permission_denied"],
    ["scopes an object", key({ scopes: {} }), "/p/use_api", 403, "permission_denied"],
    [
      "scopes a string on a tenant route",
      key({ scopes: "view_org_usage" }),
      "/orgs/acme/usage",
      403,
      "permission_denied",
    ],
    ["another tenant", user("org_admin"), "/orgs/globex/usage", 403, "org_access_denied"],
    ["another tenant, hidden", user("org_admin"), "/hidden/globex", 404, "not_found"],
    [
      "own tenant, scopes without the permission",
      key({ scopes: ["view_org"] }),
      "/orgs/acme/usage",
      403,
      "permission_denied",
    ],
    ["empty own org id", user("org_admin", ""), "/orgs/acme/usage", 403, "org_access_denied"],
    [
      "role missing the permission",
      user("org_user"),
      "/p/create_api_key",
      403,
      "permission_denied",
    ],
  ];
  for (const [label, auth, path, status, code] of corpus) {
    const res = await appAs(auth).request(path);
    assert.equal(res.status, status, label);
    assert.equal((await res.json()).code, code, label);
  }
});

test("requireOrgAccess() lets a system administrator without an organisation reach every one", async () => {
  for (const orgId of [null, undefined, ""]) {
    const admin = { ...user("system_admin"), orgId } as unknown as AuthContext;
    const app = appAs(admin);
    assert.equal((await app.request("/orgs/globex/usage")).status, 200, String(orgId));
    assert.equal((await app.request("/hidden/acme")).status, 200, String(orgId));
  }
});

test("requirePermission() and requireOrgAccess() keep their problem bodies, statuses and challenge", async () => {
  const member = user("org_user");
  const expected: [AuthContext | undefined, string, number, string | null, object][] = [
    [undefined, "/p", 401, "Bearer", {
      type: "about:blank",
      title: "Unauthorized",
      status: 401,
      detail: "Authentication is required",
      code: "credentials_missing",
    }],
    [member, "/p", 403, null, {
      type: "about:blank",
      title: "Forbidden",
      status: 403,
      detail: "Permission create_org is required",
      code: "permission_denied",
      permission: "create_org",
    }],
    [member, "/o/globex", 403, null, {
      type: "about:blank",
      title: "Forbidden",
      status: 403,
      detail: "The resource belongs to another organisation",
      code: "org_access_denied",
    }],
    [member, "/h/globex", 404, null, {
      type: "about:blank",
      title: "Not Found",
      status: 404,
      detail: "No such resource",
      code: "not_found",
    }],
  ];
  for (const withHandler of [true, false]) {
    for (const [auth, path, status, challenge, body] of expected) {
      const app = new Hono<{ Variables: AuthVariables }>();
      if (withHandler) app.onError(problemHandler({ logger: { error: () => {} } }));
      app.use((c, next) => {
        if (auth !== undefined) c.set("auth", auth);
        return next();
      });
      app.get("/p", requirePermission("create_org"), (c) => c.text("ok"));
      app.get("/o/:org", requireOrgAccess((c) => c.req.param("org")), (c) => c.text("ok"));
      app.get(
        "/h/:org",
        requireOrgAccess((c) => c.req.param("org"), { denyAs: "not_found" }),
        (c) => c.text("ok"),
      );
      const label = `${path} ${withHandler ? "problemHandler" : "Hono's default handler"}`;
      const res = await app.request(path);
      assert.equal(res.status, status, label);
      assert.equal(res.headers.get("content-type"), "application/problem+json", label);
      assert.equal(res.headers.get("www-authenticate"), challenge, label);
      assert.deepEqual(
        await res.json(),
        withHandler ? { ...body, instance: path } : body,
        label,
      );
    }
  }
});

test("requirePermission() and requireOrgAccess() throw RbacError, an AppError across copies", async () => {
  const thrown: unknown[] = [];
  const app = new Hono<{ Variables: AuthVariables }>();
  app.onError((error, c) => {
    thrown.push(error);
    return c.text("denied", 418);
  });
  app.use((c, next) => {
    if (c.req.header("x-anonymous") === undefined) c.set("auth", user("org_user"));
    return next();
  });
  app.get("/p", requirePermission("create_org"), (c) => c.text("ok"));
  app.get("/o/:org", requireOrgAccess((c) => c.req.param("org")), (c) => c.text("ok"));
  app.get(
    "/h/:org",
    requireOrgAccess((c) => c.req.param("org"), { denyAs: "not_found" }),
    (c) => c.text("ok"),
  );
  await app.request("/p", { headers: { "x-anonymous": "1" } });
  await app.request("/p");
  await app.request("/o/globex");
  await app.request("/h/globex");
  assert.deepEqual(
    thrown.map((e) => [e instanceof RbacError, isAppError(e), (e as Error).name]),
    Array(4).fill([true, true, "RbacError"]),
  );
  assert.deepEqual(thrown.map((e) => (e as RbacError).code), [
    "credentials_missing",
    "permission_denied",
    "org_access_denied",
    "not_found",
  ]);
});

test("authenticate() + requireOrgAccess(): a system administrator's token with org_id null reaches every organisation", async () => {
  const secret = "rbac-test-secret-rbac-test-secret-32b";
  const options = { secret, issuer: "auth", audience: "api" };
  const issuer = createTokenIssuer({ ...options, kid: "k" });
  const logs: Record<string, unknown>[] = [];
  const logger = logTo(logs);
  const app = new Hono<{ Variables: AuthVariables }>();
  app.onError(problemHandler({ logger: { error: () => {} } }));
  app.use(authenticate({ verifier: createTokenVerifier(options), logger }));
  app.get(
    "/orgs/:org/usage",
    requireOrgAccess((c) => c.req.param("org"), { permission: "view_org_usage", logger }),
    (c) => c.json({ org: c.req.param("org"), caller: c.var.auth.orgId }),
  );
  app.get(
    "/hidden/:org",
    requireOrgAccess((c) => c.req.param("org"), { denyAs: "not_found", logger }),
    (c) => c.text("ok"),
  );
  app.post("/orgs", requirePermission("create_org", { logger }), (c) => c.text("created", 201));
  const root = await issuer.generateTokenPair({
    userId: "root",
    orgId: null,
    role: "system_admin",
  });
  const admin = await issuer.generateTokenPair({ userId: "u1", orgId: "acme", role: "org_admin" });
  const call = (path: string, token: string, method = "GET"): Promise<Response> =>
    Promise.resolve(app.request(path, { method, headers: { authorization: `Bearer ${token}` } }));

  for (const org of ["acme", "globex", "0b7c8f52-4f9e-4b59-a1d3-2f6f1c0e9a10"]) {
    const res = await call(`/orgs/${org}/usage`, root.accessToken);
    assert.equal(res.status, 200, org);
    assert.deepEqual(await res.json(), { org, caller: null });
    assert.equal((await call(`/hidden/${org}`, root.accessToken)).status, 200, org);
  }
  assert.equal((await call("/orgs", root.accessToken, "POST")).status, 201);
  // A malformed resource organisation is still refused, system administrator or not.
  assert.equal((await call("/hidden/%20acme", root.accessToken)).status, 404);
  assert.equal(logs.length, 1);
  assert.deepEqual(logs[0]?.["principal"], {
    kind: "user",
    user_id: "root",
    org_id: null,
    role: "system_admin",
  });
  // An organisation's administrator stays in it.
  assert.equal((await call("/orgs/acme/usage", admin.accessToken)).status, 200);
  const denied = await call("/orgs/globex/usage", admin.accessToken);
  assert.equal(denied.status, 403);
  assert.equal((await denied.json()).code, "org_access_denied");
  assert.equal((await call("/orgs", admin.accessToken, "POST")).status, 403);
});

test("requireOrgAccess() with a policy that makes system_admin not global refuses its null organisation", async () => {
  const policy = definePolicy({ globalRoles: [] });
  const logs: Record<string, unknown>[] = [];
  const app = new Hono<{ Variables: AuthVariables }>();
  app.onError(problemHandler({ logger: { error: () => {} } }));
  app.use((c, next) => {
    c.set("auth", user("system_admin", null));
    return next();
  });
  app.get(
    "/orgs/:org",
    requireOrgAccess((c) => c.req.param("org"), { policy, logger: logTo(logs) }),
    (c) => c.text("ok"),
  );
  const res = await app.request("/orgs/acme");
  assert.equal(res.status, 403);
  assert.equal((await res.json()).code, "org_access_denied");
  assert.equal((logs[0]?.["principal"] as Record<string, unknown>)["org_id"], null);
});
