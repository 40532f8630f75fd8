import { test } from "node:test";
import assert from "node:assert/strict";
import { isAppError } from "@plinth/errors";
import { AuthError, isAuthError } from "./auth_error.ts";

test("AuthError() is a 401 AppError with a Bearer invalid_token challenge", async () => {
  const error = new AuthError("token_expired", "Cannot verify access token: exp");
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

test("AuthError() sends a bare challenge (with realm) when credentials are missing", () => {
  assert.equal(new AuthError("credentials_missing").headers["www-authenticate"], "Bearer");
  assert.equal(
    new AuthError("credentials_missing", undefined, { realm: "api" }).headers["www-authenticate"],
    'Bearer realm="api"',
  );
  assert.throws(() => new AuthError("token_invalid", undefined, { realm: 'a"b' }), TypeError);
});

test("AuthError() makes key_set_unavailable a 503 without a challenge", () => {
  const error = new AuthError("key_set_unavailable", undefined, { cause: new Error("down") });
  assert.equal(error.status, 503);
  assert.equal(error.headers["www-authenticate"], undefined);
  assert.equal((error.cause as Error).message, "down");
});

test("AuthError() refuses an unknown code", () => {
  assert.throws(() => new AuthError("nope" as never), TypeError);
  assert.equal(isAuthError(new Error("x")), false);
});

test("AuthError() words its detail and challenge for a refresh token with tokenKind", () => {
  const error = new AuthError("token_malformed", undefined, { tokenKind: "refresh" });
  assert.equal(error.detail, "The refresh token is malformed");
  assert.equal(
    error.headers["www-authenticate"],
    'Bearer error="invalid_token", error_description="The refresh token is malformed"',
  );
  assert.equal(
    new AuthError("token_wrong_kind", undefined, { tokenKind: "refresh" }).detail,
    "The token is not a refresh token",
  );
  assert.equal(new AuthError("token_wrong_kind").detail, "The token is not an access token");
  assert.equal(
    new AuthError("token_revoked", undefined, { tokenKind: "refresh" }).detail,
    "The token has been revoked",
  );
  assert.throws(
    () => new AuthError("token_invalid", undefined, { tokenKind: "id" as never }),
    TypeError,
  );
});

test("AuthError() makes api_key_store_failed a 503 without a challenge", () => {
  const error = new AuthError("api_key_store_failed");
  assert.equal(error.status, 503);
  assert.equal(error.headers["www-authenticate"], undefined);
  assert.equal(error.detail, "Credentials cannot be checked right now; try again later");
});
