/**
 * The Worker entry point (module syntax) that `integration/edge_test.mjs` bundles with esbuild
 * and serves with workerd. The app is built on the first request, not at import: a Worker may
 * not generate random values, set timers or read its `env` bindings outside a request.
 *
 * @module
 */
import type { ExecutionContext, Hono } from "hono";
import { createEdgeApp, type EdgeEnv } from "./app.ts";

let app: Promise<Hono<EdgeEnv>> | undefined;

function appFor(
  env: Readonly<Record<string, unknown>>,
): Promise<Hono<EdgeEnv>> {
  app ??= createEdgeApp(env).catch((error: unknown) => {
    app = undefined; // the next request tries again
    throw error;
  });
  return app;
}

/** The Worker: every request goes to the Hono app. */
const worker = {
  async fetch(
    request: Request,
    env: Readonly<Record<string, unknown>>,
    ctx: ExecutionContext,
  ): Promise<Response> {
    return (await appFor(env)).fetch(request, env, ctx);
  },
};

export default worker;
