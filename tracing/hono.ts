/**
 * Hono middleware of `@plinth/tracing`: {@linkcode tracing} gives every request a SERVER span
 * that continues the caller's W3C trace context, the ids in every log line of the request, and
 * `c.var.trace` for handlers.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { injectTraceHeaders } from "@plinth/tracing";
 * import { tracing, type TracingVariables } from "@plinth/tracing/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<{ Variables: TracingVariables }>();
 * app.use(tracing());
 * app.get("/", (c) => c.json(injectTraceHeaders({})));
 * const res = await app.request("/", {
 *   headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
 * });
 * const outgoing = await res.json();
 * assert.match(outgoing.traceparent, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
 * ```
 *
 * @module
 */
export * from "./middleware.ts";
