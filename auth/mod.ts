/**
 * Authentication for plinth services: JWT access/refresh token pairs (on `jose`) with safe
 * defaults, local and remote (JWKS) verification keys with rotation, refresh-token rotation
 * with reuse detection, revocation, a verified-claims cache, API keys stored only as hashes,
 * and Hono middleware (at `@plinth/auth/hono`) that turns every failure into a 401 problem with
 * `WWW-Authenticate`.
 *
 * {@linkcode createTokenIssuer} signs pairs and rotates refresh tokens;
 * {@linkcode createTokenVerifier} checks access and refresh tokens;
 * {@linkcode generateApiKey}, {@linkcode hashApiKey} and {@linkcode verifyApiKey} handle API
 * keys. The Hono middleware, `authenticate()`, lives at `@plinth/auth/hono` and sets
 * `c.var.auth` ({@linkcode AuthVariables}); this entry point does not load Hono.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import {
 *   type AuthVariables,
 *   createMemoryTokenStore,
 *   createTokenIssuer,
 *   createTokenVerifier,
 * } from "@plinth/auth";
 * import { authenticate } from "@plinth/auth/hono";
 * import assert from "node:assert/strict";
 *
 * const secret = "a-secret-of-at-least-thirty-two-bytes!!";
 * const store = createMemoryTokenStore();
 * const common = { secret, issuer: "https://auth.example.com", audience: "api", store };
 * const issuer = createTokenIssuer({ ...common, kid: "hs-1" });
 * const verifier = createTokenVerifier(common);
 *
 * const app = new Hono<{ Variables: AuthVariables }>();
 * app.use("/api/*", authenticate({ verifier, logger: { warn: () => {} } }));
 * app.get("/api/me", (c) => c.json({ user: c.var.auth.userId, org: c.var.auth.orgId }));
 *
 * const pair = await issuer.generateTokenPair({ userId: "u1", orgId: "acme", role: "org_admin" });
 * const headers = { authorization: `Bearer ${pair.accessToken}` };
 * assert.deepEqual(await (await app.request("/api/me", { headers })).json(), { user: "u1", org: "acme" });
 *
 * // Signing out revokes the refresh family and, through the shared store, its access tokens.
 * await issuer.revokeRefreshToken(pair.refreshToken);
 * assert.equal((await app.request("/api/me", { headers })).status, 401);
 * ```
 *
 * @module
 */
export * from "./auth_error.ts";
export * from "./keys.ts";
export * from "./logger.ts";
export * from "./token_store.ts";
export * from "./token_verifier.ts";
export * from "./token_issuer.ts";
export * from "./api_key.ts";
export * from "./auth_context.ts";
