/**
 * Hono adapters for `@plinth/errors`: the problem+json error and not-found handlers, a boundary
 * for thrown non-errors, and `validate()`, which checks a request part against a zod schema and
 * answers 422 (or 400 `invalid_json`) as problem details. Only this entry point loads Hono.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { z } from "zod";
 * import { notFound } from "@plinth/errors";
 * import { problemHandler, problemNotFound, validate } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.onError(problemHandler());
 * app.notFound(problemNotFound());
 * app.post("/orgs", validate("json", z.object({ name: z.string().min(1) })), (c) => {
 *   throw notFound(`No organisation ${c.req.valid("json").name}`);
 * });
 *
 * const res = await app.request("/orgs", {
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: "{",
 * });
 * assert.equal(res.status, 400);
 * assert.equal((await res.json()).code, "invalid_json");
 * ```
 *
 * @module
 */
export * from "./middleware.ts";
export * from "./validate.ts";
