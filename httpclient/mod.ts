/**
 * An HTTP client for plinth services over the runtime's `fetch`: per-attempt and total timeouts
 * combined with the caller's signal, retries only of what is safe to retry (idempotent methods or
 * an `Idempotency-Key`; network errors, 408, 429, 502, 503, 504; never a spent quota or a streamed
 * body) with full-jitter backoff and `Retry-After`, `X-Request-Id` and W3C trace context on every
 * request and a CLIENT span per attempt, schema-checked JSON, size caps, and failures as
 * `@plinth/errors` problems. A Server-Sent Events parser comes with it; the OpenAI-compatible
 * client is `@plinth/httpclient/openai`.
 *
 * @example
 * ```ts
 * import { createHttpClient, HttpClientError } from "@plinth/httpclient";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => Promise.resolve(Response.json({ id: "acme", seats: "many" }));
 * const client = createHttpClient({ baseUrl: "http://orgs.test/", fetch });
 * const Org = z.object({ id: z.string(), seats: z.number() });
 * await assert.rejects(client.json(Org).get("orgs/acme"), (error: unknown) => {
 *   assert.ok(error instanceof HttpClientError);
 *   assert.equal(error.code, "upstream_invalid_response");
 *   assert.match(error.message, /orgs\.test.*field \/seats/);
 *   return true;
 * });
 * ```
 *
 * @module
 */
export * from "./http_client.ts";
export * from "./http_client_error.ts";
export * from "./retry.ts";
export * from "./sse.ts";
