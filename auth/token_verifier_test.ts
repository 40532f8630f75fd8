import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { createTokenVerifier } from "./token_verifier.ts";
import { createTokenIssuer } from "./token_issuer.ts";
import { createMemoryTokenStore } from "./token_store.ts";
import type { Jwk } from "./keys.ts";

const SECRET = "test-secret-test-secret-test-secret-32";
const BASE = { issuer: "https://auth.test", audience: "api" } as const;
const T0 = Date.UTC(2026, 10, 22, 12);
const subject = { userId: "u1", orgId: "acme", role: "org_user" };
const quiet = { warn: (): void => {} };

const es = await generateKeyPair("ES256", { extractable: true });
const es2 = await generateKeyPair("ES256", { extractable: true });
const esPublic: Jwk = { ...await exportJWK(es.publicKey), kid: "es-1" };
const es2Public: Jwk = { ...await exportJWK(es2.publicKey), kid: "es-2" };

function clock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test("createTokenVerifier() verifies access tokens and returns frozen typed claims", async () => {
  const c = clock();
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k1", now: c.now });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, now: c.now });
  const pair = await issuer.generateTokenPair({
    ...subject,
    scopes: ["a", "b"],
    claims: { tier: "pro" },
  });
  const claims = await verifier.verifyAccessToken(pair.accessToken);
  assert.equal(claims.sub, "u1");
  assert.equal(claims.org_id, "acme");
  assert.equal(claims.role, "org_user");
  assert.equal(claims.scope, "a b");
  assert.equal(claims["tier"], "pro");
  assert.equal(claims.iat, T0 / 1000);
  assert.equal(claims.exp, T0 / 1000 + 900);
  assert.equal(typeof claims.jti, "string");
  assert.ok(Object.isFrozen(claims));
  const refresh = await verifier.verifyRefreshToken(pair.refreshToken);
  assert.equal(refresh.aud, "api:refresh");
  assert.equal(refresh.fam, claims.fam);
});

test("createTokenVerifier() serves a repeated token from the cache until it expires", async () => {
  const c = clock();
  const issuer = createTokenIssuer({
    ...BASE,
    secret: SECRET,
    kid: "k1",
    now: c.now,
    accessTtl: 60_000,
  });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, now: c.now, clockTolerance: 0 });
  const { accessToken } = await issuer.generateTokenPair(subject);
  const first = await verifier.verifyAccessToken(accessToken);
  assert.equal(verifier.cached, 1);
  assert.equal(await verifier.verifyAccessToken(accessToken), first); // the same object: a hit
  c.advance(60_000);
  await assert.rejects(verifier.verifyAccessToken(accessToken), { code: "token_expired" });
  assert.equal(verifier.cached, 0);
});

test("createTokenVerifier() caches no longer than cacheMaxAge and evicts the least recently used", async () => {
  const c = clock();
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k1", now: c.now });
  const verifier = createTokenVerifier({
    ...BASE,
    secret: SECRET,
    now: c.now,
    cacheSize: 2,
    cacheMaxAge: 10_000,
  });
  const [a, b, d] = await Promise.all([1, 2, 3].map(() => issuer.generateTokenPair(subject)));
  const claimsA = await verifier.verifyAccessToken(a!.accessToken);
  await verifier.verifyAccessToken(b!.accessToken);
  assert.equal(await verifier.verifyAccessToken(a!.accessToken), claimsA); // a is now most recent
  await verifier.verifyAccessToken(d!.accessToken); // evicts b
  assert.equal(verifier.cached, 2);
  assert.equal(await verifier.verifyAccessToken(a!.accessToken), claimsA);
  c.advance(10_000);
  assert.notEqual(await verifier.verifyAccessToken(a!.accessToken), claimsA); // re-verified
  verifier.clearCache();
  assert.equal(verifier.cached, 0);
  const uncached = createTokenVerifier({ ...BASE, secret: SECRET, now: c.now, cacheSize: 0 });
  await uncached.verifyAccessToken(a!.accessToken);
  assert.equal(uncached.cached, 0);
});

test("createTokenVerifier() drops a revoked token from the cache at once", async () => {
  const store = createMemoryTokenStore();
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k1", store });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, store });
  const { accessToken } = await issuer.generateTokenPair(subject);
  const claims = await verifier.verifyAccessToken(accessToken);
  await verifier.revoke(claims.jti);
  assert.equal(verifier.cached, 0);
  await assert.rejects(verifier.verifyAccessToken(accessToken), { code: "token_revoked" });
  // Revoked through the issuer (shared store): a cached token is refused on its next use.
  const other = await issuer.generateTokenPair(subject);
  const otherClaims = await verifier.verifyAccessToken(other.accessToken);
  await issuer.revoke(otherClaims.jti);
  await assert.rejects(verifier.verifyAccessToken(other.accessToken), { code: "token_revoked" });
  assert.equal(verifier.cached, 0);
  await assert.rejects(verifier.revoke(""), TypeError);
});

test("createTokenVerifier() works with an asynchronous store", async () => {
  const memory = createMemoryTokenStore();
  const store = {
    useRefreshToken: (jti: string, exp: number, now: number) =>
      Promise.resolve(memory.useRefreshToken(jti, exp, now)),
    revoke: (id: string, exp: number) => Promise.resolve(memory.revoke(id, exp)),
    isRevoked: (id: string) => Promise.resolve(memory.isRevoked(id)),
  };
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k1", store, logger: quiet });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, store });
  const pair = await issuer.generateTokenPair(subject);
  assert.equal((await verifier.verifyAccessToken(pair.accessToken)).sub, "u1");
  await issuer.revokeRefreshToken(pair.refreshToken);
  await assert.rejects(verifier.verifyAccessToken(pair.accessToken), { code: "token_revoked" });
});

test("createTokenVerifier() applies clockTolerance to exp and nbf", async () => {
  const c = clock();
  const issuer = createTokenIssuer({
    ...BASE,
    secret: SECRET,
    kid: "k1",
    now: c.now,
    accessTtl: 60_000,
  });
  const { accessToken } = await issuer.generateTokenPair(subject);
  const lenient = createTokenVerifier({ ...BASE, secret: SECRET, now: () => T0 + 63_000 });
  assert.equal((await lenient.verifyAccessToken(accessToken)).sub, "u1");
  const strict = createTokenVerifier({
    ...BASE,
    secret: SECRET,
    now: () => T0 + 63_000,
    clockTolerance: 1_000,
  });
  await assert.rejects(strict.verifyAccessToken(accessToken), { code: "token_expired" });
});

test("createTokenVerifier() accepts several keys (rotation) and pins each to its algorithm", async () => {
  const verifier = createTokenVerifier({ ...BASE, keys: { keys: [esPublic, es2Public] } });
  for (const [key, kid] of [[es.privateKey, "es-1"], [es2.privateKey, "es-2"]] as const) {
    const issuer = createTokenIssuer({ ...BASE, privateKey: key, kid });
    const { accessToken } = await issuer.generateTokenPair(subject);
    assert.equal((await verifier.verifyAccessToken(accessToken)).sub, "u1");
  }
  const stranger = createTokenIssuer({ ...BASE, privateKey: es.privateKey, kid: "es-9" });
  const { accessToken } = await stranger.generateTokenPair(subject);
  await assert.rejects(verifier.verifyAccessToken(accessToken), { code: "token_invalid" });
});

test("createTokenVerifier() accepts HS256 keys as oct JWKs", async () => {
  const k = btoa(SECRET).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  const verifier = createTokenVerifier({
    ...BASE,
    keys: [{ kty: "oct", kid: "hs", k, alg: "HS256" }],
  });
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "hs" });
  const { accessToken } = await issuer.generateTokenPair(subject);
  assert.equal((await verifier.verifyAccessToken(accessToken)).org_id, "acme");
});

test("createTokenVerifier() rejects tokens that are not strings or are too long", async () => {
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, maxTokenLength: 100 });
  await assert.rejects(verifier.verifyAccessToken(42 as unknown as string), {
    code: "token_malformed",
  });
  await assert.rejects(verifier.verifyAccessToken(""), { code: "token_malformed" });
  await assert.rejects(verifier.verifyAccessToken("a".repeat(101)), { code: "token_malformed" });
});

test("createTokenVerifier() requires sub, org_id, role and jti of the right types", async () => {
  const key = new TextEncoder().encode(SECRET);
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET });
  const base = { sub: "u1", org_id: "acme", role: "org_user" };
  for (
    const payload of [{ ...base, org_id: "" }, { ...base, role: 7 }, { ...base, sub: "" }, {
      ...base,
      scope: 1,
    }]
  ) {
    const token = await new SignJWT(payload as Record<string, unknown>)
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .setIssuer(BASE.issuer).setAudience(BASE.audience).setIssuedAt().setExpirationTime("1m")
      .setJti("j").sign(key);
    await assert.rejects(verifier.verifyAccessToken(token), { code: "token_claims_invalid" });
  }
});

test("createTokenVerifier() validates its options and never echoes a secret", () => {
  const cases: [Record<string, unknown>, ErrorConstructor][] = [
    [{ ...BASE }, TypeError],
    [{ ...BASE, secret: SECRET, keys: [esPublic] }, TypeError],
    [{ ...BASE, secret: "short-secret-123" }, RangeError],
    [{ ...BASE, secret: 42 }, TypeError],
    [{ secret: SECRET, audience: "api" }, TypeError],
    [{ ...BASE, audience: [] }, TypeError],
    [{ ...BASE, secret: SECRET, refreshAudience: "" }, TypeError],
    [{ ...BASE, keys: [] }, TypeError],
    [{ ...BASE, keys: [{ kty: "RSA" }, { kty: "RSA" }] }, TypeError],
    [{ ...BASE, keys: [{ ...esPublic }, { ...esPublic }] }, TypeError],
    [{ ...BASE, keys: [{ ...esPublic, d: "x" }] }, TypeError],
    [{ ...BASE, keys: [{ ...esPublic, use: "enc" }] }, TypeError],
    [{ ...BASE, keys: [{ ...esPublic, kid: "" }] }, TypeError],
    [{ ...BASE, keys: [{ kty: "EC", crv: "P-384" }] }, TypeError],
    [{ ...BASE, keys: [{ kty: "oct", k: "c2hvcnQ" }] }, RangeError],
    [{ ...BASE, keys: [{ kty: "oct", k: "!!" }] }, TypeError],
    [{ ...BASE, keys: ["x"] }, TypeError],
    [{ ...BASE, jwksUrl: "not a url" }, TypeError],
    [{ ...BASE, jwksUrl: "ftp://x/jwks" }, TypeError],
    [{ ...BASE, jwksUrl: "https://x/jwks", algorithms: ["HS256"] }, TypeError],
    [{ ...BASE, jwksUrl: "https://x/jwks", fetch: "no" }, TypeError],
    [{ ...BASE, jwksUrl: "https://x/jwks", jwksTimeout: "soon" }, TypeError],
    [{ ...BASE, secret: SECRET, cacheSize: -1 }, RangeError],
    [{ ...BASE, secret: SECRET, clockTolerance: 1.5 }, RangeError],
    [{ ...BASE, secret: SECRET, now: 5 }, TypeError],
    [{ ...BASE, secret: SECRET, store: {} }, TypeError],
  ];
  for (const [options, type] of cases) {
    assert.throws(() => createTokenVerifier(options as never), (error: unknown) => {
      assert.ok(error instanceof type, `${JSON.stringify(options)}: ${String(error)}`);
      assert.doesNotMatch((error as Error).message, /test-secret/);
      return true;
    });
  }
  assert.throws(() => createTokenVerifier(null as never), TypeError);
});

test("createTokenVerifier() follows key rotation on a remote JWKS served over HTTP", async () => {
  let served: Jwk[] = [esPublic];
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.setHeader("content-type", "application/json");
    res.setHeader("connection", "close");
    res.end(JSON.stringify({ keys: served }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const verifier = createTokenVerifier({
      ...BASE,
      jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      jwksCooldown: 0,
      jwksCacheMaxAge: 3_600_000,
      cacheSize: 0,
    });
    const oldIssuer = createTokenIssuer({ ...BASE, privateKey: es.privateKey, kid: "es-1" });
    const newIssuer = createTokenIssuer({ ...BASE, privateKey: es2.privateKey, kid: "es-2" });
    const oldToken = (await oldIssuer.generateTokenPair(subject)).accessToken;
    const newToken = (await newIssuer.generateTokenPair(subject)).accessToken;

    assert.equal((await verifier.verifyAccessToken(oldToken)).sub, "u1");
    assert.equal(fetches, 1);
    assert.equal((await verifier.verifyAccessToken(oldToken)).sub, "u1");
    assert.equal(fetches, 1, "the key set is cached");

    // Rotation, step 1: the new key is published next to the old one; the unknown kid
    // triggers a refetch and both tokens verify.
    served = [esPublic, es2Public];
    assert.equal((await verifier.verifyAccessToken(newToken)).sub, "u1");
    assert.equal(fetches, 2);
    assert.equal((await verifier.verifyAccessToken(oldToken)).sub, "u1");

    // Step 2: the old key is withdrawn. A fresh verifier (or one past jwksCacheMaxAge)
    // no longer accepts tokens signed with it.
    served = [es2Public];
    const fresh = createTokenVerifier({
      ...BASE,
      jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      jwksCooldown: 0,
    });
    await assert.rejects(fresh.verifyAccessToken(oldToken), { code: "token_invalid" });
    assert.equal((await fresh.verifyAccessToken(newToken)).sub, "u1");
  } finally {
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test("createTokenVerifier() answers key_set_unavailable (503) when the JWKS cannot be fetched", async () => {
  let calls = 0;
  const verifier = createTokenVerifier({
    ...BASE,
    jwksUrl: "https://keys.invalid/jwks.json",
    fetch: () => {
      calls++;
      return Promise.reject(new TypeError("network down"));
    },
  });
  const issuer = createTokenIssuer({ ...BASE, privateKey: es.privateKey, kid: "es-1" });
  const { accessToken } = await issuer.generateTokenPair(subject);
  await assert.rejects(verifier.verifyAccessToken(accessToken), (error: unknown) => {
    assert.equal((error as { code: string }).code, "key_set_unavailable");
    assert.equal((error as { status: number }).status, 503);
    return true;
  });
  assert.equal(calls, 1);
  const hs = await new SignJWT({ sub: "u", org_id: "o", role: "r" })
    .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: "es-1" })
    .sign(new TextEncoder().encode(SECRET));
  await assert.rejects(verifier.verifyAccessToken(hs), { code: "token_invalid" });
  assert.equal(calls, 1, "a disallowed algorithm never reaches the network");
});

test("createTokenVerifier() takes an injected fetch for the JWKS", async () => {
  const urls: string[] = [];
  const verifier = createTokenVerifier({
    ...BASE,
    jwksUrl: new URL("https://keys.example/jwks.json"),
    algorithms: ["ES256"],
    fetch: (input) => {
      urls.push(String(input));
      return Promise.resolve(Response.json({ keys: [esPublic] }));
    },
  });
  const issuer = createTokenIssuer({ ...BASE, privateKey: es.privateKey, kid: "es-1" });
  const { accessToken } = await issuer.generateTokenPair(subject);
  assert.equal((await verifier.verifyAccessToken(accessToken)).org_id, "acme");
  assert.deepEqual(urls, ["https://keys.example/jwks.json"]);
  const stranger = createTokenIssuer({ ...BASE, privateKey: es2.privateKey, kid: "es-2" });
  const other = (await stranger.generateTokenPair(subject)).accessToken;
  await assert.rejects(verifier.verifyAccessToken(other), { code: "token_invalid" });
});

test("createTokenVerifier() serves from the cache only the exact token that was verified", async () => {
  const c = clock();
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k1", now: c.now });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, now: c.now });
  const { accessToken } = await issuer.generateTokenPair({ ...subject, role: "org_user" });
  const claims = await verifier.verifyAccessToken(accessToken);
  // Same signature (so the same end), another payload: must be verified, and fail.
  const [header, , signature] = accessToken.split(".") as [string, string, string];
  const forged = [
    header,
    btoa(JSON.stringify({ ...claims, role: "system_admin" })).replace(/=+$/, "")
      .replace(/\+/g, "-").replace(/\//g, "_"),
    signature,
  ].join(".");
  assert.notEqual(forged.slice(0, -32), accessToken.slice(0, -32));
  assert.equal(forged.slice(-32), accessToken.slice(-32));
  await assert.rejects(verifier.verifyAccessToken(forged), { code: "token_invalid" });
  assert.equal(await verifier.verifyAccessToken(accessToken), claims); // still cached
  assert.equal(verifier.cached, 1);
});

test("createTokenVerifier() keeps recently hit tokens when the cache is full", async () => {
  const c = clock();
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k1", now: c.now });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, now: c.now, cacheSize: 3 });
  const pairs = await Promise.all([1, 2, 3, 4, 5].map(() => issuer.generateTokenPair(subject)));
  const tokens = pairs.map((p) => p.accessToken);
  const first = [];
  for (const t of tokens.slice(0, 3)) first.push(await verifier.verifyAccessToken(t));
  await verifier.verifyAccessToken(tokens[0]!); // hit 0
  await verifier.verifyAccessToken(tokens[2]!); // hit 2
  await verifier.verifyAccessToken(tokens[3]!); // full: evicts 1, the only one not hit
  assert.equal(verifier.cached, 3);
  assert.equal(await verifier.verifyAccessToken(tokens[0]!), first[0]);
  assert.equal(await verifier.verifyAccessToken(tokens[2]!), first[2]);
  assert.notEqual(await verifier.verifyAccessToken(tokens[1]!), first[1]); // verified again
  assert.equal(verifier.cached, 3);
});

test("verifyAccessToken() refuses a token with whitespace or padding before the cache", async () => {
  const c = clock();
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k1", now: c.now });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, now: c.now });
  const { accessToken, refreshToken } = await issuer.generateTokenPair(subject);
  const variants = [
    `${accessToken} `,
    ` ${accessToken}`,
    `${accessToken}\n`,
    `\t${accessToken}`,
    `${accessToken}\t`,
    `${accessToken}=`,
    `${accessToken}\u00a0`,
  ];
  for (const variant of variants) {
    await assert.rejects(verifier.verifyAccessToken(variant), {
      code: "token_malformed",
    }, JSON.stringify(variant.slice(-2)));
  }
  assert.equal(verifier.cached, 0, "no variant took a cache entry");
  await assert.rejects(verifier.verifyRefreshToken(`${refreshToken} `), {
    code: "token_malformed",
  });
  assert.equal((await verifier.verifyAccessToken(accessToken)).sub, "u1");
  assert.equal(verifier.cached, 1);
});

test("revoke() keeps a token revoked until expiresAt plus clockTolerance", async () => {
  const c = clock();
  const store = createMemoryTokenStore({ now: c.now });
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k1", now: c.now, store });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, now: c.now, store });
  const { accessToken } = await issuer.generateTokenPair(subject);
  const claims = await verifier.verifyAccessToken(accessToken);
  await verifier.revoke(claims.jti, claims.exp * 1000);
  c.advance(claims.exp * 1000 - T0 + 4_999); // past exp, inside the 5 s tolerance
  await assert.rejects(verifier.verifyAccessToken(accessToken), { code: "token_revoked" });
  c.advance(1);
  await assert.rejects(verifier.verifyAccessToken(accessToken), { code: "token_expired" });
});

test("revoke() keeps a token with a fractional exp revoked for as long as it verifies", async () => {
  // NumericDate may be fractional (RFC 7519), as from another issuer: jose accepts such a token
  // until the whole second after exp + clockTolerance, so the entry must last that long too.
  const c = clock();
  const store = createMemoryTokenStore({ now: c.now });
  const verifier = createTokenVerifier({ ...BASE, keys: [esPublic], now: c.now, store });
  const exp = T0 / 1000 + 60.5;
  const token = await new SignJWT({ org_id: "acme", role: "org_user" })
    .setProtectedHeader({ alg: "ES256", kid: "es-1", typ: "at+jwt" })
    .setIssuer(BASE.issuer).setAudience(BASE.audience).setSubject("u1")
    .setIssuedAt(T0 / 1000).setExpirationTime(exp).setJti("frac-1")
    .sign(es.privateKey);
  const claims = await verifier.verifyAccessToken(token);
  assert.equal(claims.exp, exp);
  await verifier.revoke(claims.jti, claims.exp * 1000);
  c.advance(65_999); // exp + 5 s has passed, but jose compares whole seconds: still verifies
  await assert.rejects(verifier.verifyAccessToken(token), { code: "token_revoked" });
  c.advance(1);
  await assert.rejects(verifier.verifyAccessToken(token), { code: "token_expired" });
});

test("verifyAccessToken() refuses another spelling of the signature's last character before the cache", async () => {
  // base64url decoders ignore the unused low bits of the last character, so an HS256 signature
  // (43 characters, 2 unused bits) has 4 spellings and an ES256 one (86, 4 unused bits) 16.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const c = clock();
  const hs = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k1", now: c.now });
  const es256 = createTokenIssuer({ ...BASE, privateKey: es.privateKey, kid: "es-1", now: c.now });
  for (
    const [issuer, verifier] of [
      [hs, createTokenVerifier({ ...BASE, secret: SECRET, now: c.now })],
      [es256, createTokenVerifier({ ...BASE, keys: [esPublic], now: c.now })],
    ] as const
  ) {
    const { accessToken, refreshToken } = await issuer.generateTokenPair(subject);
    let accepted = 0;
    for (const char of alphabet) {
      const variant = accessToken.slice(0, -1) + char;
      try {
        await verifier.verifyAccessToken(variant);
        accepted++;
      } catch (error) {
        const code = (error as { code: string }).code;
        assert.ok(code === "token_malformed" || code === "token_invalid", code);
      }
    }
    assert.equal(accepted, 1, `${issuer.algorithm}: only the token as issued verifies`);
    assert.equal(verifier.cached, 1, `${issuer.algorithm}: one cache entry`);
    const unused = accessToken.slice(0, -1) +
      alphabet[alphabet.indexOf(accessToken.at(-1)!) + 1];
    await assert.rejects(verifier.verifyAccessToken(unused), { code: "token_malformed" });
    const refreshVariant = refreshToken.slice(0, -1) +
      alphabet[alphabet.indexOf(refreshToken.at(-1)!) + 1];
    await assert.rejects(verifier.verifyRefreshToken(refreshVariant), { code: "token_malformed" });
  }
});

test("createTokenVerifier() refuses a duration string, naming the option and milliseconds", () => {
  const durations = [
    "clockTolerance",
    "cacheMaxAge",
    "jwksCacheMaxAge",
    "jwksCooldown",
    "jwksTimeout",
  ];
  for (const name of durations) {
    const source = name.startsWith("jwks") ? { jwksUrl: "https://x/jwks" } : { secret: SECRET };
    assert.throws(
      () => createTokenVerifier({ ...BASE, ...source, [name]: "5s" }),
      (error: unknown) => {
        assert.ok(error instanceof TypeError, name);
        assert.match(error.message, new RegExp(`${name} must be a number of milliseconds`));
        return true;
      },
    );
  }
});

test("createTokenVerifier() accepts org_id null only with role system_admin", async () => {
  const key = new TextEncoder().encode(SECRET);
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, cacheSize: 0 });
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k" });
  function forge(payload: Record<string, unknown>, typ = "at+jwt"): Promise<string> {
    return new SignJWT(payload)
      .setProtectedHeader({ alg: "HS256", typ })
      .setIssuer(BASE.issuer).setAudience(typ === "at+jwt" ? BASE.audience : "api:refresh")
      .setIssuedAt().setExpirationTime("1m").setJti(crypto.randomUUID()).sign(key);
  }
  const root = await forge({ sub: "root", org_id: null, role: "system_admin" });
  assert.equal((await verifier.verifyAccessToken(root)).org_id, null);
  // Signed with the right key, yet refused: an org role needs its organisation.
  for (
    const payload of [
      { sub: "u1", org_id: null, role: "org_admin" },
      { sub: "u1", org_id: null, role: "org_user" },
      { sub: "u1", org_id: null, role: "System_Admin" },
      { sub: "u1", org_id: null },
      { sub: "root", role: "system_admin" }, // absent is not null
      { sub: "root", org_id: "", role: "system_admin" },
      { sub: "root", org_id: false, role: "system_admin" },
    ]
  ) {
    await assert.rejects(
      verifier.verifyAccessToken(await forge(payload)),
      (error: unknown) => {
        const e = error as { code: string; status: number; message: string };
        assert.equal(e.code, "token_claims_invalid", JSON.stringify(payload));
        assert.equal(e.status, 401);
        assert.match(e.message, /claim "(org_id|role)" is missing or not valid/);
        return true;
      },
    );
  }
  // The same for refresh tokens: a forged one cannot be rotated into a valid pair.
  const forgedRefresh = await forge(
    { sub: "u1", org_id: null, role: "org_admin", fam: "f1" },
    "refresh+jwt",
  );
  await assert.rejects(verifier.verifyRefreshToken(forgedRefresh), {
    code: "token_claims_invalid",
  });
  await assert.rejects(issuer.rotateRefreshToken(forgedRefresh), {
    code: "token_claims_invalid",
  });
  const rootRefresh = await forge(
    { sub: "root", org_id: null, role: "system_admin", fam: "f2" },
    "refresh+jwt",
  );
  const rotated = await issuer.rotateRefreshToken(rootRefresh);
  assert.equal((await verifier.verifyAccessToken(rotated.accessToken)).org_id, null);
});

test("createTokenVerifier() still accepts tokens with a string org_id, system_admin included", async () => {
  const key = new TextEncoder().encode(SECRET);
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET });
  for (const role of ["system_admin", "org_admin"]) {
    const token = await new SignJWT({ sub: "u1", org_id: "ops", role })
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .setIssuer(BASE.issuer).setAudience(BASE.audience).setIssuedAt().setExpirationTime("1m")
      .setJti("j").sign(key);
    const claims = await verifier.verifyAccessToken(token);
    assert.equal(claims.org_id, "ops");
    assert.equal(claims.role, role);
  }
});
