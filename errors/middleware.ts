import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from "hono";
import { type AppError, isAppError, type ProblemDetails } from "./app_error.ts";
import { errorChain, toAppError } from "./chain.ts";
import { notFound } from "./http_errors.ts";
import { requestIdOf } from "./problem_response.ts";
import { serializeError } from "./serialize_error.ts";
import { fromHttpException, isHttpExceptionLike } from "./_http_exception.ts";
import { bodyParseError, maybeBodyParseError } from "./_invalid_json.ts";

/**
 * The logger shape `problemHandler()` writes server errors to (a `@plinth/logging` logger fits).
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { type ProblemLogger, problemHandler } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger: ProblemLogger = { error: (message) => lines.push(message) };
 * const app = new Hono();
 * app.onError(problemHandler({ logger }));
 * app.get("/", () => {
 *   throw new Error("boom");
 * });
 * await app.request("/");
 * assert.deepEqual(lines, ["Request failed"]);
 * ```
 */
export interface ProblemLogger {
  /** Logs one line at error level. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * What `onError` learns about a failed request.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { notFound } from "@plinth/errors";
 * import { type ProblemErrorInfo, problemHandler } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const seen: ProblemErrorInfo[] = [];
 * const app = new Hono();
 * app.onError(problemHandler({ onError: (_error, info) => seen.push(info) }));
 * app.get("/", () => {
 *   throw notFound("Nothing here");
 * });
 * await app.request("/");
 * assert.equal(seen[0]?.problem.status, 404);
 * assert.equal(seen[0]?.chain.length, 1);
 * ```
 */
export interface ProblemErrorInfo {
  /** The problem sent to the client. */
  readonly problem: ProblemDetails;
  /** The thrown value and everything behind it (see {@linkcode errorChain}). */
  readonly chain: readonly unknown[];
  /** The failed request. */
  readonly request: Request;
}

/**
 * Options of {@linkcode problemHandler} and {@linkcode problemNotFound}.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { unauthorized } from "@plinth/errors";
 * import { problemHandler, type ProblemHandlerOptions } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const options: ProblemHandlerOptions = { typeBase: "https://errors.example.com/", onError: () => {} };
 * const app = new Hono();
 * app.onError(problemHandler(options));
 * app.get("/", () => {
 *   throw unauthorized("Token expired");
 * });
 * const body = await (await app.request("/")).json();
 * assert.equal(body.type, "https://errors.example.com/unauthorized");
 * ```
 */
export interface ProblemHandlerOptions {
  /** Base URI of problem types (`<typeBase><code>`); must be an absolute URI. @default {undefined (about:blank)} */
  readonly typeBase?: string | undefined;
  /** Longest `detail` sent. @default {4096} */
  readonly maxDetailLength?: number | undefined;
  /** Most `errors` entries sent. @default {100} */
  readonly maxErrors?: number | undefined;
  /**
   * Called for every error with the thrown value and the problem sent (4xx and 5xx alike).
   * A hook that throws is reported to `logger` and otherwise ignored. @default {undefined}
   */
  readonly onError?: ((error: unknown, info: ProblemErrorInfo) => void) | undefined;
  /**
   * Where 5xx errors are logged, with the whole chain under `err`. When neither `logger` nor
   * `onError` is given, 5xx errors go to `console.error` as one JSON line.
   * @default {undefined}
   */
  readonly logger?: ProblemLogger | undefined;
  /**
   * Finds the request id. By default: the `requestId` context variable (Hono's and plinth's
   * request-id middleware set it), else a safe `X-Request-Id` header.
   * @default {undefined}
   */
  readonly requestId?: ((c: Context) => string | undefined) | undefined;
}

function checkOptions(options: ProblemHandlerOptions): void {
  if (options.typeBase !== undefined) {
    let ok = false;
    try {
      ok = typeof options.typeBase === "string" && new URL(options.typeBase).href !== "";
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new TypeError("Invalid problem handler option typeBase: must be an absolute URI");
    }
  }
  for (const key of ["maxDetailLength", "maxErrors"] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new RangeError(`Invalid problem handler option ${key}: must be a positive integer`);
    }
  }
}

function requestIdFor(c: Context, options: ProblemHandlerOptions): string | undefined {
  if (options.requestId !== undefined) return options.requestId(c);
  const fromVar = (c.var as Record<string, unknown>)["requestId"];
  return typeof fromVar === "string" && fromVar !== "" ? fromVar : requestIdOf(c.req.raw);
}

function render(
  error: AppError,
  c: Context,
  options: ProblemHandlerOptions,
): { problem: ProblemDetails; response: Response } {
  const problemOptions = {
    typeBase: options.typeBase,
    maxDetailLength: options.maxDetailLength,
    maxErrors: options.maxErrors,
    instance: c.req.path,
    requestId: requestIdFor(c, options),
  };
  const response = error.getResponse(problemOptions);
  return { problem: error.toProblem(problemOptions), response };
}

function report(
  thrown: unknown,
  problem: ProblemDetails,
  c: Context,
  options: ProblemHandlerOptions,
): void {
  const fields = (): Record<string, unknown> => ({
    err: serializeError(thrown),
    status: problem.status,
    method: c.req.method,
    path: c.req.path,
    ...(problem.request_id === undefined ? {} : { request_id: problem.request_id }),
  });
  if (options.onError !== undefined) {
    try {
      options.onError(thrown, { problem, chain: errorChain(thrown), request: c.req.raw });
    } catch (hookError) {
      try {
        options.logger?.error("problemHandler onError hook threw", {
          err: serializeError(hookError),
        });
      } catch {
        // A logger that throws has nowhere left to report to.
      }
    }
  }
  if (problem.status < 500) return;
  try {
    if (options.logger !== undefined) options.logger.error("Request failed", fields());
    else if (options.onError === undefined) {
      console.error(JSON.stringify({ level: "error", message: "Request failed", ...fields() }));
    }
  } catch {
    // Logging never turns a problem response into a crash.
  }
}

/**
 * Hono error handler for `app.onError`: an {@linkcode AppError} becomes its problem, Hono's
 * `HTTPException` the matching problem (keeping its headers, such as `WWW-Authenticate`), and
 * anything else a 500 with a generic detail. `instance` is the request path, `request_id` the
 * request's id. The thrown value's whole chain goes to `onError` and, for 5xx, to `logger`.
 *
 * A request body that does not parse as JSON in `await c.req.json()` answers 400 with code
 * `invalid_json` (a SyntaxError from application code stays a 500). An `HTTPException` with no
 * message, such as `bodyLimit()`'s 413, gets a generic detail for its status. `HTTPException` is
 * recognised by its shape (an `Error` with a 4xx or 5xx `status` and a `getResponse()` method), so
 * one thrown by another copy of Hono, as a service on a different Hono version has, is mapped too.
 *
 * Hono passes only `Error`s to `onError`; add {@linkcode problemBoundary} so thrown strings,
 * `null` and plain objects are rendered too.
 *
 * @param options Type base URI, hooks, limits.
 * @returns The handler.
 * @throws {TypeError} When `typeBase` is not an absolute URI.
 * @throws {RangeError} When a limit is not a positive integer.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { notFound } from "@plinth/errors";
 * import { problemHandler } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.onError(problemHandler());
 * app.get("/orgs/:id", (c) => {
 *   throw notFound(`No organisation ${c.req.param("id")}`);
 * });
 *
 * const res = await app.request("/orgs/acme");
 * assert.equal(res.status, 404);
 * assert.equal(res.headers.get("content-type"), "application/problem+json");
 * assert.equal((await res.json()).detail, "No organisation acme");
 * ```
 *
 * @example A malformed JSON body is the client's error
 * ```ts
 * import { Hono } from "hono";
 * import { problemHandler } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.onError(problemHandler());
 * app.post("/orgs", async (c) => c.json(await c.req.json(), 201));
 *
 * const res = await app.request("/orgs", { method: "POST", body: '{"name":' });
 * assert.equal(res.status, 400);
 * assert.equal((await res.json()).code, "invalid_json");
 * ```
 */
export function problemHandler(options: ProblemHandlerOptions = {}): ErrorHandler {
  checkOptions(options);
  const opts = { ...options };
  const respond = (error: unknown, appError: AppError, c: Context): Response => {
    let rendered: { problem: ProblemDetails; response: Response };
    try {
      rendered = render(appError, c, opts);
    } catch {
      // An error that passes for an AppError but throws when read still gets an answer.
      rendered = render(toAppError(null), c, opts);
    }
    report(error, rendered.problem, c, opts);
    return rendered.response;
  };
  return function problemErrorHandler(error: unknown, c: Context): Response | Promise<Response> {
    if (maybeBodyParseError(error, c)) {
      return bodyParseError(error, c).then((invalid) =>
        respond(error, invalid ?? toAppError(error), c)
      );
    }
    let appError: AppError;
    try {
      // An AppError has a status and getResponse() too: it is checked first.
      appError = isAppError(error)
        ? error
        : isHttpExceptionLike(error)
        ? fromHttpException(error)
        : toAppError(error);
    } catch (cannotConvert) {
      appError = toAppError(cannotConvert);
    }
    return respond(error, appError, c);
  };
}

/**
 * Hono handler for `app.notFound`: a 404 problem naming no more than the path (as `instance`).
 *
 * @param options Type base URI and request-id lookup (hooks are not called for 404s).
 * @returns The handler.
 * @throws {TypeError} When `typeBase` is not an absolute URI.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { problemNotFound } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.notFound(problemNotFound());
 *
 * const res = await app.request("/nowhere");
 * assert.equal(res.status, 404);
 * const body = await res.json();
 * assert.equal(body.code, "not_found");
 * assert.equal(body.instance, "/nowhere");
 * ```
 */
export function problemNotFound(options: ProblemHandlerOptions = {}): NotFoundHandler {
  checkOptions(options);
  const opts = { ...options };
  return function problemNotFoundHandler(c: Context): Response {
    const error = notFound(`No route for ${c.req.method} ${c.req.path}`, {
      detail: "No resource exists at this path",
    });
    return render(error, c, opts).response;
  };
}

/**
 * Middleware that turns thrown non-Error values (a string, `null`, a plain object) into a
 * 500 {@linkcode AppError} whose `cause` is the value, so `app.onError` sees them: Hono itself
 * rethrows them out of `app.fetch`, and the runtime answers with a bare 500. Register it
 * first, with `app.use(problemBoundary())`.
 *
 * @returns The middleware.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { problemBoundary, problemHandler } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.use(problemBoundary());
 * app.onError(problemHandler({ onError: () => {} }));
 * app.get("/", () => {
 *   throw "not an Error";
 * });
 *
 * const res = await app.request("/");
 * assert.equal(res.status, 500);
 * assert.equal((await res.json()).code, "internal_error");
 * ```
 */
export function problemBoundary(): MiddlewareHandler {
  return async function problemBoundaryMiddleware(_c, next): Promise<void> {
    try {
      await next();
    } catch (error) {
      if (error instanceof Error) throw error;
      throw toAppError(error);
    }
  };
}
