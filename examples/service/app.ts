/**
 * The reference service's HTTP API: every plinth package in one Hono app.
 *
 * Middleware, in order: request id (`@plinth/logging`), trace (`@plinth/tracing`), access log,
 * request metrics (`@plinth/metrics`), then per route authentication (`@plinth/auth`: a JWT or
 * an API key) and authorisation (`@plinth/rbac`: a permission, and the tenant read from the
 * resource's row). Every error is an RFC 9457 problem (`@plinth/errors`).
 *
 * | route                                      | who                                              |
 * | ------------------------------------------ | ------------------------------------------------ |
 * | `POST /auth/sign-in` (development)         | anyone: a token pair for a seeded user's e-mail  |
 * | `POST /auth/refresh`, `POST /auth/sign-out`| holder of a refresh token                        |
 * | `POST /v1/organizations`, `GET` (list)     | system administrator                             |
 * | `GET /v1/organizations/:orgId`             | its members, system administrator                |
 * | `POST, GET /v1/organizations/:orgId/users` | its admins (create), members (list)              |
 * | `GET /v1/users/:userId`                    | the user's organisation's members                |
 * | `POST, GET /v1/organizations/:orgId/api-keys`, `DELETE /v1/api-keys/:keyId` | its admins |
 * | `GET /v1/organizations/:orgId/usage`       | its admins: the analytics consumer's daily usage |
 * | `POST /v1/chat/completions`                | members, by token or API key: OpenAI-compatible  |
 * | `GET /healthz`, `/readyz`, `/metrics`      | probes and Prometheus                            |
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import type postgres from "postgres";
import { AppError, forbidden, unauthorized } from "@plinth/errors";
import { problemHandler, problemNotFound, validate } from "@plinth/errors/hono";
import { getContext, type Logger, runWithContext } from "@plinth/logging";
import { requestId, requestLogger } from "@plinth/logging/hono";
import { tracing } from "@plinth/tracing/hono";
import type { Metrics } from "@plinth/metrics";
import { httpMetrics, metricsHandler } from "@plinth/metrics/hono";
import type { AuthContext, AuthVariables, TokenIssuer, TokenVerifier } from "@plinth/auth";
import { authenticate } from "@plinth/auth/hono";
import { requireOrgAccess, requirePermission } from "@plinth/rbac/hono";
import type { Database } from "@plinth/database";
import type { ChatCompletionChunk, OpenAIClient } from "@plinth/httpclient/openai";
import {
  createApiKey,
  createOrganization,
  createUser,
  findUserByEmail,
  getOrganization,
  getUser,
  type LastUsedTracker,
  listApiKeys,
  listOrganizations,
  listUsers,
  lookupApiKey,
  revokeApiKey,
} from "@plinth/models";
import { estimatePromptTokens, reserveTokens, type Settlement, settleTokens } from "./budget.ts";
import { dailyUsage } from "./analytics.ts";
import type { Settings } from "./settings.ts";

/** What `/readyz` reports. */
export interface Readiness {
  ok: boolean;
  checks: Record<string, { ok: boolean; [key: string]: unknown }>;
}

/** Everything the routes use, made by `startService()` (or a test). */
export interface AppDeps {
  readonly settings: Settings;
  /** Whether `POST /auth/sign-in` (by e-mail alone) answers. */
  readonly devSignIn: boolean;
  readonly db: Database;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly issuer: TokenIssuer;
  readonly verifier: TokenVerifier;
  readonly upstream: OpenAIClient;
  readonly lastUsed: LastUsedTracker;
  /** The subject `usage.recorded` events are enqueued to. */
  readonly usageSubject: string;
  readonly ready: () => Promise<Readiness>;
}

type Env = { Variables: AuthVariables & { requestId: string } };

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  after: z.string().max(200).optional(),
});
const CreateOrgBody = z.object({
  name: z.string(),
  display_name: z.string(),
  budget_tokens_monthly: z.number().int().nonnegative().optional(),
});
const CreateUserBody = z.object({
  email: z.string(),
  name: z.string(),
  role: z.enum(["org_admin", "org_user"]),
});
const CreateKeyBody = z.object({
  name: z.string(),
  role: z.enum(["org_admin", "org_user"]).default("org_user"),
});
const TokenBody = z.object({ refresh_token: z.string().min(1).max(4096) });
const SignInBody = z.object({ email: z.string().min(3).max(254) });
const ChatBody = z.looseObject({
  model: z.string().min(1).max(200),
  messages: z.array(z.looseObject({
    role: z.string().min(1),
    content: z.union([z.string(), z.array(z.unknown()), z.null()]),
  })).min(1).max(1000),
  stream: z.boolean().optional(),
  max_tokens: z.number().int().positive().max(1_000_000).optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).optional(),
});

/** The caller's organisation; a system administrator has none (and no budget). */
function orgOf(auth: AuthContext): string {
  if (auth.orgId === null) {
    throw forbidden("This route needs an organisation; a system administrator has none", {
      code: "organization_required",
    });
  }
  return auth.orgId;
}

/**
 * Builds the app.
 *
 * @param deps Settings, database, logger, metrics, token issuer and verifier, upstream client.
 */
export function createApp(deps: AppDeps): Hono<Env> {
  const { db, settings, logger, metrics } = deps;
  const sql: postgres.Sql = db.sql;
  const chats = metrics.counter({
    name: "chat_completions_total",
    help: "Chat completions answered, by outcome.",
    labelNames: ["stream", "outcome"],
  });
  const tokens = metrics.counter({
    name: "tokens_charged_total",
    help: "Tokens charged to organisations' budgets, by model.",
    labelNames: ["model"],
    maxSeries: 100,
  });

  const app = new Hono<Env>();
  app.onError(problemHandler({ logger }));
  app.notFound(problemNotFound());
  app.use(requestId(), tracing());
  app.use(requestLogger({ logger, skip: ["/healthz", "/readyz", "/metrics"] }));
  app.use(httpMetrics(metrics));

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const report = await deps.ready();
    return c.json(report, report.ok ? 200 : 503);
  });
  app.get("/metrics", metricsHandler(metrics));

  // --- Sign-in (development), refresh with rotation, sign-out ------------------------------
  app.post("/auth/sign-in", validate("json", SignInBody), async (c) => {
    if (!deps.devSignIn) {
      throw new AppError("Sign-in by e-mail alone is for development only", {
        status: 404,
        code: "not_found",
      });
    }
    const user = await findUserByEmail(sql, c.req.valid("json").email);
    if (user === null || user.status !== "active") {
      throw unauthorized("No active user has this e-mail", { code: "sign_in_failed" });
    }
    const pair = await deps.issuer.generateTokenPair({
      userId: user.id,
      orgId: user.org_id,
      role: user.role,
    });
    return c.json(tokenResponse(pair));
  });
  app.post("/auth/refresh", validate("json", TokenBody), async (c) => {
    const pair = await deps.issuer.rotateRefreshToken(c.req.valid("json").refresh_token);
    return c.json(tokenResponse(pair));
  });
  app.post("/auth/sign-out", validate("json", TokenBody), async (c) => {
    await deps.issuer.revokeRefreshToken(c.req.valid("json").refresh_token);
    return c.body(null, 204);
  });

  // --- Everything under /v1 needs a token or an API key ------------------------------------
  app.use(
    "/v1/*",
    authenticate({
      verifier: deps.verifier,
      lookupApiKey: (id) => lookupApiKey(sql, id),
      logger,
    }),
  );
  app.use("/v1/*", async (c, next) => {
    const auth = c.get("auth");
    if (auth.kind === "api_key") deps.lastUsed.touch(auth.keyId);
    await next();
  });
  const orgParam = (c: { req: { param(name: string): string | undefined } }) =>
    c.req.param("orgId");

  app.post(
    "/v1/organizations",
    requirePermission("create_org", { logger }),
    validate("json", CreateOrgBody),
    async (c) => {
      const body = c.req.valid("json");
      const org = await createOrganization(sql, {
        ...body,
        budget_tokens_monthly: body.budget_tokens_monthly ?? settings.DEFAULT_BUDGET_TOKENS,
      });
      return c.json(org, 201);
    },
  );
  app.get(
    "/v1/organizations",
    requirePermission("view_all_orgs", { logger }),
    validate("query", ListQuery),
    async (c) => c.json(await listOrganizations(sql, c.req.valid("query"))),
  );
  app.get(
    "/v1/organizations/:orgId",
    requireOrgAccess(orgParam, { permission: "view_org", logger }),
    async (c) => c.json(await getOrganization(sql, c.req.param("orgId"))),
  );
  app.post(
    "/v1/organizations/:orgId/users",
    requireOrgAccess(orgParam, { permission: "manage_org_users", logger }),
    validate("json", CreateUserBody),
    async (c) => {
      const user = await createUser(sql, { ...c.req.valid("json"), org_id: c.req.param("orgId") });
      return c.json(user, 201);
    },
  );
  app.get(
    "/v1/organizations/:orgId/users",
    requireOrgAccess(orgParam, { permission: "view_org_users", logger }),
    validate("query", ListQuery),
    async (c) => c.json(await listUsers(sql, c.req.param("orgId"), c.req.valid("query"))),
  );
  app.get(
    "/v1/users/:userId",
    // The tenant comes from the row: a user of another organisation is refused.
    requireOrgAccess(async (c) => (await getUser(sql, c.req.param("userId") ?? "")).org_id, {
      permission: "view_org_users",
      logger,
    }),
    async (c) => c.json(await getUser(sql, c.req.param("userId"))),
  );
  app.post(
    "/v1/organizations/:orgId/api-keys",
    requireOrgAccess(orgParam, { permission: "create_api_key", logger }),
    validate("json", CreateKeyBody),
    async (c) => {
      const auth = c.get("auth");
      const { key, api_key } = await createApiKey(sql, {
        ...c.req.valid("json"),
        org_id: c.req.param("orgId"),
        created_by: auth.kind === "user" ? auth.userId : null,
      });
      // The key is shown once: only its hash is stored.
      return c.json({ key, api_key }, 201);
    },
  );
  app.get(
    "/v1/organizations/:orgId/api-keys",
    requireOrgAccess(orgParam, { permission: "view_api_keys", logger }),
    validate("query", ListQuery),
    async (c) => c.json(await listApiKeys(sql, c.req.param("orgId"), c.req.valid("query"))),
  );
  app.delete(
    "/v1/api-keys/:keyId",
    requireOrgAccess(async (c) => await apiKeyOrg(sql, c.req.param("keyId") ?? ""), {
      permission: "revoke_api_key",
      denyAs: "not_found",
      logger,
    }),
    async (c) => c.json(await revokeApiKey(sql, c.req.param("keyId"))),
  );
  app.get(
    "/v1/organizations/:orgId/usage",
    requireOrgAccess(orgParam, { permission: "view_org_usage", logger }),
    async (c) => {
      const org = await getOrganization(sql, c.req.param("orgId"));
      return c.json({
        org_id: org.id,
        budget_tokens_monthly: org.budget_tokens_monthly,
        tokens_used_current_month: org.tokens_used_current_month,
        daily: await dailyUsage(sql, org.id),
      });
    },
  );

  // --- OpenAI-compatible chat completions, charged to the caller's organisation ------------
  app.post(
    "/v1/chat/completions",
    requirePermission("use_api", { logger }),
    validate("json", ChatBody),
    async (c) => {
      const auth = c.get("auth");
      const orgId = orgOf(auth);
      const body = c.req.valid("json");
      const maxTokens = body.max_tokens ?? settings.DEFAULT_MAX_TOKENS;
      const estimate = estimatePromptTokens(body.messages);
      const reserved = estimate + maxTokens;
      await reserveTokens(sql, orgId, reserved);
      const settlement: Omit<Settlement, "promptTokens" | "completionTokens"> = {
        orgId,
        reserved,
        model: body.model,
        apiKeyId: auth.kind === "api_key" ? auth.keyId : null,
        userId: auth.kind === "user" ? auth.userId : null,
        requestId: c.get("requestId") ?? null,
        subject: deps.usageSubject,
      };
      const settle = async (promptTokens: number, completionTokens: number) => {
        const event = await settleTokens(
          db,
          { ...settlement, promptTokens, completionTokens },
          logger,
        );
        if (event !== null) tokens.inc({ model: body.model }, event.total_tokens);
      };
      const { stream_options: _options, ...rest } = body;
      const params = { ...rest, max_tokens: maxTokens };
      const signal = c.req.raw.signal;
      const stream = body.stream === true;

      if (!stream) {
        let completion;
        try {
          completion = await deps.upstream.chat.completions.create(
            { ...params, stream: false },
            { signal },
          );
        } catch (error) {
          await settle(0, 0); // nothing was used: the reservation goes back
          chats.inc({ stream: "false", outcome: "upstream_error" });
          throw error;
        }
        const usage = completion.usage;
        await settle(usage?.prompt_tokens ?? estimate, usage?.completion_tokens ?? maxTokens);
        chats.inc({ stream: "false", outcome: "ok" });
        return c.json(completion);
      }

      const clientWantsUsage = body.stream_options?.include_usage === true;
      let upstream;
      try {
        upstream = await deps.upstream.chat.completions.create(
          { ...params, stream: true, stream_options: { include_usage: true } },
          { signal },
        );
      } catch (error) {
        await settle(0, 0);
        chats.inc({ stream: "true", outcome: "upstream_error" });
        throw error;
      }
      // The response body is read after the handler returned: settle in the request's logging
      // and trace context, so the usage event carries the request's trace.
      const context = getContext() ?? {};
      const iterator = upstream[Symbol.asyncIterator]();
      const encoder = new TextEncoder();
      let contentChunks = 0;
      let settled: Promise<void> | undefined;
      const finish = (outcome: string): Promise<void> => {
        settled ??= runWithContext(context, async () => {
          chats.inc({ stream: "true", outcome });
          const usage = upstream.usage;
          // Cancelled before the upstream's usage: the prompt as estimated and one token per
          // content chunk received (what was sent to the client).
          await settle(usage?.prompt_tokens ?? estimate, usage?.completion_tokens ?? contentChunks);
        }).catch((error) => {
          runWithContext(context, () => logger.error("Cannot settle the token charge", error));
        });
        return settled;
      };
      const body$ = new ReadableStream<Uint8Array>({
        async pull(controller) {
          // Each pull enqueues something or closes: a pull that returned empty-handed would
          // leave the reader waiting (a stream pulls again only when asked again).
          for (;;) {
            let next: IteratorResult<ChatCompletionChunk>;
            try {
              next = await iterator.next();
            } catch (error) {
              await finish("upstream_error");
              const problem = error instanceof AppError ? error : undefined;
              controller.enqueue(encoder.encode(`data: ${
                JSON.stringify({
                  error: {
                    message: problem?.message ?? "The upstream failed mid-stream",
                    type: "upstream_error",
                    code: problem?.code ?? "upstream_error",
                  },
                })
              }\n\n`));
              controller.close();
              return;
            }
            if (next.done) {
              await finish("ok");
              controller.enqueue(encoder.encode("data: [DONE]\n\n"));
              controller.close();
              return;
            }
            const chunk = next.value;
            if (typeof chunk.choices[0]?.delta?.content === "string") contentChunks++;
            // The usage chunk the service asked for, which the client did not.
            if (chunk.choices.length === 0 && chunk.usage !== undefined && !clientWantsUsage) {
              continue;
            }
            controller.enqueue(encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`));
            return;
          }
        },
        async cancel() {
          // The client went away: stop the upstream request, charge what was used.
          await upstream.close().catch(() => {});
          await finish("cancelled");
        },
      });
      return new Response(body$, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-request-id": c.get("requestId"),
        },
      });
    },
  );
  return app;
}

async function apiKeyOrg(sql: postgres.Sql, id: string): Promise<string | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const [row] = await sql`select org_id::text as org_id from api_keys where id = ${id}`;
  return row?.org_id as string | undefined;
}

function tokenResponse(pair: {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  refreshExpiresIn: number;
}) {
  return {
    access_token: pair.accessToken,
    refresh_token: pair.refreshToken,
    token_type: "Bearer",
    expires_in: pair.expiresIn,
    refresh_expires_in: pair.refreshExpiresIn,
  };
}
