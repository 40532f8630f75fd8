import { AppError, type AppErrorOptions } from "./app_error.ts";

/**
 * Options of the status constructors: everything {@linkcode AppError} takes but the status.
 *
 * @example
 * ```ts
 * import { forbidden, type HttpErrorOptions } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const options: HttpErrorOptions = { code: "wrong_org", detail: "You are not a member of this organisation" };
 * assert.equal(forbidden("User 7 is not in org acme", options).detail, options.detail);
 * ```
 */
export type HttpErrorOptions = Omit<AppErrorOptions, "status">;

function make(status: number, message: string, options: HttpErrorOptions): AppError {
  return new AppError(message, { ...options, status });
}

/**
 * 400 Bad Request (`bad_request`): the request is malformed.
 *
 * @param message What is wrong with the request (shown to the client).
 * @param options Code, detail, cause, extensions.
 * @returns A new {@linkcode AppError}.
 *
 * @example
 * ```ts
 * import { badRequest } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = badRequest("Body is not valid JSON");
 * assert.equal(error.status, 400);
 * assert.equal(error.code, "bad_request");
 * ```
 */
export function badRequest(
  message = "The request is malformed",
  options: HttpErrorOptions = {},
): AppError {
  return make(400, message, options);
}

/**
 * 401 Unauthorized (`unauthorized`): no valid credentials. Sends `WWW-Authenticate`
 * (`Bearer` unless `wwwAuthenticate` says otherwise), as RFC 9110 requires.
 *
 * @param message Why authentication failed (shown to the client: keep it vague).
 * @param options Code, detail, cause, `wwwAuthenticate` challenge.
 * @returns A new {@linkcode AppError}.
 *
 * @example
 * ```ts
 * import { unauthorized } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = unauthorized("Token expired", {
 *   wwwAuthenticate: 'Bearer error="invalid_token"',
 * });
 * assert.equal(error.headers["www-authenticate"], 'Bearer error="invalid_token"');
 * ```
 */
export function unauthorized(
  message = "Authentication is required",
  options: HttpErrorOptions = {},
): AppError {
  return make(401, message, options);
}

/**
 * 403 Forbidden (`forbidden`): authenticated, but not allowed to do this.
 *
 * @param message What is not allowed.
 * @param options Code, detail, cause, extensions.
 * @returns A new {@linkcode AppError}.
 *
 * @example
 * ```ts
 * import { forbidden } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * assert.equal(forbidden("Members cannot delete the organisation").status, 403);
 * ```
 */
export function forbidden(
  message = "You are not allowed to do this",
  options: HttpErrorOptions = {},
): AppError {
  return make(403, message, options);
}

/**
 * 404 Not Found (`not_found`).
 *
 * @param message What was not found.
 * @param options Code, detail, cause, extensions.
 * @returns A new {@linkcode AppError}.
 *
 * @example
 * ```ts
 * import { notFound } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * assert.equal(notFound("No organisation acme").code, "not_found");
 * ```
 */
export function notFound(
  message = "The resource was not found",
  options: HttpErrorOptions = {},
): AppError {
  return make(404, message, options);
}

/**
 * 409 Conflict (`conflict`): the request clashes with the current state (a duplicate, a stale
 * version).
 *
 * @param message What it conflicts with.
 * @param options Code, detail, cause, extensions.
 * @returns A new {@linkcode AppError}.
 *
 * @example
 * ```ts
 * import { conflict } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = conflict("Email already registered", { code: "email_taken" });
 * assert.equal(error.status, 409);
 * assert.equal(error.code, "email_taken");
 * ```
 */
export function conflict(
  message = "The request conflicts with the current state",
  options: HttpErrorOptions = {},
): AppError {
  return make(409, message, options);
}

/**
 * 422 Unprocessable Content (`validation_failed`): well-formed but invalid input, with one
 * `errors` entry per field. See {@linkcode fromZod} to build one from a zod error.
 *
 * @param message Summary of the failure.
 * @param options `errors` (pointer + detail per field), code, detail, cause.
 * @returns A new {@linkcode AppError}.
 *
 * @example
 * ```ts
 * import { validationFailed } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = validationFailed("Invalid organisation", {
 *   errors: [{ pointer: "/name", detail: "Must not be empty" }],
 * });
 * assert.equal(error.status, 422);
 * assert.deepEqual(error.toProblem().errors, [{ pointer: "/name", detail: "Must not be empty" }]);
 * ```
 */
export function validationFailed(
  message = "The request is invalid",
  options: HttpErrorOptions = {},
): AppError {
  return make(422, message, options);
}

/**
 * 429 Too Many Requests (`too_many_requests`): a rate limit was hit. `retryAfter`
 * (milliseconds) becomes the `Retry-After` header, in whole seconds rounded up.
 *
 * @param message Which limit was hit.
 * @param options `retryAfter`, code, detail, extensions.
 * @returns A new {@linkcode AppError}.
 *
 * @example
 * ```ts
 * import { tooManyRequests } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = tooManyRequests("60 requests a minute", { retryAfter: 12_500 });
 * assert.equal(error.headers["retry-after"], "13");
 * ```
 */
export function tooManyRequests(
  message = "Too many requests",
  options: HttpErrorOptions = {},
): AppError {
  return make(429, message, options);
}

/**
 * 429 with code `budget_exceeded`: an organisation's token budget is spent. Put the numbers a
 * client needs in `extensions`, and the milliseconds until the budget resets in `retryAfter`.
 *
 * @param message Which budget is spent.
 * @param options `retryAfter`, extensions (e.g. `budget`, `used`), detail.
 * @returns A new {@linkcode AppError}.
 *
 * @example
 * ```ts
 * import { budgetExceeded } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = budgetExceeded("Monthly token budget spent", {
 *   extensions: { budget_tokens: 1_000_000, used_tokens: 1_000_212 },
 *   retryAfter: 3_600_000,
 * });
 * assert.equal(error.status, 429);
 * assert.equal(error.code, "budget_exceeded");
 * assert.equal(error.toProblem()["used_tokens"], 1_000_212);
 * ```
 */
export function budgetExceeded(
  message = "The organisation's token budget is spent",
  options: HttpErrorOptions = {},
): AppError {
  return make(429, message, { code: "budget_exceeded", ...options });
}

/**
 * 500 Internal Server Error (`internal_error`). The message is for logs only: clients see a
 * generic detail (or `detail`, when given).
 *
 * @param message What failed, for the logs.
 * @param options Cause (keep the chain!), code, client-facing detail.
 * @returns A new {@linkcode AppError}.
 *
 * @example
 * ```ts
 * import { internalError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = internalError("Ledger row 17 is corrupt", { cause: new Error("checksum") });
 * assert.equal(error.status, 500);
 * assert.equal(error.toProblem().detail, "An unexpected error occurred");
 * ```
 */
export function internalError(
  message = "Internal error",
  options: HttpErrorOptions = {},
): AppError {
  return make(500, message, options);
}

/**
 * 503 Service Unavailable (`service_unavailable`): a dependency (database, broker) is down or
 * overloaded. `retryAfter` (milliseconds) becomes `Retry-After` (seconds); the message stays in the logs.
 *
 * @param message What is unavailable, for the logs.
 * @param options `retryAfter`, cause, code, client-facing detail.
 * @returns A new {@linkcode AppError}.
 *
 * @example
 * ```ts
 * import { serviceUnavailable } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = serviceUnavailable("Pool exhausted", { retryAfter: 1_000 });
 * assert.equal(error.status, 503);
 * assert.equal(error.headers["retry-after"], "1");
 * ```
 */
export function serviceUnavailable(
  message = "Service unavailable",
  options: HttpErrorOptions = {},
): AppError {
  return make(503, message, options);
}
