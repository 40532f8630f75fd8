/**
 * A small organisation service that shows @plinth/errors answering real requests: a found
 * organisation, a missing one, an unknown route, a validation failure, a spent token budget
 * and two unexpected throws (an Error with a cause chain, and a bare string). @plinth/logging
 * gives every request an id (echoed in `X-Request-Id`, in the problem's `request_id` and on
 * every log line) and one access line.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { budgetExceeded, conflict, fromZod, notFound, wrap } from "@plinth/errors";
import { problemBoundary, problemHandler, problemNotFound } from "@plinth/errors/hono";
import type { Logger } from "@plinth/logging";
import { requestId, requestLogger } from "@plinth/logging/hono";

/** An organisation of the demo service. */
export interface Org {
  /** URL-safe id. */
  id: string;
  /** Display name. */
  name: string;
  /** Monthly token budget. */
  budgetTokens: number;
  /** Tokens used this month. */
  usedTokens: number;
}

const CreateOrg = z.object({
  id: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/),
  name: z.string().min(1).max(100),
  budgetTokens: z.number().int().positive(),
});

/** Options of {@linkcode createApp}. */
export interface AppOptions {
  /** Where access lines and server-side errors (with the whole cause chain) are logged. */
  readonly logger: Logger;
}

/**
 * Builds the demo service.
 *
 * @param options The logger for access lines and 5xx errors.
 * @returns A Hono app; call `app.fetch` or `app.request`.
 */
export function createApp(options: AppOptions): Hono {
  const orgs = new Map<string, Org>([
    ["acme", { id: "acme", name: "Acme", budgetTokens: 1_000_000, usedTokens: 1_000_250 }],
    ["globex", { id: "globex", name: "Globex", budgetTokens: 500_000, usedTokens: 12_000 }],
  ]);

  const app = new Hono();
  app.use(requestId());
  app.use(requestLogger({ logger: options.logger }));
  app.use(problemBoundary());
  app.onError(problemHandler({ logger: options.logger, typeBase: "https://errors.plinth.dev/" }));
  app.notFound(problemNotFound({ typeBase: "https://errors.plinth.dev/" }));

  const findOrg = (id: string): Org => {
    const org = orgs.get(id);
    if (org === undefined) throw notFound(`No organisation "${id}"`);
    return org;
  };

  app.get("/orgs/:id", (c) => c.json(findOrg(c.req.param("id"))));

  app.post("/orgs", async (c) => {
    const parsed = CreateOrg.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) throw fromZod(parsed.error, { message: "The organisation is invalid" });
    if (orgs.has(parsed.data.id)) {
      throw conflict(`Organisation "${parsed.data.id}" exists`, { code: "org_exists" });
    }
    const org = { ...parsed.data, usedTokens: 0 };
    orgs.set(org.id, org);
    return c.json(org, 201);
  });

  app.post("/orgs/:id/completions", (c) => {
    const org = findOrg(c.req.param("id"));
    if (org.usedTokens >= org.budgetTokens) {
      throw budgetExceeded(`Organisation "${org.id}" has spent its monthly token budget`, {
        retryAfter: 3_600_000,
        extensions: { budget_tokens: org.budgetTokens, used_tokens: org.usedTokens },
      });
    }
    return c.json({ choices: [{ message: { role: "assistant", content: "Hello" } }] });
  });

  app.get("/reports/usage", () => {
    try {
      throw Object.assign(new Error("connect ECONNREFUSED 10.0.0.7:5432"), {
        code: "ECONNREFUSED",
      });
    } catch (error) {
      throw wrap(error, "Cannot build the usage report");
    }
  });

  app.get("/legacy", () => {
    // Old code that throws strings: problemBoundary() turns it into a 500 problem.
    throw "legacy failure";
  });

  return app;
}
