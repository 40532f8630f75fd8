/**
 * Typed HTTP errors for plinth services, rendered as RFC 9457 problem details
 * (`application/problem+json`).
 *
 * Throw an {@linkcode AppError} (or use a constructor such as {@linkcode notFound}); register
 * `problemHandler`, `problemNotFound` and `problemBoundary` from `@plinth/errors/hono` on a
 * Hono app, and every failure answers the same way: a stable `code`, a client-safe `detail`,
 * the request's `instance` and `request_id`, and nothing from a 5xx's message. For logs,
 * {@linkcode serializeError} and {@linkcode errorChain} walk the whole `cause` chain safely.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { conflict } from "@plinth/errors";
 * import { problemBoundary, problemHandler, problemNotFound } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.use(problemBoundary());
 * app.onError(problemHandler({ typeBase: "https://errors.example.com/" }));
 * app.notFound(problemNotFound());
 * app.post("/orgs", () => {
 *   throw conflict("Organisation acme exists", { code: "org_exists" });
 * });
 *
 * const res = await app.request("/orgs", {
 *   method: "POST",
 *   headers: { "x-request-id": "req-7" },
 * });
 * assert.deepEqual(await res.json(), {
 *   type: "https://errors.example.com/org_exists",
 *   title: "Conflict",
 *   status: 409,
 *   detail: "Organisation acme exists",
 *   instance: "/orgs",
 *   code: "org_exists",
 *   request_id: "req-7",
 * });
 * ```
 *
 * @module
 */
export * from "./app_error.ts";
export * from "./http_errors.ts";
export * from "./chain.ts";
export * from "./from_zod.ts";
export * from "./serialize_error.ts";
export * from "./problem_response.ts";
