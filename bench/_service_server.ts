/**
 * Server half of bench/service.ts, one of two apps serving `GET /v1/organizations/:orgId`:
 *
 * - `stack`: the reference service itself, `startService(settings, { listen: true, logger })` of
 *   examples/service on the real PostgreSQL and NATS, with its whole middleware stack (request
 *   id, tracing, access log, request metrics, `authenticate()`, the API-key touch,
 *   `requireOrgAccess()`, the problem handler) and its background work (outbox relay, analytics
 *   consumer); the logger formats every line into a sink that drops it;
 * - `bare`: a plain Hono app with the same route and the same handler work
 *   (`getOrganization(db.sql, id)` answered with `c.json`), no middleware, on a pool of the same
 *   size (`connectDatabase`, `DATABASE_POOL_MAX` 10) in the same schema.
 *
 * Both are served by examples/service/serve.ts (`Deno.serve`, `Bun.serve`, `@hono/node-server`).
 * Configured through the environment: `DATABASE_URL`, `NATS_URL`, `BENCH_SCHEMA`,
 * `BENCH_STREAM`, `BENCH_PREFIX`, `BENCH_JWT_SECRET`. Prints `{"port":…}` once listening; stops
 * on SIGTERM. Run by bench/service.ts as a child process of the same runtime.
 *
 * @module
 */
import process from "node:process";
import { Hono } from "hono";
import { connectDatabase } from "@plinth/database";
import { createLogger } from "@plinth/logging";
import { getOrganization } from "@plinth/models";
import { serve } from "../examples/service/serve.ts";
import { startService } from "../examples/service/service.ts";
import { loadSettings } from "../examples/service/settings.ts";

const mode = process.argv[2];
const env = process.env;
const schema = env.BENCH_SCHEMA;
if (schema === undefined) throw new Error("Cannot start the bench server: BENCH_SCHEMA is unset");
const databaseUrl = env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let port: number;
let stop: () => Promise<unknown>;
if (mode === "stack") {
  const settings = (await loadSettings({
    dir: null,
    env: {
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      NATS_URL: env.NATS_URL ?? "nats://127.0.0.1:4222",
      EVENTS_STREAM: env.BENCH_STREAM,
      EVENTS_SUBJECT_PREFIX: env.BENCH_PREFIX,
      JWT_SECRET: env.BENCH_JWT_SECRET,
      PORT: "0",
    },
  })).values;
  // Every access-log line is still formatted; the sink drops it.
  const logger = createLogger({ service: "bench-service", destination: { write() {} } });
  const service = await startService(settings, { listen: true, logger });
  port = service.port;
  stop = () => service.close(5000);
} else if (mode === "bare") {
  const db = await connectDatabase(databaseUrl, {
    max: 10,
    logger: quiet,
    connection: { search_path: schema },
  });
  const app = new Hono();
  app.get(
    "/v1/organizations/:orgId",
    async (c) => c.json(await getOrganization(db.sql, c.req.param("orgId"))),
  );
  const server = await serve(app.fetch, { hostname: "127.0.0.1", port: 0 });
  port = server.port;
  stop = async () => {
    await server.stop(5000);
    await db.close();
  };
} else {
  throw new Error(`Cannot start the bench server: unknown mode "${mode}" (stack or bare)`);
}
console.log(JSON.stringify({ port }));
process.on("SIGTERM", () => {
  void stop().then(() => process.exit(0), () => process.exit(1));
});
