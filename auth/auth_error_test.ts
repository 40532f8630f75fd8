import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { isAppError } from "@plinth/errors";
import { AUTH_ERROR_CODES, AuthError, type AuthErrorCode, isAuthError } from "./auth_error.ts";

test("AuthError() is a 401 AppError with a Bearer invalid_token challenge", async () => {
  const error = new AuthError("Cannot verify access token: exp", { code: "token_expired" });
  assert.equal(error.name, "AuthError");
  assert.equal(error.status, 401);
  assert.equal(error.code, "token_expired");
  assert.equal(error.message, "Cannot verify access token: exp");
  assert.equal(isAppError(error), true);
  assert.equal(isAuthError(error), true);
  const res = error.getResponse();
  assert.equal(res.status, 401);
  assert.equal(
    res.headers.get("www-authenticate"),
    'Bearer error="invalid_token", error_description="The access token has expired"',
  );
  const body = await res.json();
  assert.equal(body.code, "token_expired");
  assert.equal(body.detail, "The access token has expired");
});

test("AuthError() carries the AppError brand another copy of @plinth/errors checks", () => {
  const error = new AuthError("Revoked", { code: "token_revoked" });
  assert.equal(isAppError(error), true);
  // A second copy of @plinth/errors has its own AppError class; its isAppError() reads this.
  assert.equal((error as unknown as Record<symbol, unknown>)[Symbol.for("plinth.AppError")], true);
});

test("AuthError() sends a bare challenge (with realm) when credentials are missing", () => {
  assert.equal(
    new AuthError("None sent", { code: "credentials_missing" }).headers["www-authenticate"],
    "Bearer",
  );
  assert.equal(
    new AuthError("None sent", { code: "credentials_missing", realm: "api" })
      .headers["www-authenticate"],
    'Bearer realm="api"',
  );
  assert.throws(
    () => new AuthError("Bad", { code: "token_invalid", realm: 'a"b' }),
    TypeError,
  );
});

test("AuthError() makes key_set_unavailable a 503 without a challenge", () => {
  const error = new AuthError("JWKS down", {
    code: "key_set_unavailable",
    cause: new Error("down"),
  });
  assert.equal(error.status, 503);
  assert.equal(error.headers["www-authenticate"], undefined);
  assert.equal((error.cause as Error).message, "down");
});

test("AuthError() refuses an unknown code, a missing options bag and a non-string message", () => {
  assert.throws(
    () => new AuthError("x", { code: "nope" as never }),
    { name: "TypeError", message: /code must be one of AUTH_ERROR_CODES/ },
  );
  assert.throws(() => new AuthError("x", undefined as never), /options must be an object/);
  // The old order, code first: refused, not silently turned into a message.
  assert.throws(
    () => new AuthError("token_expired", "Cannot verify" as never),
    /options must be an object/,
  );
  assert.throws(
    () => new AuthError(undefined as never, { code: "token_expired" }),
    /message must be a string/,
  );
  assert.throws(() => new AuthError("x", { code: "toString" as never }), TypeError);
  assert.equal(isAuthError(new Error("x")), false);
});

test("AuthError() words its detail and challenge for a refresh token with tokenKind", () => {
  const error = new AuthError("Bad", { code: "token_malformed", tokenKind: "refresh" });
  assert.equal(error.detail, "The refresh token is malformed");
  assert.equal(
    error.headers["www-authenticate"],
    'Bearer error="invalid_token", error_description="The refresh token is malformed"',
  );
  assert.equal(
    new AuthError("Bad", { code: "token_wrong_kind", tokenKind: "refresh" }).detail,
    "The token is not a refresh token",
  );
  assert.equal(
    new AuthError("Bad", { code: "token_wrong_kind" }).detail,
    "The token is not an access token",
  );
  assert.equal(
    new AuthError("Bad", { code: "token_revoked", tokenKind: "refresh" }).detail,
    "The token has been revoked",
  );
  assert.throws(
    () => new AuthError("Bad", { code: "token_invalid", tokenKind: "id" as never }),
    TypeError,
  );
});

test("AuthError() makes api_key_store_failed a 503 without a challenge", () => {
  const error = new AuthError("Lookup threw", { code: "api_key_store_failed" });
  assert.equal(error.status, 503);
  assert.equal(error.headers["www-authenticate"], undefined);
  assert.equal(error.detail, "Credentials cannot be checked right now; try again later");
});

test("AUTH_ERROR_CODES is frozen, unique, and gives every code a status and a detail", () => {
  assert.ok(Object.isFrozen(AUTH_ERROR_CODES));
  assert.equal(new Set(AUTH_ERROR_CODES).size, AUTH_ERROR_CODES.length);
  assert.equal(AUTH_ERROR_CODES.length, 16);
  for (const code of AUTH_ERROR_CODES) {
    const error = new AuthError("Refused", { code });
    const expected = code === "key_set_unavailable" || code === "api_key_store_failed" ? 503 : 401;
    assert.equal(error.status, expected, code);
    assert.equal(typeof error.detail, "string", code);
    assert.ok((error.detail ?? "").length > 0, code);
  }
});

test("AUTH_ERROR_CODES lists every code the package's source uses", () => {
  const dir = new URL("./", import.meta.url);
  const known = new Set<string>(AUTH_ERROR_CODES);
  const used = new Map<string, string>();
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith("_test.ts"));
  assert.ok(files.includes("middleware.ts") && files.includes("_verifier_core.ts"));
  for (const file of files) {
    const text = readFileSync(new URL(file, dir), "utf8");
    for (const match of text.matchAll(/\bcode: "([a-z_]+)"/g)) {
      used.set(match[1] as string, file);
    }
  }
  // The walk finds codes from the middleware, the verifier and the issuer alike.
  for (const code of ["api_key_revoked", "token_claims_invalid", "refresh_token_reused"]) {
    assert.ok(used.has(code), `expected to find code: "${code}" in the source`);
  }
  for (const [code, file] of used) {
    assert.ok(known.has(code), `${file} uses code "${code}", which AUTH_ERROR_CODES lacks`);
  }
});

test("AuthErrorCode and AUTH_ERROR_CODES agree at the type level", () => {
  const codes: readonly AuthErrorCode[] = AUTH_ERROR_CODES;
  assert.ok(codes.includes("api_key_expired"));
});
