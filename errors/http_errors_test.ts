import { test } from "node:test";
import assert from "node:assert/strict";
import {
  badRequest,
  budgetExceeded,
  conflict,
  forbidden,
  internalError,
  notFound,
  serviceUnavailable,
  tooManyRequests,
  unauthorized,
  validationFailed,
} from "./http_errors.ts";

test("status constructors set the status, code and title", () => {
  const cases = [
    [badRequest(), 400, "bad_request", "Bad Request"],
    [unauthorized(), 401, "unauthorized", "Unauthorized"],
    [forbidden(), 403, "forbidden", "Forbidden"],
    [notFound(), 404, "not_found", "Not Found"],
    [conflict(), 409, "conflict", "Conflict"],
    [validationFailed(), 422, "validation_failed", "Unprocessable Content"],
    [tooManyRequests(), 429, "too_many_requests", "Too Many Requests"],
    [budgetExceeded(), 429, "budget_exceeded", "Too Many Requests"],
    [internalError(), 500, "internal_error", "Internal Server Error"],
    [serviceUnavailable(), 503, "service_unavailable", "Service Unavailable"],
  ] as const;
  for (const [error, status, code, title] of cases) {
    assert.equal(error.status, status, code);
    assert.equal(error.code, code);
    assert.equal(error.title, title);
  }
});

test("status constructors take a message, cause, code, detail and extensions", () => {
  const cause = new Error("duplicate key");
  const error = conflict("Email taken", {
    cause,
    code: "email_taken",
    extensions: { field: "email" },
  });
  assert.equal(error.message, "Email taken");
  assert.equal(error.cause, cause);
  assert.equal(error.code, "email_taken");
  assert.equal(error.toProblem()["field"], "email");
  assert.equal(notFound("x", { detail: "Shown instead" }).detail, "Shown instead");
});

test("budgetExceeded() keeps its code unless overridden and carries Retry-After", () => {
  const error = budgetExceeded("Spent", { retryAfter: 60_000, extensions: { budget_tokens: 5 } });
  assert.equal(error.code, "budget_exceeded");
  assert.equal(error.headers["retry-after"], "60");
  assert.equal(
    budgetExceeded("Spent", { code: "daily_budget_exceeded" }).code,
    "daily_budget_exceeded",
  );
});

test("unauthorized() always sends a WWW-Authenticate challenge", () => {
  assert.equal(unauthorized().headers["www-authenticate"], "Bearer");
  assert.equal(
    unauthorized("Bad key", { wwwAuthenticate: 'ApiKey realm="plinth"' })
      .headers["www-authenticate"],
    'ApiKey realm="plinth"',
  );
});

test("internalError() and serviceUnavailable() hide their messages", () => {
  assert.equal(
    internalError("pg at 10.0.0.5 down").toProblem().detail,
    "An unexpected error occurred",
  );
  const unavailable = serviceUnavailable("pool exhausted", { retryAfter: 1_000 });
  assert.equal(
    unavailable.toProblem().detail,
    "The service is temporarily unavailable; try again later",
  );
  assert.equal(unavailable.headers["retry-after"], "1");
});
