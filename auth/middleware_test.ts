import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Hono } from "hono";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { problemHandler } from "@plinth/errors/hono";
import { createLogger, setLogger } from "@plinth/logging";
import { authenticate, type AuthenticateOptions } from "./middleware.ts";
import type { ApiKeyRecord, AuthVariables, OptionalAuthVariables } from "./auth_context.ts";
import { createTokenIssuer } from "./token_issuer.ts";
import { createTokenVerifier } from "./token_verifier.ts";
import { createMemoryTokenStore } from "./token_store.ts";
import { generateApiKey } from "./api_key.ts";

const BASE = { issuer: "https://auth.test", audience: "api" } as const;
const T0 = Date.UTC(2026, 10, 22, 12);
const subject = { userId: "u1", orgId: "acme", role: "org_admin" };
const rsa = await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
const publicJwk = { ...await exportJWK(rsa.publicKey), kid: "rsa-1" };
const spki = await exportSPKI(rsa.publicKey);

let now = T0;
const clock = (): number => now;
const store = createMemoryTokenStore({ now: clock });
const issuerOptions = { ...BASE, privateKey: rsa.privateKey, kid: "rsa-1", store, now: clock };
const issuer = createTokenIssuer({ ...issuerOptions, logger: { warn: () => {} } });
const verifier = createTokenVerifier({ ...BASE, keys: [publicJwk], store, now: clock });

const live = generateApiKey({ prefix: "plk" });
const revoked = generateApiKey({ prefix: "plk" });
const expired = generateApiKey({ prefix: "plk" });
const records = new Map<string, ApiKeyRecord>([
  [live.id, { hash: live.hash, orgId: "acme", role: "org_user", scopes: ["use_api"] }],
  [revoked.id, {
    hash: revoked.hash,
    orgId: "acme",
    role: "org_user",
    revokedAt: T0 - 1,
  }],
  [expired.id, { hash: expired.hash, orgId: "acme", role: "org_user", expiresAt: T0 - 1 }],
]);

const B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function b64url(value: string | Uint8Array): string {
  const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
  return btoa(String.fromCharCode(...bytes)).replace(/=+$/, "").replace(/\+/g, "-").replace(
    /\//g,
    "_",
  );
}

function sign(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: "rsa-1", typ: "at+jwt", ...header })
    .setIssuer(BASE.issuer).setAudience(BASE.audience).setIssuedAt(Math.floor(now / 1000))
    .setJti(crypto.randomUUID()).setSubject("u1");
  if (!("noExp" in header)) jwt = jwt.setExpirationTime(Math.floor(now / 1000) + 600);
  return jwt.sign(rsa.privateKey);
}

interface Harness {
  app: Hono<{ Variables: AuthVariables }>;
  logs: Record<string, unknown>[];
}

function harness(extra: Partial<AuthenticateOptions> = {}, withHandler = true): Harness {
  const logs: Record<string, unknown>[] = [];
  const app = new Hono<{ Variables: AuthVariables }>();
  if (withHandler) app.onError(problemHandler({ logger: { error: () => {} } }));
  app.post("/token/refresh", async (c) => {
    const { refresh_token } = await c.req.json();
    return c.json(await issuer.rotateRefreshToken(refresh_token));
  });
  app.use(
    "/api/*",
    authenticate({
      verifier,
      lookupApiKey: (id) => records.get(id) ?? null,
      logger: { warn: (message, fields) => void logs.push({ message, ...fields }) },
      now: clock,
      ...extra,
    }),
  );
  app.get("/api/me", (c) => c.json(c.var.auth));
  return { app, logs };
}

async function expect401(
  h: Harness,
  headers: Record<string, string>,
  code: string,
  label: string,
  secret?: string,
): Promise<void> {
  const res = await h.app.request("/api/me", { headers });
  assert.equal(res.status, 401, label);
  assert.equal(res.headers.get("content-type"), "application/problem+json", label);
  assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/, label);
  const body = await res.json();
  assert.equal(body.code, code, label);
  const text = JSON.stringify(body) + JSON.stringify(h.logs);
  if (secret !== undefined && secret.length >= 16) {
    assert.equal(text.includes(secret.slice(-16)), false, `${label}: leaked`);
  }
}

function tamper(token: string, part: number, edit: (s: string) => string): string {
  const parts = token.split(".");
  parts[part] = edit(parts[part]!);
  return parts.join(".");
}

test("authenticate() sets c.var.auth for a valid access token", async () => {
  const h = harness();
  const pair = await issuer.generateTokenPair({ ...subject, scopes: ["a", "b"] });
  const res = await h.app.request("/api/me", {
    headers: { authorization: `Bearer ${pair.accessToken}` },
  });
  assert.equal(res.status, 200);
  const auth = await res.json();
  assert.equal(auth.kind, "user");
  assert.equal(auth.userId, "u1");
  assert.equal(auth.orgId, "acme");
  assert.equal(auth.role, "org_admin");
  assert.deepEqual(auth.scopes, ["a", "b"]);
  assert.equal(typeof auth.tokenId, "string");
  const lower = await h.app.request("/api/me", {
    headers: { authorization: `bearer  ${pair.accessToken} ` },
  });
  assert.equal(lower.status, 200);
});

test("authenticate() accepts API keys in X-API-Key and as a bearer token", async () => {
  const h = harness();
  for (const headers of [{ "x-api-key": live.key }, { authorization: `Bearer ${live.key}` }]) {
    const res = await h.app.request("/api/me", { headers });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      kind: "api_key",
      keyId: live.id,
      orgId: "acme",
      role: "org_user",
      scopes: ["use_api"],
    });
  }
  const custom = harness({ apiKeyHeader: "x-plinth-key" });
  assert.equal(
    (await custom.app.request("/api/me", { headers: { "x-plinth-key": live.key } })).status,
    200,
  );
});

test("authenticate() rejects the attack corpus with 401 problems, never 500", async () => {
  const h = harness();
  const t = Math.floor(now / 1000);
  const good = await issuer.generateTokenPair(subject);
  const [header, payload] = good.accessToken.split(".") as [string, string, string];
  const noneToken = `${
    b64url(JSON.stringify({ alg: "none", typ: "at+jwt", kid: "rsa-1" }))
  }.${payload}.`;
  const hsHeader = b64url(JSON.stringify({ alg: "HS256", typ: "at+jwt", kid: "rsa-1" }));
  const hsSig = b64url(createHmac("sha256", spki).update(`${hsHeader}.${payload}`).digest());
  const hsJwkSig = b64url(
    createHmac("sha256", JSON.stringify(publicJwk)).update(`${hsHeader}.${payload}`).digest(),
  );
  const otherIssuer = createTokenIssuer({ ...issuerOptions, issuer: "https://evil.test" });
  const otherAudience = createTokenIssuer({ ...issuerOptions, audience: "billing" });
  const expiredIssuer = createTokenIssuer({ ...issuerOptions, now: () => T0 - 3_600_000 });
  const claims = { org_id: "acme", role: "org_admin" };
  const tamperedPayload = `${header}.${
    b64url(JSON.stringify({
      ...JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))),
      org_id: "globex",
    }))
  }.${good.accessToken.split(".")[2]}`;
  const badChecksum = live.key.slice(0, -1) + (live.key.endsWith("A") ? "B" : "A");
  const corpus: [string, Record<string, string>, string][] = [
    ["missing credentials", {}, "credentials_missing"],
    ["alg: none", { authorization: `Bearer ${noneToken}` }, "token_invalid"],
    ["HS256 signed with the RSA public key (PEM)", {
      authorization: `Bearer ${hsHeader}.${payload}.${hsSig}`,
    }, "token_invalid"],
    ["HS256 signed with the RSA public key (JWK)", {
      authorization: `Bearer ${hsHeader}.${payload}.${hsJwkSig}`,
    }, "token_invalid"],
    ["expired", {
      authorization: `Bearer ${(await expiredIssuer.generateTokenPair(subject)).accessToken}`,
    }, "token_expired"],
    ["nbf in the future", {
      authorization: `Bearer ${await new SignJWT(claims).setProtectedHeader({
        alg: "RS256",
        kid: "rsa-1",
        typ: "at+jwt",
      }).setIssuer(BASE.issuer).setAudience(BASE.audience).setIssuedAt(t).setNotBefore(t + 600)
        .setExpirationTime(t + 1200).setJti("j").setSubject("u1").sign(rsa.privateKey)}`,
    }, "token_not_yet_valid"],
    ["wrong iss", {
      authorization: `Bearer ${(await otherIssuer.generateTokenPair(subject)).accessToken}`,
    }, "token_claims_invalid"],
    ["wrong aud", {
      authorization: `Bearer ${(await otherAudience.generateTokenPair(subject)).accessToken}`,
    }, "token_claims_invalid"],
    [
      "missing exp",
      { authorization: `Bearer ${await sign(claims, { noExp: true })}` },
      "token_claims_invalid",
    ],
    [
      "missing typ",
      { authorization: `Bearer ${await sign(claims, { typ: undefined })}` },
      "token_wrong_kind",
    ],
    [
      "missing org_id",
      { authorization: `Bearer ${await sign({ role: "org_admin" })}` },
      "token_claims_invalid",
    ],
    [
      "org_id null for an org role",
      { authorization: `Bearer ${await sign({ org_id: null, role: "org_admin" })}` },
      "token_claims_invalid",
    ],
    [
      "org_id null for a role spelled like system_admin",
      { authorization: `Bearer ${await sign({ org_id: null, role: "SYSTEM_ADMIN" })}` },
      "token_claims_invalid",
    ],
    [
      "system_admin without org_id",
      { authorization: `Bearer ${await sign({ role: "system_admin" })}` },
      "token_claims_invalid",
    ],
    [
      "unknown kid",
      { authorization: `Bearer ${await sign(claims, { kid: "rsa-9" })}` },
      "token_invalid",
    ],
    [
      "refresh token used as access token",
      { authorization: `Bearer ${good.refreshToken}` },
      "token_wrong_kind",
    ],
    ["tampered payload", { authorization: `Bearer ${tamperedPayload}` }, "token_invalid"],
    ["tampered signature", {
      authorization: `Bearer ${
        tamper(
          good.accessToken,
          2,
          (s) => s.slice(0, 10) + (s[10] === "A" ? "B" : "A") + s.slice(11),
        )
      }`,
    }, "token_invalid"],
    [
      // Cut to a whole number of base64url quads (342 - 14 = 328 characters), so that what is
      // left is well formed and only the signature is wrong.
      "truncated token",
      { authorization: `Bearer ${good.accessToken.slice(0, -14)}` },
      "token_invalid",
    ],
    ["two-part token", { authorization: `Bearer ${header}.${payload}` }, "token_malformed"],
    [
      "100 KB token",
      { authorization: `Bearer ${"a".repeat(50_000)}.${"b".repeat(50_000)}.c` },
      "token_malformed",
    ],
    ["non-base64 garbage", { authorization: "Bearer !!!.@@@.###" }, "token_malformed"],
    [
      "JSON garbage in a header",
      { authorization: `Bearer ${b64url("{not json")}.${payload}.x` },
      "token_malformed",
    ],
    ["empty bearer", { authorization: "Bearer " }, "token_malformed"],
    ["Basic scheme", { authorization: "Basic dTpw" }, "token_malformed"],
    ["bearer with spaces", { authorization: "Bearer a b" }, "token_malformed"],
    // A token with padding or whitespace in it would verify as a distinct claims-cache entry.
    ["padded token", { authorization: `Bearer ${good.accessToken}==` }, "token_malformed"],
    ["token with a tab inside", {
      authorization: `Bearer ${good.accessToken.slice(0, 20)}\t${good.accessToken.slice(20)}`,
    }, "token_malformed"],
    ["token with a vertical tab after it", {
      authorization: `Bearer ${good.accessToken}\v=`,
    }, "token_malformed"],
    // The signature's last character with its unused low bits set: the same bytes once decoded.
    ["signature spelled another way", {
      authorization: `Bearer ${good.accessToken.slice(0, -1)}${
        B64URL_ALPHABET[B64URL_ALPHABET.indexOf(good.accessToken.at(-1)!) + 1]
      }`,
    }, "token_malformed"],
    ["JWT in X-API-Key", { "x-api-key": good.accessToken }, "api_key_malformed"],
    ["API key with a bad checksum", { "x-api-key": badChecksum }, "api_key_malformed"],
    [
      "API key with a bad checksum as bearer",
      { authorization: `Bearer ${badChecksum}` },
      "api_key_malformed",
    ],
    ["unknown API key", { "x-api-key": generateApiKey().key }, "api_key_invalid"],
    [
      "API key with another prefix",
      { "x-api-key": generateApiKey({ prefix: "test" }).key },
      "api_key_malformed",
    ],
    ["revoked API key", { "x-api-key": revoked.key }, "api_key_revoked"],
    ["expired API key", { "x-api-key": expired.key }, "api_key_expired"],
    ["both a token and a key", {
      authorization: `Bearer ${good.accessToken}`,
      "x-api-key": live.key,
    }, "credentials_conflict"],
  ];
  for (const [label, headers, code] of corpus) {
    const secret = headers["authorization"]?.slice(7) ?? headers["x-api-key"];
    await expect401(h, headers, code, label, secret);
  }
  assert.equal(h.logs.length, corpus.length);
  for (const line of h.logs) {
    assert.equal(line["message"], "Authentication failed");
    assert.equal(typeof line["reason"], "string");
    assert.equal(line["path"], "/api/me");
  }
});

test("authenticate() refuses a used refresh token and then its whole family", async () => {
  const h = harness();
  const first = await issuer.generateTokenPair(subject);
  const refresh = (token: string): Promise<Response> =>
    Promise.resolve(h.app.request("/token/refresh", {
      method: "POST",
      body: JSON.stringify({ refresh_token: token }),
    }));
  const ok = await refresh(first.refreshToken);
  assert.equal(ok.status, 200);
  const second = await ok.json();
  now += 60_000;
  try {
    const reused = await refresh(first.refreshToken);
    assert.equal(reused.status, 401);
    assert.equal((await reused.json()).code, "refresh_token_reused");
    assert.match(reused.headers.get("www-authenticate") ?? "", /invalid_token/);
    const family = await refresh(second.refreshToken);
    assert.equal(family.status, 401);
    assert.equal((await family.json()).code, "token_revoked");
    await expect401(
      h,
      { authorization: `Bearer ${second.accessToken}` },
      "token_revoked",
      "family access token",
    );
    const accessAsRefresh = await refresh((await issuer.generateTokenPair(subject)).accessToken);
    assert.equal(accessAsRefresh.status, 401);
    const wrongKind = await accessAsRefresh.json();
    assert.equal(wrongKind.code, "token_wrong_kind");
    assert.equal(wrongKind.detail, "The token is not a refresh token");
    const none = await refresh(undefined as unknown as string);
    assert.equal(none.status, 401);
    assert.equal((await none.json()).detail, "The refresh token is malformed");
  } finally {
    now = T0;
  }
});

test("authenticate() refuses a used refresh token replayed within clockTolerance after exp", async () => {
  const h = harness();
  const refresh = (token: string): Promise<Response> =>
    Promise.resolve(h.app.request("/token/refresh", {
      method: "POST",
      body: JSON.stringify({ refresh_token: token }),
    }));
  const first = await issuer.generateTokenPair(subject);
  const ok = await refresh(first.refreshToken);
  assert.equal(ok.status, 200);
  const second = await ok.json();
  const exp = JSON.parse(
    atob(first.refreshToken.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")),
  )
    .exp as number;
  try {
    now = exp * 1000 + 4_999; // expired, but verified within the default 5 s tolerance
    const replayed = await refresh(first.refreshToken);
    assert.equal(replayed.status, 401);
    assert.equal((await replayed.json()).code, "refresh_token_reused");
    const family = await refresh(second.refreshToken);
    assert.equal((await family.json()).code, "token_revoked");
    now = exp * 1000 + 5_000;
    const late = await refresh(first.refreshToken);
    assert.equal((await late.json()).code, "token_expired");
  } finally {
    now = T0;
  }
});

test("authenticate() renders 401s through Hono's default handler too", async () => {
  const h = harness({}, false);
  const res = await h.app.request("/api/me", { headers: { authorization: "Bearer x.y.z" } });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.equal((await res.json()).code, "token_malformed");
});

test("authenticate({ optional: true }) lets anonymous requests through but not bad ones", async () => {
  const logs: unknown[] = [];
  const app = new Hono<{ Variables: OptionalAuthVariables }>();
  app.use(authenticate({ verifier, optional: true, logger: { warn: (m) => void logs.push(m) } }));
  app.get("/", (c) => {
    const auth = c.var.auth;
    return c.text(auth === undefined ? "anonymous" : auth.orgId ?? "no organisation");
  });
  assert.equal(await (await app.request("/")).text(), "anonymous");
  const pair = await issuer.generateTokenPair(subject);
  assert.equal(
    await (await app.request("/", { headers: { authorization: `Bearer ${pair.accessToken}` } }))
      .text(),
    "acme",
  );
  assert.equal((await app.request("/", { headers: { authorization: "Bearer junk" } })).status, 401);
  assert.equal(
    (await app.request("/", { headers: { "x-api-key": live.key } })).status,
    200,
    "no lookup: header ignored",
  );
  assert.equal(logs.length, 1);
});

test("authenticate() without a verifier refuses JWTs; without a lookup ignores API keys", async () => {
  const keysOnly = harness({ verifier: undefined });
  const pair = await issuer.generateTokenPair(subject);
  await expect401(
    keysOnly,
    { authorization: `Bearer ${pair.accessToken}` },
    "token_malformed",
    "jwt",
  );
  const noHeader = harness({ apiKeyHeader: false });
  await expect401(noHeader, { "x-api-key": live.key }, "credentials_missing", "header off");
});

test("authenticate() answers 503 when the API key lookup fails, with the realm on 401s", async () => {
  const h = harness({
    lookupApiKey: () => Promise.reject(new Error("db down")),
    realm: "plinth",
  });
  const res = await h.app.request("/api/me", { headers: { "x-api-key": live.key } });
  assert.equal(res.status, 503);
  assert.equal((await res.json()).code, "api_key_store_failed");
  assert.equal(h.logs[0]?.["reason"], "api_key_store_failed");
  assert.equal(h.logs[0]?.["key_id"], live.id);
  const missing = await h.app.request("/api/me");
  assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="plinth"');
});

test("authenticate() answers 503 when the key set is unavailable", async () => {
  const logs: unknown[] = [];
  const remote = createTokenVerifier({
    ...BASE,
    jwksUrl: "https://keys.invalid/jwks",
    fetch: () => Promise.reject(new TypeError("offline")),
  });
  const h = harness({ verifier: remote, logger: { warn: (m) => void logs.push(m) } });
  const pair = await issuer.generateTokenPair(subject);
  const res = await h.app.request("/api/me", {
    headers: { authorization: `Bearer ${pair.accessToken}` },
  });
  assert.equal(res.status, 503);
  assert.deepEqual(logs, ["Authentication unavailable"]);
});

test("authenticate() keeps answering 401 when the logger throws", async () => {
  const h = harness({
    logger: {
      warn: () => {
        throw new Error("log down");
      },
    },
  });
  assert.equal((await h.app.request("/api/me")).status, 401);
});

test("authenticate() validates its options when created", () => {
  const bad: Record<string, unknown>[] = [
    {},
    { verifier: {} },
    { lookupApiKey: "x" },
    { verifier, apiKeyPrefixes: [] },
    { verifier, apiKeyPrefixes: ["Bad_Prefix"] },
    { verifier, apiKeyHeader: "authorization" },
    { verifier, apiKeyHeader: "bad header" },
    { verifier, optional: "yes" },
    { verifier, now: 1 },
    { verifier, logger: {} },
    { verifier, realm: 'a"b' },
  ];
  for (const options of bad) {
    assert.throws(() => authenticate(options as never), TypeError, Object.keys(options).join());
  }
  assert.throws(() => authenticate(null as never), TypeError);
});

test("authenticate() logs to @plinth/logging's default logger when given none", async () => {
  const lines: string[] = [];
  const previous = setLogger(
    createLogger({ service: "t", destination: { write: (l) => void lines.push(l) } }),
  );
  try {
    const app = new Hono();
    app.use(authenticate({ verifier }));
    app.get("/", (c) => c.text("ok"));
    const res = await app.request("/", { headers: { authorization: "Bearer a.b.c" } });
    assert.equal(res.status, 401);
  } finally {
    setLogger(previous);
  }
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]!);
  assert.equal(line.level, "warn");
  assert.equal(line.message, "Authentication failed");
  assert.equal(line.reason, "token_malformed");
  assert.equal(lines[0]!.includes("a.b.c"), false);
});

test("authenticate() answers a cached token synchronously, returning next() itself", async () => {
  const mw = authenticate({ verifier, logger: { warn: () => {} }, now: clock });
  const app = new Hono<{ Variables: AuthVariables }>();
  const sentinel = Promise.resolve();
  app.get("/probe", async (c) => {
    const returned = mw(c, () => sentinel);
    // Read synchronously: on a cache hit c.var.auth is set before the middleware returns.
    const user = c.get("auth")?.userId ?? null;
    await returned;
    return c.json({ same: returned === sentinel, user });
  });
  const { accessToken } = await issuer.generateTokenPair(subject);
  const headers = { authorization: `Bearer ${accessToken}` };
  // First request: not cached yet, verified asynchronously.
  assert.deepEqual(await (await app.request("/probe", { headers })).json(), {
    same: false,
    user: null,
  });
  assert.deepEqual(await (await app.request("/probe", { headers })).json(), {
    same: true,
    user: "u1",
  });
});

test("authenticate() shares one frozen c.var.auth per cached token", async () => {
  const seen: unknown[] = [];
  const app = new Hono<{ Variables: AuthVariables }>();
  app.use(authenticate({ verifier, logger: { warn: () => {} }, now: clock }));
  app.get("/", (c) => {
    seen.push(c.var.auth);
    return c.text("ok");
  });
  const { accessToken } = await issuer.generateTokenPair(subject);
  const headers = { authorization: `Bearer ${accessToken}` };
  for (let i = 0; i < 3; i++) assert.equal((await app.request("/", { headers })).status, 200);
  assert.equal(seen.length, 3);
  assert.equal(seen[1], seen[0]);
  assert.equal(seen[2], seen[0]);
  assert.equal(Object.isFrozen(seen[0]), true);
});

test("authenticate() still checks revocation on every cache hit, sync or async store", async () => {
  for (const asyncStore of [false, true]) {
    const backing = createMemoryTokenStore({ now: clock });
    const shared = asyncStore
      ? {
        useRefreshToken: (jti: string, expiresAt: number, at: number) =>
          Promise.resolve(backing.useRefreshToken(jti, expiresAt, at)),
        revoke: (id: string, expiresAt: number) => Promise.resolve(backing.revoke(id, expiresAt)),
        isRevoked: (id: string) => Promise.resolve(backing.isRevoked(id)),
      }
      : backing;
    const issuing = createTokenIssuer({ ...issuerOptions, store: shared });
    const checking = createTokenVerifier({ ...BASE, keys: [publicJwk], store: shared, now: clock });
    const logs: Record<string, unknown>[] = [];
    const app = new Hono<{ Variables: AuthVariables }>();
    app.onError(problemHandler({ logger: { error: () => {} } }));
    app.use(authenticate({
      verifier: checking,
      logger: { warn: (message, fields) => void logs.push({ message, ...fields }) },
      now: clock,
    }));
    app.get("/", (c) => c.text(c.var.auth.userId ?? ""));
    const pair = await issuing.generateTokenPair(subject);
    const headers = { authorization: `Bearer ${pair.accessToken}` };
    assert.equal((await app.request("/", { headers })).status, 200);
    assert.equal((await app.request("/", { headers })).status, 200); // from the cache
    assert.equal(checking.cached, 1);
    // Revoked behind the verifier's back (another instance): only the store knows.
    const { jti } = await checking.verifyAccessToken(pair.accessToken);
    backing.revoke(jti, now + 60_000);
    const res = await app.request("/", { headers });
    assert.equal(res.status, 401, `async store: ${asyncStore}`);
    assert.equal((await res.json()).code, "token_revoked");
    assert.equal(logs.at(-1)?.["reason"], "token_revoked");
    assert.equal(checking.cached, 0);
  }
});

test("authenticate() answers 503 api_key_store_failed for a malformed stored record, and logs it", async () => {
  const base = { hash: live.hash, orgId: "acme", role: "org_user" };
  const bad: [string, Record<string, unknown>][] = [
    ["hash not hex", { ...base, hash: "z".repeat(64) }],
    ["hash too short", { ...base, hash: live.hash.slice(0, 40) }],
    ["hash missing", { ...base, hash: undefined }],
    ["hash a number", { ...base, hash: 42 }],
    ["orgId missing", { ...base, orgId: undefined }],
    ["orgId empty", { ...base, orgId: "" }],
    ["orgId null", { ...base, orgId: null }],
    // Keys belong to organisations: a key has no system administrator's null organisation.
    ["orgId null for system_admin", { ...base, orgId: null, role: "system_admin" }],
    ["role missing", { ...base, role: undefined }],
    ["role a number", { ...base, role: 7 }],
    ["scopes a string", { ...base, scopes: "use_api" }],
    ["scopes with a number", { ...base, scopes: ["use_api", 7] }],
    ["record not an object", "acme" as unknown as Record<string, unknown>],
    ["scopes with a hole", { ...base, scopes: [, "use_api"] }],
    ["revokedAt a bigint", { ...base, revokedAt: 1n }], // an int8 column read as BigInt
    ["expiresAt a symbol", { ...base, expiresAt: Symbol("never") }],
    ["revokedAt an object", { ...base, revokedAt: {} }],
    ["revokedAt a Date", { ...base, revokedAt: new Date(T0 + 60_000) }], // epoch ms only
    ["expiresAt an ISO string", { ...base, expiresAt: "2099-01-01T00:00:00Z" }],
    ["expiresAt in a Date", { ...base, expiresAt: new Date(T0 - 1) }],
    ["a getter that throws", {
      ...base,
      get orgId(): string {
        throw new Error("connection reset");
      },
    }],
    [
      "a revoked Proxy",
      (() => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      })(),
    ],
  ];
  for (const [label, record] of bad) {
    const errors: Record<string, unknown>[] = [];
    const h = harness({
      lookupApiKey: () => record as unknown as ApiKeyRecord,
      logger: {
        warn: () => {},
        error: (message, fields) => void errors.push({ message, ...fields }),
      },
    });
    const res = await h.app.request("/api/me", { headers: { "x-api-key": live.key } });
    assert.equal(res.status, 503, label);
    assert.equal(res.headers.get("content-type"), "application/problem+json", label);
    assert.equal(res.headers.get("www-authenticate"), null, label);
    const body = await res.json();
    assert.equal(body.code, "api_key_store_failed", label);
    assert.equal(errors.length, 1, label);
    assert.equal(errors[0]?.["message"], "API key store failed", label);
    assert.equal(errors[0]?.["reason"], "api_key_store_failed", label);
    assert.equal(errors[0]?.["key_id"], live.id, label);
    assert.equal(typeof errors[0]?.["fault"], "string", label);
    const text = JSON.stringify(body) + JSON.stringify(errors);
    assert.equal(text.includes(live.key.slice(-16)), false, `${label}: key leaked`);
    assert.equal(text.includes(live.hash.slice(0, 16)), false, `${label}: hash leaked`);
  }
});

test("authenticate() checks the secret before the rest of a stored record", async () => {
  const h = harness({ lookupApiKey: () => ({ hash: revoked.hash }) as ApiKeyRecord });
  // Wrong secret for the stored hash: a bad credential, whatever else the record lacks.
  await expect401(h, { "x-api-key": live.key }, "api_key_invalid", "wrong secret", live.key);
});

test("authenticate() logs a storage fault through warn when the logger has no error", async () => {
  const h = harness({
    lookupApiKey: () => ({ hash: live.hash, role: "org_user" }) as ApiKeyRecord,
  });
  const res = await h.app.request("/api/me", { headers: { "x-api-key": live.key } });
  assert.equal(res.status, 503);
  assert.equal(h.logs.length, 1);
  assert.equal(h.logs[0]?.["message"], "API key store failed");
  assert.equal(h.logs[0]?.["fault"], "orgId is missing or not a non-empty string");
});

test("authenticate() sets c.var.auth.expiresAt to the token's exp in epoch milliseconds", async () => {
  const h = harness();
  const pair = await issuer.generateTokenPair(subject);
  const res = await h.app.request("/api/me", {
    headers: { authorization: `Bearer ${pair.accessToken}` },
  });
  const auth = await res.json();
  // 15 minutes after the injected clock, as epoch ms (not seconds, as exp is).
  assert.equal(auth.expiresAt, Math.floor((T0 + 900_000) / 1000) * 1000);
  assert.equal(auth.expiresAt, auth.claims.exp * 1000);
  assert.equal(auth.expiresAt, pair.expiresAt);
  assert.ok(auth.expiresAt > T0);
});

test("authenticate() accepts any debug/info/warn/error logger and sends refusals to warn", async () => {
  const lines: string[] = [];
  const fourMethods = {
    debug: (message: string) => void lines.push(`debug ${message}`),
    info: (message: string) => void lines.push(`info ${message}`),
    warn: (message: string, fields?: Record<string, unknown>) =>
      void lines.push(`warn ${message} ${String(fields?.["reason"])}`),
    error: (message: string) => void lines.push(`error ${message}`),
  };
  const h = harness({ logger: fourMethods });
  const res = await h.app.request("/api/me");
  assert.equal(res.status, 401);
  assert.deepEqual(lines, ["warn Authentication failed credentials_missing"]);
  // console has the four methods too.
  assert.doesNotThrow(() => authenticate({ verifier, logger: console }));
});

test("authenticate() sets orgId null for a system administrator's token", async () => {
  const h = harness();
  const pair = await issuer.generateTokenPair({
    userId: "root",
    orgId: null,
    role: "system_admin",
  });
  for (let i = 0; i < 2; i++) { // verified, then from the claims cache
    const res = await h.app.request("/api/me", {
      headers: { authorization: `Bearer ${pair.accessToken}` },
    });
    assert.equal(res.status, 200);
    const auth = await res.json();
    assert.equal(auth.kind, "user");
    assert.equal(auth.userId, "root");
    assert.equal(auth.orgId, null);
    assert.equal(auth.role, "system_admin");
    assert.equal(auth.claims.org_id, null);
  }
  const rotated = await h.app.request("/token/refresh", {
    method: "POST",
    body: JSON.stringify({ refresh_token: pair.refreshToken }),
  });
  assert.equal(rotated.status, 200);
  const next = await h.app.request("/api/me", {
    headers: { authorization: `Bearer ${(await rotated.json()).accessToken}` },
  });
  assert.equal((await next.json()).orgId, null);
  assert.equal(h.logs.length, 0);
});
