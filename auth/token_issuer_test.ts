import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { createTokenIssuer } from "./token_issuer.ts";
import { createTokenVerifier } from "./token_verifier.ts";
import { createMemoryTokenStore } from "./token_store.ts";

const SECRET = "issuer-secret-issuer-secret-issuer-32b";
const BASE = { issuer: "https://auth.test", audience: "api" } as const;
const T0 = Date.UTC(2026, 10, 22, 12);
const subject = { userId: "u1", orgId: "acme", role: "org_user" };

const rsa = await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
const ed = await generateKeyPair("EdDSA", { extractable: true });
const es = await generateKeyPair("ES256", { extractable: false });

function capture(): { warn: (m: string, f?: Record<string, unknown>) => void; lines: unknown[] } {
  const lines: unknown[] = [];
  return { lines, warn: (message, fields) => void lines.push({ message, ...fields }) };
}

test("createTokenIssuer() signs with kid, typ and the lifetimes asked for", async () => {
  const issuer = createTokenIssuer({
    ...BASE,
    secret: SECRET,
    kid: "hs-1",
    accessTtl: 5 * 60_000,
    refreshTtl: 7 * 86_400_000,
    now: () => T0,
  });
  const pair = await issuer.generateTokenPair(subject);
  assert.equal(pair.tokenType, "Bearer");
  assert.equal(pair.expiresIn, 300);
  assert.equal(pair.refreshExpiresIn, 7 * 86_400);
  assert.deepEqual(decodeProtectedHeader(pair.accessToken), {
    alg: "HS256",
    kid: "hs-1",
    typ: "at+jwt",
  });
  assert.deepEqual(decodeProtectedHeader(pair.refreshToken), {
    alg: "HS256",
    kid: "hs-1",
    typ: "refresh+jwt",
  });
  assert.equal(issuer.algorithm, "HS256");
  assert.deepEqual(await issuer.jwks(), { keys: [] });
});

for (const [name, keys, alg] of [["RS256", rsa, "RS256"], ["EdDSA", ed, "EdDSA"]] as const) {
  test(`createTokenIssuer() signs ${name} and publishes its public key`, async () => {
    const issuer = createTokenIssuer({ ...BASE, privateKey: keys.privateKey, kid: `${name}-1` });
    assert.equal(issuer.algorithm, alg);
    const jwks = await issuer.jwks();
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]?.kid, `${name}-1`);
    assert.equal(jwks.keys[0]?.["d"], undefined);
    const verifier = createTokenVerifier({ ...BASE, keys: jwks });
    const pair = await issuer.generateTokenPair(subject);
    assert.equal((await verifier.verifyAccessToken(pair.accessToken)).sub, "u1");
    const next = await issuer.rotateRefreshToken(pair.refreshToken);
    assert.equal((await verifier.verifyAccessToken(next.accessToken)).org_id, "acme");
  });
}

test("createTokenIssuer() takes a private JWK (its kid) and a PKCS#8 PEM", async () => {
  const jwk = { ...await exportJWK(rsa.privateKey), kid: "from-jwk" };
  const fromJwk = createTokenIssuer({ ...BASE, privateKey: jwk });
  assert.equal(fromJwk.kid, "from-jwk");
  const pem = await exportPKCS8(rsa.privateKey);
  const fromPem = createTokenIssuer({ ...BASE, privateKey: pem, algorithm: "RS256", kid: "pem" });
  const verifier = createTokenVerifier({
    ...BASE,
    keys: [{ ...await exportJWK(rsa.publicKey), kid: "pem" }],
  });
  const pair = await fromPem.generateTokenPair(subject);
  assert.equal((await verifier.verifyAccessToken(pair.accessToken)).sub, "u1");
  assert.equal((await fromPem.rotateRefreshToken(pair.refreshToken)).tokenType, "Bearer");
  const viaJwk = await fromJwk.generateTokenPair(subject);
  assert.equal((await fromJwk.rotateRefreshToken(viaJwk.refreshToken)).tokenType, "Bearer");
});

test("createTokenIssuer() needs publicKey for a non-extractable private key", async () => {
  assert.throws(
    () => createTokenIssuer({ ...BASE, privateKey: es.privateKey, kid: "es" }),
    /publicKey/,
  );
  const issuer = createTokenIssuer({
    ...BASE,
    privateKey: es.privateKey,
    publicKey: es.publicKey,
    kid: "es",
  });
  const pair = await issuer.generateTokenPair(subject);
  assert.equal((await issuer.rotateRefreshToken(pair.refreshToken)).tokenType, "Bearer");
  const pub = await exportJWK((await generateKeyPair("ES256", { extractable: true })).publicKey);
  const other = createTokenIssuer({
    ...BASE,
    privateKey: es.privateKey,
    publicKey: pub,
    kid: "es",
  });
  await assert.rejects(
    other.rotateRefreshToken((await other.generateTokenPair(subject)).refreshToken),
    { code: "token_invalid" },
  );
});

test("rotateRefreshToken() issues a new pair in the same family and marks the old token used", async () => {
  const store = createMemoryTokenStore();
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k", store });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, store });
  const first = await issuer.generateTokenPair({
    ...subject,
    scopes: ["read"],
    claims: { tier: "pro" },
  });
  const second = await issuer.rotateRefreshToken(first.refreshToken);
  const a = await verifier.verifyRefreshToken(first.refreshToken);
  const b = await verifier.verifyRefreshToken(second.refreshToken);
  assert.equal(a.fam, b.fam);
  assert.notEqual(a.jti, b.jti);
  const access = await verifier.verifyAccessToken(second.accessToken);
  assert.equal(access.scope, "read");
  assert.equal(access["tier"], "pro");
  assert.equal(store.size, 1);
});

test("rotateRefreshToken() allows a concurrent retry within the grace period", async () => {
  let now = T0;
  const issuer = createTokenIssuer({
    ...BASE,
    secret: SECRET,
    kid: "k",
    now: () => now,
    reuseGrace: 10_000,
  });
  const first = await issuer.generateTokenPair(subject);
  const [x, y] = await Promise.all([
    issuer.rotateRefreshToken(first.refreshToken),
    issuer.rotateRefreshToken(first.refreshToken),
  ]);
  assert.notEqual(x.refreshToken, y.refreshToken);
  now += 9_000;
  assert.equal((await issuer.rotateRefreshToken(first.refreshToken)).tokenType, "Bearer");
  assert.equal((await issuer.rotateRefreshToken(x.refreshToken)).tokenType, "Bearer");
});

test("rotateRefreshToken() with reuseGrace 0: a second use in the same millisecond is reuse", async () => {
  const issuer = createTokenIssuer({
    ...BASE,
    secret: SECRET,
    kid: "k",
    now: () => T0,
    reuseGrace: 0,
  });
  const first = await issuer.generateTokenPair(subject);
  const results = await Promise.allSettled([
    issuer.rotateRefreshToken(first.refreshToken),
    issuer.rotateRefreshToken(first.refreshToken),
  ]);
  assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
  const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
  assert.equal((refused.reason as { code?: string }).code, "refresh_token_reused");
});

test("rotateRefreshToken() revokes the whole family when a used token comes back", async () => {
  let now = T0;
  const logger = capture();
  const store = createMemoryTokenStore({ now: () => now });
  const issuer = createTokenIssuer({
    ...BASE,
    secret: SECRET,
    kid: "k",
    now: () => now,
    store,
    logger,
  });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, now: () => now, store });
  const first = await issuer.generateTokenPair(subject);
  const second = await issuer.rotateRefreshToken(first.refreshToken);
  const unrelated = await issuer.generateTokenPair({ ...subject, userId: "u2" });
  now += 11_000;
  await assert.rejects(issuer.rotateRefreshToken(first.refreshToken), (error: unknown) => {
    assert.equal((error as { code: string }).code, "refresh_token_reused");
    assert.equal((error as { status: number }).status, 401);
    return true;
  });
  await assert.rejects(issuer.rotateRefreshToken(second.refreshToken), { code: "token_revoked" });
  await assert.rejects(verifier.verifyAccessToken(second.accessToken), { code: "token_revoked" });
  assert.equal((await verifier.verifyAccessToken(unrelated.accessToken)).sub, "u2");
  assert.equal((await issuer.rotateRefreshToken(unrelated.refreshToken)).tokenType, "Bearer");
  assert.equal(logger.lines.length, 1);
  assert.doesNotMatch(JSON.stringify(logger.lines), new RegExp(first.refreshToken.slice(-20)));
});

test("rotateRefreshToken() refuses access tokens and expired refresh tokens", async () => {
  let now = T0;
  const issuer = createTokenIssuer({
    ...BASE,
    secret: SECRET,
    kid: "k",
    now: () => now,
    refreshTtl: 3_600_000,
  });
  const pair = await issuer.generateTokenPair(subject);
  await assert.rejects(issuer.rotateRefreshToken(pair.accessToken), { code: "token_wrong_kind" });
  now += 3_600_000 + 6_000;
  await assert.rejects(issuer.rotateRefreshToken(pair.refreshToken), { code: "token_expired" });
});

test("rotateRefreshToken() re-reads the subject through refreshSubject", async () => {
  let role = "org_admin";
  let gone = false;
  const store = createMemoryTokenStore();
  const issuer = createTokenIssuer({
    ...BASE,
    secret: SECRET,
    kid: "k",
    store,
    logger: capture(),
    refreshSubject: (claims) => gone ? null : { userId: claims.sub, orgId: claims.org_id, role },
  });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, store });
  const first = await issuer.generateTokenPair(subject);
  role = "org_user";
  const second = await issuer.rotateRefreshToken(first.refreshToken);
  assert.equal((await verifier.verifyAccessToken(second.accessToken)).role, "org_user");
  gone = true;
  await assert.rejects(issuer.rotateRefreshToken(second.refreshToken), { code: "token_revoked" });
  await assert.rejects(verifier.verifyAccessToken(second.accessToken), { code: "token_revoked" });
});

test("revokeRefreshToken() signs out the family; revoke() removes one token", async () => {
  const store = createMemoryTokenStore();
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k", store });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, store });
  const pair = await issuer.generateTokenPair(subject);
  await issuer.revokeRefreshToken(pair.refreshToken);
  await assert.rejects(issuer.rotateRefreshToken(pair.refreshToken), { code: "token_revoked" });
  await assert.rejects(verifier.verifyAccessToken(pair.accessToken), { code: "token_revoked" });
  const other = await issuer.generateTokenPair(subject);
  const claims = await verifier.verifyAccessToken(other.accessToken);
  await issuer.revoke(claims.jti);
  await assert.rejects(verifier.verifyAccessToken(other.accessToken), { code: "token_revoked" });
  await assert.rejects(issuer.revoke(""), TypeError);
});

test("generateTokenPair() checks the subject, scopes and claims", async () => {
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k" });
  for (
    const bad of [
      null,
      { ...subject, userId: "" },
      { ...subject, orgId: 5 },
      { ...subject, role: undefined },
      { ...subject, scopes: ["has space"] },
      { ...subject, scopes: "read" },
      { ...subject, claims: { org_id: "other" } },
      { ...subject, claims: { exp: 1 } },
    ]
  ) {
    await assert.rejects(issuer.generateTokenPair(bad as never), TypeError, JSON.stringify(bad));
  }
});

test("createTokenIssuer() validates its options and never echoes a secret", () => {
  const cases: [Record<string, unknown>, ErrorConstructor][] = [
    [{ ...BASE, kid: "k" }, TypeError],
    [{ ...BASE, kid: "k", secret: SECRET, privateKey: rsa.privateKey }, TypeError],
    [{ ...BASE, kid: "k", secret: "too-short-secret" }, RangeError],
    [{ ...BASE, secret: SECRET }, TypeError],
    [{ ...BASE, kid: "", secret: SECRET }, TypeError],
    [{ ...BASE, kid: "k", secret: SECRET, algorithm: "RS256" }, TypeError],
    [{ ...BASE, kid: "k", secret: SECRET, algorithm: "none" }, TypeError],
    [{ ...BASE, kid: "k", privateKey: rsa.publicKey }, TypeError],
    [{ ...BASE, kid: "k", privateKey: rsa.privateKey, algorithm: "ES256" }, TypeError],
    [{ ...BASE, kid: "k", privateKey: "-----BEGIN PRIVATE KEY-----" }, TypeError],
    [{ ...BASE, kid: "k", privateKey: "secret-looking-text" }, TypeError],
    [{ ...BASE, kid: "k", privateKey: { kty: "RSA", n: "x", e: "AQAB" } }, TypeError],
    [{ ...BASE, kid: "k", privateKey: { kty: "EC", crv: "P-521", d: "x" } }, TypeError],
    [{ ...BASE, kid: "k", privateKey: 42 }, TypeError],
    [{ ...BASE, kid: "k", privateKey: es.privateKey, publicKey: rsa.publicKey }, TypeError],
    [{
      ...BASE,
      kid: "k",
      privateKey: es.privateKey,
      publicKey: { kty: "OKP", crv: "Ed25519", x: "AA" },
    }, TypeError],
    [{ issuer: "", audience: "api", kid: "k", secret: SECRET }, TypeError],
    [{ ...BASE, kid: "k", secret: SECRET, refreshAudience: "api" }, TypeError],
    [{ ...BASE, kid: "k", secret: SECRET, accessTtl: "15 minutes" }, TypeError],
    [{ ...BASE, kid: "k", secret: SECRET, accessTtl: 10 }, RangeError],
    [{ ...BASE, kid: "k", secret: SECRET, reuseGrace: -1 }, RangeError],
    [{ ...BASE, kid: "k", secret: SECRET, now: "soon" }, TypeError],
    [{ ...BASE, kid: "k", secret: SECRET, refreshSubject: {} }, TypeError],
    [{ ...BASE, kid: "k", secret: SECRET, logger: {} }, TypeError],
    [{ ...BASE, kid: "k", secret: SECRET, store: { revoke() {} } }, TypeError],
  ];
  for (const [options, type] of cases) {
    assert.throws(() => createTokenIssuer(options as never), (error: unknown) => {
      assert.ok(error instanceof type, `${Object.keys(options)}: ${String(error)}`);
      assert.doesNotMatch((error as Error).message, /issuer-secret|secret-looking/);
      return true;
    });
  }
  assert.throws(() => createTokenIssuer(undefined as never), TypeError);
});

// Reuse detection has to outlive verification: a refresh token verifies until its exp plus
// clockTolerance, so the store must remember it was used (and its family revoked) that long.
function replaySetup(): {
  issuer: ReturnType<typeof createTokenIssuer>;
  verifier: ReturnType<typeof createTokenVerifier>;
  logger: ReturnType<typeof capture>;
  setNow: (t: number) => void;
} {
  let now = T0;
  const store = createMemoryTokenStore({ now: () => now });
  const logger = capture();
  const common = { ...BASE, secret: SECRET, store, now: () => now };
  const issuer = createTokenIssuer({
    ...common,
    kid: "k",
    refreshTtl: 3_600_000,
    clockTolerance: 5_000,
    logger,
  });
  const verifier = createTokenVerifier({ ...common, clockTolerance: 5_000 });
  return { issuer, verifier, logger, setNow: (t) => void (now = t) };
}

test("rotateRefreshToken() refuses a replayed token within clockTolerance after exp", async () => {
  const { issuer, verifier, logger, setNow } = replaySetup();
  const first = await issuer.generateTokenPair(subject);
  const second = await issuer.rotateRefreshToken(first.refreshToken);
  const { exp } = await verifier.verifyRefreshToken(first.refreshToken);
  setNow(exp * 1000 + 4_999); // expired, but still inside the 5 s tolerance
  await assert.rejects(issuer.rotateRefreshToken(first.refreshToken), {
    code: "refresh_token_reused",
  });
  await assert.rejects(issuer.rotateRefreshToken(second.refreshToken), { code: "token_revoked" });
  assert.equal(logger.lines.length, 1);
});

test("rotateRefreshToken() refuses a replayed token as expired once past exp + clockTolerance", async () => {
  const { issuer, verifier, setNow } = replaySetup();
  const first = await issuer.generateTokenPair(subject);
  await issuer.rotateRefreshToken(first.refreshToken);
  const { exp } = await verifier.verifyRefreshToken(first.refreshToken);
  setNow(exp * 1000 + 5_000);
  await assert.rejects(issuer.rotateRefreshToken(first.refreshToken), { code: "token_expired" });
});

test("revokeRefreshToken() keeps the family revoked while its tokens verify within clockTolerance", async () => {
  const { issuer, verifier, setNow } = replaySetup();
  const pair = await issuer.generateTokenPair(subject);
  await issuer.revokeRefreshToken(pair.refreshToken);
  const exp = decodeJwt(pair.refreshToken).exp as number;
  setNow(exp * 1000 + 4_999);
  await assert.rejects(issuer.rotateRefreshToken(pair.refreshToken), { code: "token_revoked" });
  await assert.rejects(verifier.verifyRefreshToken(pair.refreshToken), { code: "token_revoked" });
  setNow(exp * 1000 + 5_000);
  await assert.rejects(issuer.rotateRefreshToken(pair.refreshToken), { code: "token_expired" });
});

test("revoke() keeps a token revoked until its expiry plus clockTolerance", async () => {
  const { issuer, verifier, setNow } = replaySetup();
  const pair = await issuer.generateTokenPair(subject);
  const claims = await verifier.verifyAccessToken(pair.accessToken);
  await issuer.revoke(claims.jti, claims.exp * 1000);
  setNow(claims.exp * 1000 + 4_999);
  await assert.rejects(verifier.verifyAccessToken(pair.accessToken), { code: "token_revoked" });
});

test("rotateRefreshToken() words its failures for the refresh token", async () => {
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k" });
  const pair = await issuer.generateTokenPair(subject);
  const cases: [unknown, string, string][] = [
    [pair.accessToken, "token_wrong_kind", "The token is not a refresh token"],
    [undefined, "token_malformed", "The refresh token is malformed"],
    ["", "token_malformed", "The refresh token is malformed"],
    ["a.b", "token_malformed", "The refresh token is malformed"],
    [`${pair.refreshToken.slice(0, -4)}AAAA`, "token_invalid", "The refresh token is not valid"],
  ];
  for (const [token, code, detail] of cases) {
    await assert.rejects(issuer.rotateRefreshToken(token as string), (error: unknown) => {
      const e = error as { code: string; detail: string; headers: Record<string, string> };
      assert.equal(e.code, code, String(token).slice(0, 8));
      assert.equal(e.detail, detail, code);
      assert.doesNotMatch(e.headers["www-authenticate"] ?? "", /access token/);
      return true;
    });
  }
  await assert.rejects(issuer.revokeRefreshToken(pair.accessToken), {
    detail: "The token is not a refresh token",
  });
});

test("createTokenIssuer() refuses a duration string, naming the option and milliseconds", () => {
  for (const name of ["accessTtl", "refreshTtl", "reuseGrace", "clockTolerance"]) {
    assert.throws(
      () => createTokenIssuer({ ...BASE, kid: "k", secret: SECRET, [name]: "15m" }),
      (error: unknown) => {
        assert.ok(error instanceof TypeError, name);
        assert.match(error.message, new RegExp(`${name} must be a number of milliseconds`));
        assert.doesNotMatch(error.message, /15m/);
        return true;
      },
    );
  }
  const issuer = createTokenIssuer({ ...BASE, kid: "k", secret: SECRET, accessTtl: 120_000 });
  assert.equal(issuer.kid, "k");
});

test("generateTokenPair() gives expiresAt and refreshExpiresAt in epoch milliseconds", async () => {
  const t = Date.UTC(2026, 10, 22, 12, 0, 0, 400);
  const issuer = createTokenIssuer({
    ...BASE,
    kid: "k",
    secret: SECRET,
    accessTtl: 60_000,
    refreshTtl: 3_600_000,
    now: () => t,
  });
  const pair = await issuer.generateTokenPair({ userId: "u1", orgId: "acme", role: "org_user" });
  assert.equal(pair.expiresAt, Date.UTC(2026, 10, 22, 12, 1, 0));
  assert.equal(pair.refreshExpiresAt, Date.UTC(2026, 10, 22, 13, 0, 0));
  assert.equal(pair.expiresAt, (decodeJwt(pair.accessToken).exp as number) * 1000);
  assert.equal(pair.expiresIn, 60);
});

const root = { userId: "root", orgId: null, role: "system_admin" } as const;

test("generateTokenPair() gives a system administrator org_id null in both tokens", async () => {
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k", now: () => T0 });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, now: () => T0 });
  const pair = await issuer.generateTokenPair({ ...root, scopes: ["ops"] });
  for (const token of [pair.accessToken, pair.refreshToken]) {
    const payload = decodeJwt(token);
    assert.ok(Object.hasOwn(payload, "org_id"), "org_id is written, as null");
    assert.equal(payload["org_id"], null);
    assert.equal(payload["role"], "system_admin");
  }
  const access = await verifier.verifyAccessToken(pair.accessToken);
  assert.equal(access.org_id, null);
  assert.equal(access.sub, "root");
  assert.equal(access.scope, "ops");
  assert.equal((await verifier.verifyRefreshToken(pair.refreshToken)).org_id, null);
});

test("generateTokenPair() refuses a null orgId for every role but system_admin", async () => {
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k" });
  for (const role of ["org_admin", "org_user", "support", "System_Admin", "system_admin "]) {
    await assert.rejects(
      issuer.generateTokenPair({ userId: "u1", orgId: null, role }),
      (error: unknown) => {
        assert.ok(error instanceof TypeError, role);
        assert.equal(
          error.message,
          'Cannot generate token pair: orgId may be null only for role "system_admin"',
        );
        return true;
      },
    );
  }
  // A system administrator's missing organisation is null, not absent or empty.
  for (const orgId of [undefined, "", 0]) {
    await assert.rejects(
      issuer.generateTokenPair({ ...root, orgId } as never),
      {
        name: "TypeError",
        message:
          'Cannot generate token pair: orgId must be a non-empty string (or null for role "system_admin")',
      },
      String(orgId),
    );
  }
});

test("generateTokenPair() still gives a system administrator with an organisation a string org_id", async () => {
  const issuer = createTokenIssuer({ ...BASE, secret: SECRET, kid: "k" });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET });
  const pair = await issuer.generateTokenPair({ ...root, orgId: "ops" });
  assert.equal((await verifier.verifyAccessToken(pair.accessToken)).org_id, "ops");
  const next = await issuer.rotateRefreshToken(pair.refreshToken);
  assert.equal((await verifier.verifyAccessToken(next.accessToken)).org_id, "ops");
});

test("rotateRefreshToken() keeps a system administrator's null org_id and detects reuse", async () => {
  let now = T0;
  const store = createMemoryTokenStore({ now: () => now });
  const logger = capture();
  const issuer = createTokenIssuer({
    ...BASE,
    secret: SECRET,
    kid: "k",
    store,
    logger,
    now: () => now,
  });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET, store, now: () => now });
  const first = await issuer.generateTokenPair(root);
  const second = await issuer.rotateRefreshToken(first.refreshToken);
  const third = await issuer.rotateRefreshToken(second.refreshToken);
  const claims = await verifier.verifyAccessToken(third.accessToken);
  assert.equal(claims.org_id, null);
  assert.equal(claims.role, "system_admin");
  assert.equal(Object.hasOwn(decodeJwt(third.refreshToken), "org_id"), true);
  assert.equal(
    (await verifier.verifyRefreshToken(third.refreshToken)).fam,
    (await verifier.verifyRefreshToken(first.refreshToken)).fam,
  );
  now += 11_000;
  await assert.rejects(issuer.rotateRefreshToken(first.refreshToken), {
    code: "refresh_token_reused",
  });
  await assert.rejects(verifier.verifyAccessToken(third.accessToken), { code: "token_revoked" });
  assert.deepEqual(logger.lines.map((l) => (l as Record<string, unknown>)["org_id"]), [null]);
});

test("rotateRefreshToken() through refreshSubject moves a user into and out of an organisation", async () => {
  let fresh: { userId: string; orgId: string | null; role: string } = root;
  const issuer = createTokenIssuer({
    ...BASE,
    secret: SECRET,
    kid: "k",
    refreshSubject: () => fresh,
  });
  const verifier = createTokenVerifier({ ...BASE, secret: SECRET });
  const first = await issuer.generateTokenPair(subject);
  const promoted = await issuer.rotateRefreshToken(first.refreshToken);
  assert.equal((await verifier.verifyAccessToken(promoted.accessToken)).org_id, null);
  fresh = { userId: "root", orgId: "acme", role: "org_admin" };
  const demoted = await issuer.rotateRefreshToken(promoted.refreshToken);
  const claims = await verifier.verifyAccessToken(demoted.accessToken);
  assert.equal(claims.org_id, "acme");
  assert.equal(claims.role, "org_admin");
  // A subject that lost its organisation but kept an org role is a bug in refreshSubject.
  fresh = { userId: "root", orgId: null, role: "org_admin" };
  await assert.rejects(issuer.rotateRefreshToken(demoted.refreshToken), {
    name: "TypeError",
    message: /orgId may be null only for role "system_admin"/,
  });
});
