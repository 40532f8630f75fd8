import { AppError } from "@plinth/errors";

/**
 * Why a call to an upstream failed: the stable `code` of an {@linkcode HttpClientError}.
 *
 * - `upstream_timeout` (504): an attempt, the whole call or the gap between two streamed chunks
 *   took longer than its timeout.
 * - `upstream_unreachable` (502): no response: the connection was refused, reset or never made.
 * - `upstream_error` (502): the upstream answered 5xx, or sent an error in the middle of a stream.
 * - `upstream_rejected` (502): the upstream answered a 4xx other than 429: the request it got was
 *   wrong, which is this service's fault, not its caller's.
 * - `upstream_rate_limited` (503): the upstream answered 429 and retries did not help in time.
 * - `upstream_quota_exceeded` (503): the upstream answered 429 with `insufficient_quota`: the
 *   account's quota is spent, and no retry will change that.
 * - `upstream_response_too_large` (502): the body was larger than `maxResponseSize`.
 * - `upstream_invalid_response` (502): the body was not the JSON, schema or stream expected.
 *
 * @example
 * ```ts
 * import { HttpClientError, type HttpClientErrorCode } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const code: HttpClientErrorCode = "upstream_timeout";
 * assert.equal(new HttpClientError("Timed out", { code }).status, 504);
 * ```
 */
export type HttpClientErrorCode =
  | "upstream_timeout"
  | "upstream_unreachable"
  | "upstream_error"
  | "upstream_rejected"
  | "upstream_rate_limited"
  | "upstream_quota_exceeded"
  | "upstream_response_too_large"
  | "upstream_invalid_response";

/** The HTTP status of each code. */
const STATUS: Readonly<Record<HttpClientErrorCode, 502 | 503 | 504>> = {
  upstream_timeout: 504,
  upstream_unreachable: 502,
  upstream_error: 502,
  upstream_rejected: 502,
  upstream_rate_limited: 503,
  upstream_quota_exceeded: 503,
  upstream_response_too_large: 502,
  upstream_invalid_response: 502,
};

/**
 * Every {@linkcode HttpClientErrorCode}, frozen, in the order of the README's error codes table.
 *
 * @example
 * ```ts
 * import { HTTP_CLIENT_ERROR_CODES } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * assert.ok(HTTP_CLIENT_ERROR_CODES.includes("upstream_unreachable"));
 * assert.ok(Object.isFrozen(HTTP_CLIENT_ERROR_CODES));
 * ```
 */
export const HTTP_CLIENT_ERROR_CODES: readonly HttpClientErrorCode[] = Object.freeze(
  Object.keys(STATUS) as HttpClientErrorCode[],
);

/**
 * Options of {@linkcode HttpClientError}.
 *
 * @example
 * ```ts
 * import { HttpClientError, type HttpClientErrorOptions } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const options: HttpClientErrorOptions = {
 *   code: "upstream_error",
 *   upstream: "billing.internal",
 *   upstreamStatus: 503,
 * };
 * assert.equal(new HttpClientError("Upstream failed", options).upstreamStatus, 503);
 * ```
 */
export interface HttpClientErrorOptions {
  /** Why the call failed. */
  readonly code: HttpClientErrorCode;
  /** The upstream's host (`api.openai.com`), never its credentials or query. @default {undefined} */
  readonly upstream?: string | undefined;
  /** The status the upstream answered, when it answered. @default {undefined} */
  readonly upstreamStatus?: number | undefined;
  /** The upstream's own error code (`insufficient_quota`), when its body had one. @default {undefined} */
  readonly upstreamCode?: string | undefined;
  /** How many attempts were made. @default {undefined} */
  readonly attempts?: number | undefined;
  /** The error behind this one (the upstream's problem, the network error). @default {undefined} */
  readonly cause?: unknown;
}

/**
 * A failed call to an upstream: a 502, 503 or 504 {@linkcode AppError} with a stable `code`, the
 * upstream's host, status and own code as properties (and as problem extensions, which a 5xx keeps
 * in the logs), and what the upstream said as `cause`, so `errorChain()` shows it all.
 *
 * @example
 * ```ts
 * import { HttpClientError } from "@plinth/httpclient";
 * import { errorChain, isAppError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const cause = new Error("connect ECONNREFUSED 127.0.0.1:9");
 * const error = new HttpClientError("Cannot reach billing.internal", {
 *   code: "upstream_unreachable",
 *   upstream: "billing.internal",
 *   cause,
 * });
 * assert.equal(error.name, "HttpClientError");
 * assert.equal(error.status, 502);
 * assert.equal(isAppError(error), true);
 * assert.deepEqual(errorChain(error), [error, cause]);
 * ```
 */
export class HttpClientError extends AppError {
  /** Why the call failed. */
  declare readonly code: HttpClientErrorCode;
  /** The upstream's host. */
  readonly upstream: string | undefined;
  /** The status the upstream answered, when it answered. */
  readonly upstreamStatus: number | undefined;
  /** The upstream's own error code, when its body had one. */
  readonly upstreamCode: string | undefined;
  /** How many attempts were made. */
  readonly attempts: number | undefined;

  /**
   * Creates an upstream error.
   *
   * @param message Text for logs: the failed action first, then the upstream and the reason.
   * @param options The `code`, the upstream's details and the `cause`.
   * @throws {TypeError} When `message` is not a string or `code` is not a
   *   {@linkcode HttpClientErrorCode}.
   */
  constructor(message: string, options: HttpClientErrorOptions) {
    if (typeof message !== "string") {
      throw new TypeError("Cannot create HttpClientError: message must be a string");
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Cannot create HttpClientError: options must be an object with a code");
    }
    const status = STATUS[options.code];
    if (status === undefined || !Object.hasOwn(STATUS, options.code)) {
      throw new TypeError(
        "Cannot create HttpClientError: code must be one of HTTP_CLIENT_ERROR_CODES",
      );
    }
    const extensions: Record<string, unknown> = {};
    if (options.upstream !== undefined) extensions.upstream = options.upstream;
    if (options.upstreamStatus !== undefined) extensions.upstream_status = options.upstreamStatus;
    if (options.upstreamCode !== undefined) extensions.upstream_code = options.upstreamCode;
    if (options.attempts !== undefined) extensions.attempts = options.attempts;
    super(message, { status, code: options.code, cause: options.cause, extensions });
    this.name = "HttpClientError";
    this.upstream = options.upstream;
    this.upstreamStatus = options.upstreamStatus;
    this.upstreamCode = options.upstreamCode;
    this.attempts = options.attempts;
  }
}
