// A small service built only from the installed tarballs and the project's own Hono: what a
// Node or Bun user of the npm artefact writes. `exercise()` serves it over real HTTP (the
// runtime's server is passed in), sends the requests the consumer test asserts and returns what
// came back, with the access-log lines.
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { notFound } from "@plinth/errors";
import { problemHandler, problemNotFound } from "@plinth/errors/hono";
import { createLogger } from "@plinth/logging";
import { requestId, requestLogger } from "@plinth/logging/hono";
import {
  type AuthVariables,
  createMemoryTokenStore,
  createTokenIssuer,
  createTokenVerifier,
} from "@plinth/auth";
import { authenticate } from "@plinth/auth/hono";
import { hasPermission } from "@plinth/rbac";
import { requirePermission } from "@plinth/rbac/hono";

/** Starts `fetch` on 127.0.0.1 and a free port; resolves with its base URL and a stop function. */
export type Serve = (
  fetch: (request: Request) => Response | Promise<Response>,
) => Promise<{ url: string; close(): Promise<void> | void }>;

/** One answer as the client saw it. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** What `exercise()` reports: the answers by case name and the service's log lines. */
export interface Report {
  answers: Record<string, Answer>;
  logs: Record<string, unknown>[];
  canCreateKey: { orgAdmin: boolean; orgUser: boolean };
}

export async function exercise(serve: Serve): Promise<Report> {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "consumer",
    destination: { write: (line: string) => void logs.push(JSON.parse(line)) },
  });
  const store = createMemoryTokenStore();
  const common = {
    secret: "a-consumer-secret-of-at-least-32-bytes",
    issuer: "https://auth.consumer.test",
    audience: "api",
    store,
  };
  const issuer = createTokenIssuer({ ...common, kid: "consumer-1" });
  const verifier = createTokenVerifier(common);

  const app = new Hono<{ Variables: AuthVariables }>();
  app.use(requestId());
  app.use(requestLogger({ logger }));
  app.onError(problemHandler({ logger }));
  app.notFound(problemNotFound());
  app.get("/orgs/:id", (c) => {
    throw notFound(`No organisation ${c.req.param("id")}`);
  });
  app.get("/admin", () => {
    // Thrown with this project's Hono, not a copy plinth brought.
    throw new HTTPException(403, { message: "Admins only" });
  });
  app.post("/upload", bodyLimit({ maxSize: 8 }), async (c) => c.text(await c.req.text()));
  app.use("/api/*", authenticate({ verifier, logger }));
  app.get("/api/me", (c) => c.json({ user: c.var.auth.kind, org: c.var.auth.orgId }));
  app.post("/api/keys", requirePermission("create_api_key"), (c) => c.json({ ok: true }, 201));

  const admin = await issuer.generateTokenPair({ userId: "u1", orgId: "acme", role: "org_admin" });
  const user = await issuer.generateTokenPair({ userId: "u2", orgId: "acme", role: "org_user" });

  const server = await serve(app.fetch);
  const answers: Record<string, Answer> = {};
  async function ask(name: string, path: string, init?: RequestInit): Promise<void> {
    const res = await fetch(`${server.url}${path}`, init);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    answers[name] = { status: res.status, headers: Object.fromEntries(res.headers), body };
  }
  try {
    await ask("notFound", "/orgs/globex", { headers: { "x-request-id": "consumer-req-1" } });
    await ask("unknownRoute", "/nowhere");
    await ask("httpException", "/admin");
    await ask("tooLarge", "/upload", { method: "POST", body: "x".repeat(64) });
    await ask("noToken", "/api/me");
    await ask("badToken", "/api/me", { headers: { authorization: "Bearer x.y.z" } });
    await ask("me", "/api/me", { headers: { authorization: `Bearer ${user.accessToken}` } });
    await ask("denied", "/api/keys", {
      method: "POST",
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    await ask("allowed", "/api/keys", {
      method: "POST",
      headers: { authorization: `Bearer ${admin.accessToken}` },
    });
  } finally {
    await server.close();
  }
  await logger.flush?.();
  return {
    answers,
    logs,
    canCreateKey: {
      orgAdmin: hasPermission("org_admin", "create_api_key"),
      orgUser: hasPermission("org_user", "create_api_key"),
    },
  };
}
