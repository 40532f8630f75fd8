import { stringifyOr, truncate } from "./_json.ts";
import { allCodes, genericDetail, statusCode, statusTitle } from "./_status.ts";

/**
 * Every code `@plinth/errors` itself produces: the code of each HTTP status (`not_found`,
 * `validation_failed`, `service_unavailable`…), `invalid_json` (400, a request body that is not
 * JSON) and `budget_exceeded` (429), and `http_<status>` for a status with no name of its own
 * (`http_418`). {@linkcode APP_ERROR_CODES} lists them all. An {@linkcode AppError} accepts any
 * other lower-case code too (subclasses in other plinth packages declare their own unions);
 * clients switch on `code`, so once published a code never changes meaning.
 *
 * @example
 * ```ts
 * import { AppError, type AppErrorCode, budgetExceeded } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const code: AppErrorCode = "budget_exceeded";
 * assert.equal(budgetExceeded("Spent").code, code);
 * assert.equal(new AppError("Teapot", { status: 418 }).code, "http_418");
 * assert.equal(new AppError("Suspended", { status: 403, code: "org_suspended" }).code, "org_suspended");
 * ```
 */
export type AppErrorCode =
  | "bad_request"
  | "invalid_json"
  | "unauthorized"
  | "payment_required"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "not_acceptable"
  | "proxy_authentication_required"
  | "request_timeout"
  | "conflict"
  | "gone"
  | "length_required"
  | "precondition_failed"
  | "content_too_large"
  | "uri_too_long"
  | "unsupported_media_type"
  | "range_not_satisfiable"
  | "expectation_failed"
  | "misdirected_request"
  | "validation_failed"
  | "locked"
  | "failed_dependency"
  | "too_early"
  | "upgrade_required"
  | "precondition_required"
  | "too_many_requests"
  | "budget_exceeded"
  | "request_header_fields_too_large"
  | "unavailable_for_legal_reasons"
  | "internal_error"
  | "not_implemented"
  | "bad_gateway"
  | "service_unavailable"
  | "gateway_timeout"
  | "http_version_not_supported"
  | "insufficient_storage"
  | "loop_detected"
  | "network_authentication_required"
  | `http_${number}`;

/**
 * The codes of {@linkcode AppErrorCode}, frozen, ordered by status (each status's code, then
 * the extra codes of that status).
 *
 * @example
 * ```ts
 * import { APP_ERROR_CODES, notFound } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const known = new Set<string>(APP_ERROR_CODES);
 * assert.ok(known.has(notFound("No org").code));
 * assert.ok(known.has("invalid_json"));
 * assert.ok(known.has("http_418"));
 * assert.ok(Object.isFrozen(APP_ERROR_CODES));
 * ```
 */
export const APP_ERROR_CODES: readonly AppErrorCode[] = Object.freeze(
  allCodes() as AppErrorCode[],
);

/**
 * One field-level problem of a validation failure: where (a JSON Pointer) and what.
 *
 * @example
 * ```ts
 * import { type FieldError, validationFailed } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const errors: FieldError[] = [{ pointer: "/members/0/email", detail: "Must be a valid email" }];
 * assert.deepEqual(validationFailed("Invalid", { errors }).toProblem().errors, errors);
 * ```
 */
export interface FieldError {
  /** JSON Pointer (RFC 6901) to the offending member of the request, `""` for the whole of it. */
  readonly pointer: string;
  /** What is wrong with it, in words a client can show. */
  readonly detail: string;
}

/**
 * Options of {@linkcode AppError}; every field is optional.
 *
 * @example
 * ```ts
 * import { AppError, type AppErrorOptions } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const options: AppErrorOptions = { status: 402, code: "payment_required", extensions: { plan: "free" } };
 * assert.equal(new AppError("Upgrade to continue", options).toProblem()["plan"], "free");
 * ```
 */
export interface AppErrorOptions {
  /** HTTP status, an integer from 400 to 599. @default {500} */
  readonly status?: number | undefined;
  /**
   * Stable machine code clients switch on: one of {@linkcode AppErrorCode} or your own
   * lower-case code. @default {the status's code, e.g. `"not_found"`}
   */
  readonly code?: AppErrorCode | (string & Record<never, never>) | undefined;
  /** Short human summary of the problem type. @default {the status's reason phrase} */
  readonly title?: string | undefined;
  /**
   * Text for the client. When absent, a 4xx shows its message and a 5xx a generic sentence.
   * @default {undefined}
   */
  readonly detail?: string | undefined;
  /** Problem type URI. @default {"about:blank" (or the configured base + code when rendered)} */
  readonly type?: string | undefined;
  /** URI reference of this occurrence. @default {the request path, when rendered for a request} */
  readonly instance?: string | undefined;
  /** The error that caused this one (ES2022 `cause`). @default {undefined} */
  readonly cause?: unknown;
  /**
   * Whether the message may be shown to clients. Only 4xx messages can be; a 5xx message is
   * never exposed (pass `detail` for client-facing text). @default {status < 500}
   */
  readonly expose?: boolean | undefined;
  /**
   * Extension members added to the problem object. Standard member names are ignored. A 5xx
   * problem leaves them (and `errors`) out unless `exposeExtensions` is `true`. @default {{}}
   */
  readonly extensions?: Readonly<Record<string, unknown>> | undefined;
  /**
   * Whether `extensions` and `errors` are sent to clients. A 5xx error's extensions often
   * describe the server (pool sizes, hosts, subjects), so they stay in the logs unless you opt
   * in. @default {status < 500}
   */
  readonly exposeExtensions?: boolean | undefined;
  /** Extra response headers. @default {{}} */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /**
   * Milliseconds after which the client may retry; sent as `Retry-After` in whole seconds,
   * rounded up (the header's unit). @default {undefined}
   */
  readonly retryAfter?: number | undefined;
  /** Field-level problems, rendered as the `errors` member. @default {undefined} */
  readonly errors?: readonly FieldError[] | undefined;
  /** The `WWW-Authenticate` challenge of a 401. @default {"Bearer"} */
  readonly wwwAuthenticate?: string | undefined;
}

/**
 * An RFC 9457 problem details object as plinth renders it.
 *
 * @example
 * ```ts
 * import { notFound, type ProblemDetails } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const problem: ProblemDetails = notFound("No key k_1").toProblem();
 * assert.equal(problem.status, 404);
 * assert.equal(problem.detail, "No key k_1");
 * ```
 */
export interface ProblemDetails {
  /** Problem type URI (`about:blank` when the status says it all). */
  type: string;
  /** Short summary of the problem type. */
  title: string;
  /** The HTTP status code. */
  status: number;
  /** Explanation of this occurrence for the client. */
  detail?: string;
  /** URI reference of this occurrence (usually the request path). */
  instance?: string;
  /** Stable machine code. */
  code: string;
  /** The request's id, for support tickets and log search. */
  request_id?: string;
  /** Field-level problems of a validation failure. */
  errors?: FieldError[];
  /** Extension members. */
  [extension: string]: unknown;
}

/**
 * How a problem is rendered for one request.
 *
 * @example
 * ```ts
 * import { conflict, type ProblemOptions } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const options: ProblemOptions = { requestId: "req-1", maxDetailLength: 8 };
 * const problem = conflict("A rather long explanation").toProblem(options);
 * assert.equal(problem.request_id, "req-1");
 * assert.equal(problem.detail, "A rathe…");
 * ```
 */
export interface ProblemOptions {
  /**
   * Base URI of problem types: an error whose type is `about:blank` gets `<typeBase><code>`
   * instead (`https://errors.example.com/` + `not_found`). @default {undefined}
   */
  readonly typeBase?: string | undefined;
  /** `instance` to use when the error has none (e.g. the request path). @default {undefined} */
  readonly instance?: string | undefined;
  /** The request id to add as `request_id`. @default {undefined} */
  readonly requestId?: string | undefined;
  /** Longest `detail` sent, in UTF-16 units; longer ones are cut. @default {4096} */
  readonly maxDetailLength?: number | undefined;
  /** Most `errors` entries sent; the rest are dropped and `errors_truncated` is set. @default {100} */
  readonly maxErrors?: number | undefined;
}

const BRAND: unique symbol = Symbol.for("plinth.AppError") as never;
const RESERVED = new Set([
  "type",
  "title",
  "status",
  "detail",
  "instance",
  "code",
  "request_id",
  "errors",
  "errors_truncated",
  "__proto__",
]);
const CODE_RE = /^[a-z][a-z0-9_.]*$/;
const HEADER_VALUE_RE = /^[\t\x20-\x7e\x80-\xff]*$/;

function checkHeader(name: string, value: unknown): string {
  if (typeof value !== "string" || !HEADER_VALUE_RE.test(value)) {
    throw new TypeError(
      `Cannot create AppError: header "${name}" must be a string without control characters`,
    );
  }
  return value;
}

/**
 * An error that knows how it looks over HTTP: a status, a stable `code`, and an RFC 9457
 * problem details rendering. Throw it from a handler; `problemHandler()` (or Hono's default
 * error handler, through {@linkcode AppError.prototype.getResponse}) turns it into the response.
 *
 * @example Throw and render
 * ```ts
 * import { AppError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new AppError("Organisation acme has no seats left", {
 *   status: 409,
 *   code: "seats_exhausted",
 *   extensions: { seats: 10 },
 * });
 * assert.equal(error.status, 409);
 * assert.deepEqual(error.toProblem({ requestId: "req-1" }), {
 *   type: "about:blank",
 *   title: "Conflict",
 *   status: 409,
 *   detail: "Organisation acme has no seats left",
 *   code: "seats_exhausted",
 *   request_id: "req-1",
 *   seats: 10,
 * });
 * ```
 *
 * @example A 5xx keeps its extensions out of the body unless exposed
 * ```ts
 * import { serviceUnavailable } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const hidden = serviceUnavailable("Pool exhausted", { extensions: { pool_max: 25 } });
 * assert.equal(hidden.toProblem()["pool_max"], undefined);
 * assert.equal(hidden.extensions["pool_max"], 25); // still there for the logs
 *
 * const shown = serviceUnavailable("Maintenance", {
 *   extensions: { until: "04:00Z" },
 *   exposeExtensions: true,
 * });
 * assert.equal(shown.toProblem()["until"], "04:00Z");
 * ```
 */
export class AppError extends Error {
  /** The HTTP status code, 400–599. */
  readonly status: number;
  /** Stable machine code clients switch on: an {@linkcode AppErrorCode} or a caller's own. */
  readonly code: AppErrorCode | (string & Record<never, never>);
  /** Short summary of the problem type. */
  readonly title: string;
  /** The text clients see: the message for an exposed 4xx, else `detail` or a generic sentence. */
  readonly detail: string;
  /** Problem type URI. */
  readonly type: string;
  /** URI reference of this occurrence, if set. */
  readonly instance: string | undefined;
  /** Whether the message is shown to clients (never for 5xx). */
  readonly expose: boolean;
  /** Extension members of the problem. */
  readonly extensions: Readonly<Record<string, unknown>>;
  /** Whether `extensions` and `errors` are rendered (by default only for 4xx). */
  readonly exposeExtensions: boolean;
  /** Response headers the status calls for (`WWW-Authenticate`, `Retry-After`) and any extra. */
  readonly headers: Readonly<Record<string, string>>;
  /** Field-level problems of a validation failure. */
  readonly errors: readonly FieldError[] | undefined;
  /** Milliseconds after which a retry may succeed (`Retry-After` carries it in seconds). */
  readonly retryAfter: number | undefined;

  /**
   * Creates an error with an HTTP status and problem details.
   *
   * @param message What went wrong, for logs (and for clients when the error is an exposed 4xx).
   * @param options Status, code, detail, cause, extensions and headers.
   * @throws {RangeError} When `status` is not an integer from 400 to 599 or `retryAfter` is not a finite number, 0 or more.
   * @throws {TypeError} When `code` is not a lower-case identifier or a header value has control characters.
   */
  constructor(message: string, options: AppErrorOptions = {}) {
    super(
      String(message),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    const status = options.status ?? 500;
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(
        `Cannot create AppError: status must be an integer from 400 to 599, got ${
          String(status).slice(0, 20)
        }`,
      );
    }
    const code = options.code ?? statusCode(status);
    if (typeof code !== "string" || !CODE_RE.test(code)) {
      throw new TypeError(
        'Cannot create AppError: code must be a lower-case identifier such as "not_found"',
      );
    }
    this.name = "AppError";
    this.status = status;
    this.code = code;
    this.title = options.title ?? statusTitle(status);
    this.expose = status < 500 && (options.expose ?? true);
    this.detail = options.detail ?? (this.expose ? this.message : genericDetail(status));
    this.type = options.type ?? "about:blank";
    this.instance = options.instance;
    this.extensions = Object.freeze({ ...options.extensions });
    this.exposeExtensions = options.exposeExtensions ?? status < 500;
    this.errors = options.errors === undefined
      ? undefined
      : Object.freeze(options.errors.map((e) => ({ pointer: e.pointer, detail: e.detail })));

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      headers[name.toLowerCase()] = checkHeader(name, value);
    }
    if (status === 401) {
      headers["www-authenticate"] = checkHeader(
        "WWW-Authenticate",
        options.wwwAuthenticate ?? headers["www-authenticate"] ?? "Bearer",
      );
    }
    const retryAfter = options.retryAfter;
    if (retryAfter !== undefined) {
      if (typeof retryAfter !== "number" || !(retryAfter >= 0) || retryAfter === Infinity) {
        throw new RangeError(
          "Cannot create AppError: retryAfter must be a finite number of milliseconds, 0 or more",
        );
      }
      headers["retry-after"] = String(Math.ceil(retryAfter / 1000));
    }
    this.retryAfter = retryAfter;
    this.headers = Object.freeze(headers);
  }

  /** Marks plinth errors across package copies; see {@linkcode isAppError}. */
  get [BRAND](): true {
    return true;
  }

  /**
   * Renders the error as an RFC 9457 problem details object.
   *
   * @param options Type base URI, instance and request id for this rendering.
   * @returns A plain object ready for `JSON.stringify`.
   *
   * @example
   * ```ts
   * import { notFound } from "@plinth/errors";
   * import assert from "node:assert/strict";
   *
   * const problem = notFound("No user 42").toProblem({
   *   typeBase: "https://errors.example.com/",
   *   instance: "/users/42",
   * });
   * assert.equal(problem.type, "https://errors.example.com/not_found");
   * assert.equal(problem.instance, "/users/42");
   * ```
   */
  toProblem(options: ProblemOptions = {}): ProblemDetails {
    const maxDetail = options.maxDetailLength ?? 4096;
    let type = this.type;
    if (type === "about:blank" && options.typeBase !== undefined) {
      type = options.typeBase + this.code;
    }
    // Standard members first, in a stable order; extensions can never shadow them.
    const instance = this.instance ?? options.instance;
    const problem: ProblemDetails = {
      type,
      title: truncate(this.title, 256),
      status: this.status,
      detail: truncate(this.detail, maxDetail),
      ...(instance === undefined ? {} : { instance: truncate(instance, 2048) }),
      code: this.code,
      ...(options.requestId === undefined ? {} : { request_id: options.requestId }),
    };
    // A 5xx carries only the standard members unless its extensions were exposed explicitly.
    if (!this.exposeExtensions) return problem;
    for (const key of Object.keys(this.extensions)) {
      if (!RESERVED.has(key)) problem[key] = this.extensions[key];
    }
    if (this.errors !== undefined) {
      const max = options.maxErrors ?? 100;
      problem.errors = this.errors.slice(0, max).map((e) => ({
        pointer: truncate(String(e.pointer), 1024),
        detail: truncate(String(e.detail), 1024),
      }));
      if (this.errors.length > max) problem["errors_truncated"] = true;
    }
    return problem;
  }

  /**
   * The problem details, so `JSON.stringify(error)` gives the client's view of it.
   *
   * @returns The same object as `toProblem()` with no options.
   *
   * @example
   * ```ts
   * import { forbidden } from "@plinth/errors";
   * import assert from "node:assert/strict";
   *
   * const body = JSON.parse(JSON.stringify(forbidden("Not your organisation")));
   * assert.equal(body.code, "forbidden");
   * ```
   */
  toJSON(): ProblemDetails {
    return this.toProblem();
  }

  /**
   * The problem as an `application/problem+json` response with the error's headers. Hono's
   * default error handler calls this, so an `AppError` renders even without `problemHandler()`.
   *
   * @param options Type base URI, instance and request id for this rendering.
   * @returns A new `Response`.
   *
   * @example
   * ```ts
   * import { tooManyRequests } from "@plinth/errors";
   * import assert from "node:assert/strict";
   *
   * const res = tooManyRequests("Slow down", { retryAfter: 30_000 }).getResponse();
   * assert.equal(res.status, 429);
   * assert.equal(res.headers.get("content-type"), "application/problem+json");
   * assert.equal(res.headers.get("retry-after"), "30");
   * ```
   */
  getResponse(options: ProblemOptions = {}): Response {
    const problem = this.toProblem(options);
    const body = stringifyOr(problem, () => {
      // Extensions that cannot be serialised are dropped; the standard members always render.
      const { type, title, status, detail, instance, code, request_id, errors } = problem;
      return { type, title, status, detail, instance, code, request_id, errors };
    });
    return new Response(body, {
      status: this.status,
      headers: { ...this.headers, "content-type": "application/problem+json" },
    });
  }
}

/**
 * Whether a value is a plinth {@linkcode AppError}, also when it comes from another copy of
 * this package.
 *
 * @param value Anything, typically a caught error.
 * @returns `true` for an `AppError`.
 *
 * @example
 * ```ts
 * import { isAppError, notFound } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isAppError(notFound("No such org")), true);
 * assert.equal(isAppError(new Error("boom")), false);
 * ```
 */
export function isAppError(value: unknown): value is AppError {
  try {
    // Inside the try: `instanceof` runs a proxy's getPrototypeOf trap, which may throw.
    if (value instanceof AppError) return true;
    return typeof value === "object" && value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true;
  } catch {
    return false;
  }
}
