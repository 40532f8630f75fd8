/**
 * Hono adapters for `@plinth/logging`: `requestId()` gives every request an id (taken from a
 * trusted header or generated) and runs the request inside a log context carrying it, and
 * `requestLogger()` writes one access line per request. Only this entry point loads Hono.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createLogger } from "@plinth/logging";
 * import { requestId, requestLogger } from "@plinth/logging/hono";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({ service: "orgs", destination: { write: (l) => lines.push(l) } });
 * const app = new Hono();
 * app.use(requestId(), requestLogger({ logger }));
 * app.get("/orgs/:id", (c) => c.json({ id: c.req.param("id") }));
 *
 * const res = await app.request("/orgs/acme", { headers: { "x-request-id": "req-1" } });
 * assert.equal(res.status, 200);
 * await res.text(); // the access line is written once the body has been sent
 * const line = JSON.parse(lines[0]!);
 * assert.equal(line.route, "/orgs/:id");
 * assert.equal(line.request_id, res.headers.get("x-request-id"));
 * ```
 *
 * @module
 */
export * from "./middleware.ts";
