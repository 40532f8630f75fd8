/**
 * A Hono app built from plinth's edge packages, for the workerd end-to-end test
 * (`integration/edge_test.mjs`): configuration from the Worker's `env` bindings through
 * `@plinth/config` (`dir: null`, no file system), request ids and access lines from
 * `@plinth/logging`, problem responses from `@plinth/errors`, JWTs and API keys from
 * `@plinth/auth`, permissions and tenant checks from `@plinth/rbac`, W3C trace context from
 * `@plinth/tracing`.
 *
 * It is a test fixture, not an example to deploy: `POST /tokens` issues a token for whatever
 * subject it is sent, and `/probe` reports what the runtime offers.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import { AppError, conflict } from "@plinth/errors";
import { problemBoundary, problemHandler, problemNotFound, validate } from "@plinth/errors/hono";
import { createLogger, getContext, type Logger } from "@plinth/logging";
import { requestId, type RequestIdVariables, requestLogger } from "@plinth/logging/hono";
import {
  type ApiKeyRecord,
  type AuthVariables,
  createTokenIssuer,
  createTokenVerifier,
  hashApiKey,
} from "@plinth/auth";
import { authenticate } from "@plinth/auth/hono";
import { requireOrgAccess, requirePermission } from "@plinth/rbac/hono";
import { loadConfig } from "@plinth/config";
import { injectTraceHeaders } from "@plinth/tracing";
import { tracing, type TracingVariables } from "@plinth/tracing/hono";

/** The context variables the app's handlers read. */
export type EdgeEnv = { Variables: AuthVariables & RequestIdVariables & TracingVariables };

/** The settings the app reads from the Worker's `env` (text bindings). */
export const EdgeSettings = z.object({
  SERVICE_NAME: z.string().default("edge-app"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  JWT_SECRET: z.string().min(32),
  JWT_ISSUER: z.string().min(1),
  JWT_AUDIENCE: z.string().min(1),
  API_KEY_ID: z.string().optional(),
  API_KEY_HASH: z.string().optional(),
  API_KEY_ORG: z.string().default("acme"),
  BODY_LIMIT: z.number().int().positive().default(1024),
});

/** The parsed settings. */
export type EdgeSettingsValues = z.output<typeof EdgeSettings>;

/** What `/probe` reports: the Node built-ins the runtime offers plinth's feature detection. */
export interface RuntimeProbe {
  /** Whether `globalThis.process` is an object. */
  readonly process: boolean;
  /** Whether `process.getBuiltinModule` is a function. */
  readonly getBuiltinModule: boolean;
  /** Whether `globalThis.AsyncLocalStorage` is a function. */
  readonly globalAsyncLocalStorage: boolean;
  /** Whether `process.env` carries the Worker's text bindings (`SERVICE_NAME` is one). */
  readonly processEnvBindings: boolean;
}

const CreateOrg = z.object({ id: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/), name: z.string() });
const TokenRequest = z.object({
  userId: z.string().min(1),
  orgId: z.string().min(1),
  role: z.enum(["system_admin", "org_admin", "org_user"]),
});
const ORGS = new Map([
  ["acme", { id: "acme", name: "Acme" }],
  ["globex", { id: "globex", name: "Globex" }],
]);

/** The text bindings of `env` (other bindings, such as services, are skipped). */
export function textBindings(env: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (typeof value === "string") out[key] = value;
  return out;
}

function probe(): RuntimeProbe {
  const scope = globalThis as {
    process?: { getBuiltinModule?: unknown; env?: Record<string, unknown> };
    AsyncLocalStorage?: unknown;
  };
  return {
    process: typeof scope.process === "object" && scope.process !== null,
    getBuiltinModule: typeof scope.process?.getBuiltinModule === "function",
    globalAsyncLocalStorage: typeof scope.AsyncLocalStorage === "function",
    processEnvBindings: typeof scope.process?.env?.["SERVICE_NAME"] === "string",
  };
}

/** The app's routes, on the logger and settings given. */
export function buildApp(
  settings: EdgeSettingsValues,
  logger: Logger,
): Hono<EdgeEnv> {
  const jwt = {
    secret: settings.JWT_SECRET,
    issuer: settings.JWT_ISSUER,
    audience: settings.JWT_AUDIENCE,
  };
  const issuer = createTokenIssuer({ ...jwt, kid: "edge-1", logger });
  const verifier = createTokenVerifier({ ...jwt, store: issuer.store });
  const lookupApiKey = (id: string): ApiKeyRecord | null =>
    id === settings.API_KEY_ID && settings.API_KEY_HASH !== undefined
      ? { hash: settings.API_KEY_HASH, orgId: settings.API_KEY_ORG, role: "org_user" }
      : null;

  const app = new Hono<EdgeEnv>();
  app.use(requestId());
  app.use(tracing());
  app.use(requestLogger({ logger }));
  app.use(problemBoundary());
  app.onError(problemHandler({ logger }));
  app.notFound(problemNotFound());

  app.get("/probe", (c) => c.json(probe()));

  // The incoming trace continued: its id, the header an outgoing call would carry, and a line
  // logged synchronously (so it carries the ids with or without AsyncLocalStorage).
  app.get("/trace", (c) => {
    logger.info("Trace probed");
    const outgoing = injectTraceHeaders(new Headers());
    return c.json({ traceId: c.var.trace.traceId, outgoing: outgoing.get("traceparent") });
  });

  // The request context before and after an await, and a line logged after it.
  app.get("/context", async (c) => {
    const before = getContext()?.request_id ?? null;
    await new Promise((resolve) => setTimeout(resolve, Number(c.req.query("wait") ?? "1")));
    const after = getContext()?.request_id ?? null;
    logger.info("Context probed", { before, after });
    return c.json({ before, after, requestId: c.var.requestId });
  });

  app.get("/boom", () => {
    throw conflict("The organisation is being migrated", { code: "org_migrating" });
  });
  app.get("/crash", () => {
    throw new Error("connect ECONNREFUSED 10.0.0.7:5432");
  });
  app.get("/custom", () => {
    throw new AppError("Quota used up", {
      status: 429,
      code: "quota_exhausted",
      retryAfter: 60_000,
    });
  });
  app.get("/forbidden", () => {
    throw new HTTPException(403, { message: "Members only" });
  });
  app.post(
    "/upload",
    bodyLimit({ maxSize: settings.BODY_LIMIT }),
    async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }),
  );
  app.post("/orgs", validate("json", CreateOrg), (c) => {
    const org = c.req.valid("json");
    if (ORGS.has(org.id)) throw conflict(`Organisation "${org.id}" exists`, { code: "org_exists" });
    return c.json(org, 201);
  });

  // Issues a pair inside the Worker (fixture only: anyone may ask).
  app.post("/tokens", validate("json", TokenRequest), async (c) => {
    const pair = await issuer.generateTokenPair(c.req.valid("json"));
    return c.json({ accessToken: pair.accessToken, refreshToken: pair.refreshToken });
  });
  app.post("/hash", async (c) => c.json({ hash: hashApiKey(await c.req.text()) }));

  app.use("/api/*", authenticate({ verifier, lookupApiKey, logger }));
  app.get("/api/me", (c) => {
    const auth = c.var.auth;
    return c.json({
      kind: auth.kind,
      id: auth.userId ?? auth.keyId,
      org: auth.orgId,
      role: auth.role,
    });
  });
  app.post(
    "/api/orgs",
    requirePermission("create_org", { logger }),
    (c) => c.json({ ok: true }, 201),
  );
  app.get(
    "/api/orgs/:org",
    requireOrgAccess((c) => ORGS.get(c.req.param("org") ?? "")?.id, {
      permission: "view_org",
      logger,
    }),
    (c) => c.json(ORGS.get(c.req.param("org") ?? "")),
  );
  return app;
}

/**
 * Loads the settings from `env` (no file system) and builds the app with a logger on the
 * default destination (standard output where `node:fs` is offered, else `console.log`).
 */
export async function createEdgeApp(
  env: Readonly<Record<string, unknown>>,
): Promise<Hono<EdgeEnv>> {
  const config = await loadConfig(EdgeSettings, { dir: null, env: textBindings(env) });
  const settings = config.values;
  const logger = createLogger({ service: settings.SERVICE_NAME, level: settings.LOG_LEVEL });
  return buildApp(settings, logger);
}
