/**
 * Hono adapter for `@plinth/auth`: `authenticate()`, the middleware that checks a bearer JWT or
 * an API key and sets `c.var.auth`, answering every failure with a 401 problem and a
 * `WWW-Authenticate` challenge. Only this entry point loads Hono; the context types it sets
 * (`AuthVariables`, `AuthContext`) come from `@plinth/auth`.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { type AuthVariables, createTokenIssuer, createTokenVerifier } from "@plinth/auth";
 * import { authenticate } from "@plinth/auth/hono";
 * import assert from "node:assert/strict";
 *
 * const options = {
 *   secret: "a-secret-of-at-least-thirty-two-bytes!!",
 *   issuer: "https://auth.example.com",
 *   audience: "api",
 * };
 * const issuer = createTokenIssuer({ ...options, kid: "hs-1" });
 * const app = new Hono<{ Variables: AuthVariables }>();
 * app.use("/api/*", authenticate({ verifier: createTokenVerifier(options), logger: { warn: () => {} } }));
 * app.get("/api/me", (c) => c.json({ user: c.var.auth.userId }));
 *
 * const { accessToken } = await issuer.generateTokenPair({ userId: "u1", orgId: "acme", role: "org_user" });
 * const res = await app.request("/api/me", { headers: { authorization: `Bearer ${accessToken}` } });
 * assert.deepEqual(await res.json(), { user: "u1" });
 * assert.equal((await app.request("/api/me")).status, 401);
 * ```
 *
 * @module
 */
export * from "./middleware.ts";
