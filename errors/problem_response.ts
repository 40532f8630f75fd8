import { AppError, type ProblemOptions } from "./app_error.ts";
import { toAppError } from "./chain.ts";

/**
 * Options of {@linkcode toProblemResponse}.
 *
 * @example
 * ```ts
 * import { type ProblemResponseOptions, toProblemResponse } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const options: ProblemResponseOptions = { requestId: "req-3", typeBase: "https://errors.example.com/" };
 * const body = await toProblemResponse(new Error("boom"), options).json();
 * assert.equal(body.type, "https://errors.example.com/internal_error");
 * assert.equal(body.request_id, "req-3");
 * ```
 */
export interface ProblemResponseOptions extends Omit<ProblemOptions, "instance" | "requestId"> {
  /** The request that failed: its path becomes `instance`, its `X-Request-Id` the `request_id`. @default {undefined} */
  readonly request?: Request | undefined;
  /** The request id, when known better than the request header says. @default {undefined} */
  readonly requestId?: string | undefined;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:\-]{1,128}$/;

/**
 * The request id a client or proxy sent in `X-Request-Id`, if it is a safe token (letters,
 * digits, `._:-`, at most 128 characters); anything else is ignored rather than echoed.
 *
 * @param request The incoming request.
 * @returns The id, or `undefined`.
 *
 * @example
 * ```ts
 * import { requestIdOf } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const request = new Request("http://x/", { headers: { "x-request-id": "req-42" } });
 * assert.equal(requestIdOf(request), "req-42");
 * ```
 */
export function requestIdOf(request: Request): string | undefined {
  const id = request.headers.get("x-request-id");
  return id !== null && REQUEST_ID_RE.test(id) ? id : undefined;
}

function pathOf(request: Request): string | undefined {
  try {
    return new URL(request.url).pathname;
  } catch {
    return undefined;
  }
}

/**
 * Renders anything that was thrown as an `application/problem+json` response, without Hono:
 * an {@linkcode AppError} as its problem, anything else as a generic 500. For `Deno.serve`,
 * `Bun.serve` or any `fetch`-style handler. It never throws: a value that cannot even be read
 * (a revoked proxy, throwing traps) also answers with a generic 500.
 *
 * @param error The caught value.
 * @param options The request (for `instance` and `request_id`) and rendering limits.
 * @returns A new `Response`.
 *
 * @example
 * ```ts
 * import { notFound, toProblemResponse } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const request = new Request("http://localhost/orgs/acme");
 * const res = toProblemResponse(notFound("No organisation acme"), { request });
 * assert.equal(res.status, 404);
 * const body = await res.json();
 * assert.equal(body.instance, "/orgs/acme");
 *
 * const crash = toProblemResponse(new Error("secret connection string"), { request });
 * assert.equal(crash.status, 500);
 * assert.equal((await crash.json()).detail, "An unexpected error occurred");
 * ```
 */
export function toProblemResponse(
  error: unknown,
  options: ProblemResponseOptions = {},
): Response {
  let problemOptions: ProblemOptions = {};
  try {
    const { request, requestId, ...rest } = options;
    problemOptions = {
      ...rest,
      instance: request === undefined ? undefined : pathOf(request),
      requestId: requestId ?? (request === undefined ? undefined : requestIdOf(request)),
    };
  } catch {
    // Hostile options (a revoked proxy, a throwing getter): render without them.
  }
  try {
    return toAppError(error).getResponse(problemOptions);
  } catch {
    // A value that passes for an AppError but throws when read: answer with a generic 500.
  }
  try {
    return unrenderable().getResponse(problemOptions);
  } catch {
    return unrenderable().getResponse();
  }
}

function unrenderable(): AppError {
  return new AppError("Cannot render the thrown value as a problem");
}
