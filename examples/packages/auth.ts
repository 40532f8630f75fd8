/**
 * `@plinth/auth`: a token pair issued and verified, the refresh token rotated, an API key
 * generated and checked, `authenticate()` of `@plinth/auth/hono` in front of a route, and a
 * replayed refresh token revoking its whole family. Requests go through `app.request()`, so no
 * port is opened. Prints one line per step.
 *
 * Permissions (README, "Deno permissions"): none.
 *
 * ```sh
 * deno run examples/packages/auth.ts
 * ```
 *
 * @module
 */
import { Hono } from "hono";
import { problemHandler } from "@plinth/errors/hono";
import {
  type AuthVariables,
  createMemoryTokenStore,
  createTokenIssuer,
  createTokenVerifier,
  generateApiKey,
  verifyApiKey,
} from "@plinth/auth";
import { authenticate } from "@plinth/auth/hono";

let clock = Date.now(); // injected, so the example can step past the reuse grace period
const common = {
  secret: "an-example-secret-of-at-least-32-bytes!",
  issuer: "https://auth.example.com",
  audience: "api",
  store: createMemoryTokenStore(), // shared: revocations reach the verifier
  now: () => clock,
};
const issuer = createTokenIssuer({
  ...common,
  kid: "hs-example",
  logger: { warn: (message: string) => console.log(`issuer warned: ${message}`) },
});
const verifier = createTokenVerifier(common);

const pair = await issuer.generateTokenPair({ userId: "u1", orgId: "acme", role: "org_admin" });
const claims = await verifier.verifyAccessToken(pair.accessToken);
console.log(`access token: sub ${claims.sub}, org ${claims.org_id}, role ${claims.role}`);
const rotated = await issuer.rotateRefreshToken(pair.refreshToken);
console.log(`rotated: new refresh token ${rotated.refreshToken !== pair.refreshToken}`);

const apiKey = generateApiKey({ prefix: "plk" });
console.log(`api key verifies: ${await verifyApiKey(apiKey.key, apiKey.hash)}`);
const keys = new Map([[apiKey.id, {
  hash: apiKey.hash,
  orgId: "acme",
  role: "org_user" as const,
}]]);

const app = new Hono<{ Variables: AuthVariables }>();
app.onError(problemHandler());
app.use(
  "/api/*",
  authenticate({
    verifier,
    lookupApiKey: (id) => keys.get(id) ?? null,
    logger: { warn: () => {} },
  }),
);
app.get("/api/me", (c) => c.json({ kind: c.var.auth.kind, org: c.var.auth.orgId }));
async function getMe(label: string, headers: Record<string, string>): Promise<void> {
  const res = await app.request("/api/me", { headers });
  const body = await res.json();
  console.log(`GET /api/me ${label} -> ${res.status} ${body.code ?? JSON.stringify(body)}`);
}

await getMe("as user", { authorization: `Bearer ${rotated.accessToken}` });
await getMe("with api key", { "x-api-key": apiKey.key });
await getMe("with a bad token", { authorization: "Bearer x.y.z" });

clock += 11_000; // past reuseGrace (10 s): the old refresh token again is a replay
const replay = await issuer.rotateRefreshToken(pair.refreshToken).then(
  () => "accepted",
  (e) => e.code,
);
console.log(`old refresh token replayed: ${replay}`);
await getMe("as user after the replay", { authorization: `Bearer ${rotated.accessToken}` });
