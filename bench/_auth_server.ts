/**
 * Server half of bench/auth.ts: a Hono app on @hono/node-server answering `GET /orgs/acme`
 * with a small JSON body: bare, behind two no-op middlewares, behind `authenticate()` +
 * `requirePermission()` (app.use + route middleware), or with the same two run by `chain()`.
 * Prints `{"port":…}` once listening. Run by bench/auth.ts as a child process.
 *
 * @module
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { authenticate, type AuthVariables, chain, createTokenVerifier } from "@plinth/auth";
import { requirePermission } from "@plinth/rbac";

// Must match bench/auth.ts, which signs the one token the load uses.
const BENCH_SECRET = "bench-secret-bench-secret-bench-secret!";
const BENCH_ISSUER = { issuer: "https://auth.bench", audience: "api" } as const;

const mode = process.argv[2] ?? "bare";
const app = new Hono<{ Variables: AuthVariables }>();
const body = { id: "acme", name: "Acme Corp", plan: "pro", seats: 42 };
if (mode === "auth") {
  const verifier = createTokenVerifier({ ...BENCH_ISSUER, secret: BENCH_SECRET });
  app.use("/orgs/*", authenticate({ verifier }));
  app.get("/orgs/:id", requirePermission("view_org"), (c) => c.json(body));
} else if (mode === "chain") {
  // The same middlewares and handler run by @plinth/auth's chain() as the route's one handler,
  // which keeps Hono's single-handler fast path.
  const verifier = createTokenVerifier({ ...BENCH_ISSUER, secret: BENCH_SECRET });
  app.get(
    "/orgs/:id",
    chain([authenticate({ verifier }), requirePermission("view_org"), (c) => c.json(body)]),
  );
} else if (mode === "noop") {
  // The same shape as "auth" (an app-level and a route-level middleware) doing nothing: what any
  // pair of Hono middlewares costs, whatever they do.
  app.use("/orgs/*", async (_c, next) => {
    await next();
  });
  app.get("/orgs/:id", async (_c, next) => {
    await next();
  }, (c) => c.json(body));
} else {
  app.get("/orgs/:id", (c) => c.json(body));
}
const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
  console.log(JSON.stringify({ port: info.port }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
