/**
 * Server half of bench/auth.ts: a Hono app answering `GET /orgs/acme` with a small JSON body,
 * with one of three middleware set-ups:
 *
 * - `bare`: the handler alone (context only);
 * - `noop`: an app-level and a route-level middleware that do nothing but `await next()`;
 * - `auth`: `authenticate()` (app-level) and `requirePermission("view_org")` (route-level) in
 *   the same two places, registered the ordinary Hono way.
 *
 * `GET /cpu` answers the process's CPU time in µs.
 *
 * Served by the runtime's own server: `Deno.serve` on Deno, `Bun.serve` on Bun,
 * `@hono/node-server` on Node. Prints `{"port":…}` once listening. Run by bench/auth.ts as a
 * child process of the same runtime.
 *
 * @module
 */
import { Hono } from "hono";
import { type AuthVariables, createTokenVerifier } from "@plinth/auth";
import { authenticate } from "@plinth/auth/hono";
import { requirePermission } from "@plinth/rbac/hono";

// Must match bench/auth.ts, which signs the one token the load uses.
const BENCH_SECRET = "bench-secret-bench-secret-bench-secret!";
const BENCH_ISSUER = { issuer: "https://auth.bench", audience: "api" } as const;

const mode = process.argv[2] ?? "bare";
const app = new Hono<{ Variables: AuthVariables }>();
const body = { id: "acme", name: "Acme Corp", plan: "pro", seats: 42 };
// The server's own CPU time so far (user + system, µs): the benchmark reads it around each run
// to get CPU per request, which other processes' load on the machine does not change much.
app.get("/cpu", (c) => {
  const { user, system } = process.cpuUsage();
  return c.json({ cpu: user + system });
});
if (mode === "auth") {
  const verifier = createTokenVerifier({ ...BENCH_ISSUER, secret: BENCH_SECRET });
  app.use("/orgs/*", authenticate({ verifier }));
  app.get("/orgs/:id", requirePermission("view_org"), (c) => c.json(body));
} else if (mode === "noop") {
  // auth's shape (an app-level and a route-level middleware), doing nothing.
  app.use("/orgs/*", async (_c, next) => {
    await next();
  });
  app.get("/orgs/:id", async (_c, next) => {
    await next();
  }, (c) => c.json(body));
} else {
  app.get("/orgs/:id", (c) => c.json(body));
}

type Fetch = (request: Request) => Response | Promise<Response>;
interface DenoLike {
  serve(
    options: { port: number; hostname: string; onListen: (addr: { port: number }) => void },
    handler: Fetch,
  ): { shutdown(): Promise<void> };
}
interface BunLike {
  serve(options: { port: number; hostname: string; fetch: Fetch }): {
    port: number;
    stop(): void;
  };
}

const deno = (globalThis as { Deno?: DenoLike }).Deno;
const bun = (globalThis as { Bun?: BunLike }).Bun;
let stop: () => Promise<void>;
if (deno !== undefined) {
  const server = deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(JSON.stringify({ port })),
  }, app.fetch);
  stop = () => server.shutdown();
} else if (bun !== undefined) {
  const server = bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  console.log(JSON.stringify({ port: server.port }));
  stop = () => Promise.resolve(server.stop());
} else {
  const { serve } = await import("@hono/node-server");
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
    console.log(JSON.stringify({ port: info.port }));
  });
  stop = () => new Promise((done) => server.close(() => done()));
}
process.on("SIGTERM", () => void stop().then(() => process.exit(0)));
