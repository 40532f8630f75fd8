/**
 * Hono adapters for `@plinth/metrics`: `httpMetrics()`, which counts requests by method, route
 * template and status with their duration and the requests in flight, and `metricsHandler()`,
 * which serves `/metrics` in the format the scraper asks for. Only this entry point loads Hono.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createMetrics } from "@plinth/metrics";
 * import { httpMetrics, metricsHandler } from "@plinth/metrics/hono";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "orgs", defaultMetrics: false });
 * const app = new Hono();
 * app.use(httpMetrics(metrics));
 * app.get("/metrics", metricsHandler(metrics));
 * app.get("/orgs/:id", (c) => c.text("ok"));
 *
 * await app.request("/orgs/acme");
 * await app.request("/nowhere");
 * const body = await (await app.request("/metrics")).text();
 * assert.match(body, /route="\/orgs\/:id",status="200"/);
 * assert.match(body, /route="\(unmatched\)",status="404"/);
 * ```
 *
 * @module
 */
export * from "./middleware.ts";
