import { getContext, log } from "@plinth/logging";
import { injectTraceHeaders, withSpan } from "@plinth/tracing";
import { ERROR_BODY_LIMIT, quotaSpent, readText, UpstreamProblem } from "./_body.ts";
import { HttpClientError, type HttpClientErrorCode } from "./http_client_error.ts";
import { backoffDelay, parseRetryAfter, type RetryOptions } from "./retry.ts";
import { sdkRegistered, writeTraceHeaders } from "./_trace.ts";

/**
 * A `fetch` function: the runtime's, or any with the same signature (a test double, a fetch
 * with a custom dispatcher).
 *
 * @example
 * ```ts
 * import type { FetchLike } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const fetch: FetchLike = () => Promise.resolve(new Response("ok"));
 * assert.equal(await (await fetch("http://x.test/")).text(), "ok");
 * ```
 */
export type FetchLike = (input: Request | URL | string, init?: RequestInit) => Promise<Response>;

/**
 * Where a client logs its retries: any object with `debug`, `info`, `warn` and `error` (a plinth
 * logger, pino, `console`).
 *
 * @example
 * ```ts
 * import { createHttpClient, type HttpClientLogger } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger: HttpClientLogger = {
 *   debug: (message) => lines.push(message),
 *   info: () => {},
 *   warn: () => {},
 *   error: () => {},
 * };
 * let calls = 0;
 * const fetch = () => Promise.resolve(new Response(null, { status: ++calls === 1 ? 503 : 204 }));
 * await createHttpClient({ fetch, logger, retry: { base: 1 } }).get("http://a.test/");
 * assert.deepEqual(lines, ["Retrying upstream request"]);
 * ```
 */
export interface HttpClientLogger {
  /** Writes a `debug` line (each retry). */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Writes an `info` line. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Writes a `warn` line. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Writes an `error` line. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Options of {@linkcode createHttpClient}.
 *
 * @example
 * ```ts
 * import { createHttpClient, type CreateHttpClientOptions } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const options: CreateHttpClientOptions = {
 *   baseUrl: "https://billing.internal/v1/",
 *   timeout: 2000,
 *   totalTimeout: 5000,
 *   retry: { attempts: 4 },
 *   headers: { "user-agent": "orgs/1.0" },
 * };
 * assert.equal(createHttpClient(options).baseUrl, "https://billing.internal/v1/");
 * ```
 */
export interface CreateHttpClientOptions {
  /** The URL that request paths are resolved against. @default {undefined (paths must be absolute URLs)} */
  readonly baseUrl?: string | URL | undefined;
  /** The longest wait for one attempt's response headers, in ms. @default {10000} */
  readonly timeout?: number | undefined;
  /** The longest a whole call may take, retries and their waits included, in ms. @default {30000} */
  readonly totalTimeout?: number | undefined;
  /** How to retry, or `false` for a single attempt. @default {{ attempts: 3, base: 200, max: 10000 }} */
  readonly retry?: RetryOptions | false | undefined;
  /** Headers sent on every request (a request's own headers win). @default {{}} */
  readonly headers?: HeadersInit | undefined;
  /** The `fetch` to call. @default {globalThis.fetch} */
  readonly fetch?: FetchLike | undefined;
  /** Where retries are logged (at debug). @default {log (plinth's default logger)} */
  readonly logger?: HttpClientLogger | undefined;
  /**
   * The largest body, in bytes, the client reads itself (`json()` views, error bodies, OpenAI
   * responses). @default {10485760}
   */
  readonly maxResponseSize?: number | undefined;
  /** The clock, epoch ms. @default {Date.now} */
  readonly now?: (() => number) | undefined;
}

/**
 * Options of one request. `timeout`, `totalTimeout` and `retry` override the client's.
 *
 * @example
 * ```ts
 * import type { RequestOptions } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const options: RequestOptions = {
 *   json: { name: "Acme" },
 *   headers: { "idempotency-key": "7f3c" }, // makes a POST retryable
 *   query: { dryRun: true },
 *   signal: AbortSignal.timeout(10_000),
 * };
 * assert.equal(options.query?.dryRun, true);
 * ```
 */
export interface RequestOptions {
  /** Headers of this request. @default {undefined} */
  readonly headers?: HeadersInit | undefined;
  /** The body. A `ReadableStream` body is sent once, never retried. @default {undefined} */
  readonly body?: BodyInit | null | undefined;
  /** A value to send as JSON (sets `content-type`); replaces `body`. @default {undefined} */
  readonly json?: unknown;
  /** Query parameters appended to the URL (`undefined` values skipped). @default {undefined} */
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>> | undefined;
  /**
   * The caller's signal: aborting it aborts the call (its reason is thrown as it is) and, for a
   * returned `Response`, the body's reading. @default {undefined}
   */
  readonly signal?: AbortSignal | undefined;
  /** Overrides the client's `timeout`. @default {the client's} */
  readonly timeout?: number | undefined;
  /** Overrides the client's `totalTimeout`. @default {the client's} */
  readonly totalTimeout?: number | undefined;
  /** Overrides the client's `retry`. @default {the client's} */
  readonly retry?: RetryOptions | false | undefined;
  /**
   * Whether a non-2xx final response throws an {@linkcode HttpClientError} (`false` returns it).
   * @default {true}
   */
  readonly throwHttpErrors?: boolean | undefined;
}

/**
 * One issue of a failed validation, as zod (and other Standard-Schema-like validators) report it.
 *
 * @example
 * ```ts
 * import type { SchemaIssue } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const issue: SchemaIssue = { path: ["members", 0, "email"], code: "invalid_format" };
 * assert.equal(issue.path.length, 3);
 * ```
 */
export interface SchemaIssue {
  /** Where in the value. */
  readonly path: readonly PropertyKey[];
  /** The kind of problem (`invalid_type`). */
  readonly code?: string | undefined;
  /** What was expected, when the validator says (`string`). */
  readonly expected?: unknown;
}

/**
 * A validator with zod's `safeParse()`: a zod schema is one.
 *
 * @example
 * ```ts
 * import type { Schema } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const isNumber: Schema<number> = {
 *   safeParse: (data) =>
 *     typeof data === "number"
 *       ? { success: true, data }
 *       : { success: false, error: { issues: [{ path: [], code: "invalid_type" }] } },
 * };
 * assert.equal(isNumber.safeParse(1).success, true);
 * ```
 */
export interface Schema<T> {
  /**
   * Validates `data`.
   * @param data The parsed JSON.
   */
  safeParse(
    data: unknown,
  ):
    | { readonly success: true; readonly data: T }
    | { readonly success: false; readonly error: { readonly issues: readonly SchemaIssue[] } };
}

/**
 * Typed JSON calls through an {@linkcode HttpClient}, made by `client.json(schema)`: each reads
 * the body (within the timeouts and `maxResponseSize`), parses it and validates it.
 *
 * @example
 * ```ts
 * import { createHttpClient, type JsonClient } from "@plinth/httpclient";
 * import { z } from "zod";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => Promise.resolve(Response.json({ id: "acme" }));
 * const client = createHttpClient({ baseUrl: "http://orgs.test/", fetch });
 * const orgs: JsonClient<{ id: string }> = client.json(z.object({ id: z.string() }));
 * assert.deepEqual(await orgs.get("orgs/acme"), { id: "acme" });
 * ```
 */
export interface JsonClient<T> {
  /**
   * `GET`s `path` and returns the validated body.
   * @param path Resolved against `baseUrl`.
   * @param options The request's options.
   */
  get(path: string | URL, options?: RequestOptions): Promise<T>;
  /**
   * `POST`s and returns the validated body.
   * @param path Resolved against `baseUrl`.
   * @param options The request's options (`json` for the body).
   */
  post(path: string | URL, options?: RequestOptions): Promise<T>;
  /**
   * `PUT`s and returns the validated body.
   * @param path Resolved against `baseUrl`.
   * @param options The request's options.
   */
  put(path: string | URL, options?: RequestOptions): Promise<T>;
  /**
   * `PATCH`es and returns the validated body.
   * @param path Resolved against `baseUrl`.
   * @param options The request's options.
   */
  patch(path: string | URL, options?: RequestOptions): Promise<T>;
  /**
   * `DELETE`s and returns the validated body.
   * @param path Resolved against `baseUrl`.
   * @param options The request's options.
   */
  delete(path: string | URL, options?: RequestOptions): Promise<T>;
}

/**
 * A client made by {@linkcode createHttpClient}. The verb methods return the `Response` (a
 * non-2xx throws, unless `throwHttpErrors: false`); its body is then the caller's to read or
 * cancel, under the caller's `signal` (the client's timeouts cover the response headers).
 *
 * @example
 * ```ts
 * import { createHttpClient, type HttpClient } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const fetch = (input: Request | URL | string) => Promise.resolve(new Response(String(input)));
 * const client: HttpClient = createHttpClient({ baseUrl: "http://a.test/v1/", fetch });
 * assert.equal(await (await client.get("orgs", { query: { page: 2 } })).text(), "http://a.test/v1/orgs?page=2");
 * ```
 */
export interface HttpClient {
  /** The base URL, normalised, or `undefined`. */
  readonly baseUrl: string | undefined;
  /**
   * Sends a request with any method.
   * @param method The HTTP method.
   * @param path Resolved against `baseUrl`.
   * @param options The request's options.
   */
  request(method: string, path: string | URL, options?: RequestOptions): Promise<Response>;
  /**
   * `GET`s `path`.
   * @param path Resolved against `baseUrl`.
   * @param options The request's options.
   */
  get(path: string | URL, options?: RequestOptions): Promise<Response>;
  /**
   * `POST`s to `path` (retried only with an `Idempotency-Key` header).
   * @param path Resolved against `baseUrl`.
   * @param options The request's options.
   */
  post(path: string | URL, options?: RequestOptions): Promise<Response>;
  /**
   * `PUT`s to `path`.
   * @param path Resolved against `baseUrl`.
   * @param options The request's options.
   */
  put(path: string | URL, options?: RequestOptions): Promise<Response>;
  /**
   * `PATCH`es `path` (retried only with an `Idempotency-Key` header).
   * @param path Resolved against `baseUrl`.
   * @param options The request's options.
   */
  patch(path: string | URL, options?: RequestOptions): Promise<Response>;
  /**
   * `DELETE`s `path`.
   * @param path Resolved against `baseUrl`.
   * @param options The request's options.
   */
  delete(path: string | URL, options?: RequestOptions): Promise<Response>;
  /**
   * Typed JSON calls validated by `schema`.
   * @param schema A zod schema, or anything with its `safeParse()`.
   */
  json<T>(schema: Schema<T>): JsonClient<T>;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
const RETRY_STATUSES = new Set([408, 429, 502, 503, 504]);
const TIMEOUT = Symbol("timeout");

interface RetrySettings {
  readonly attempts: number;
  readonly base: number;
  readonly max: number;
  readonly random: () => number;
  readonly retryAfter: (response: Response, now: number) => number | undefined;
}

function positive(value: unknown, name: string, fallback: number, action: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${action}: option "${name}" must be a positive number of ms`);
  }
  return value;
}

function retrySettings(retry: unknown, action: string): RetrySettings {
  if (retry === false) {
    return {
      attempts: 1,
      base: 200,
      max: 10_000,
      random: Math.random,
      retryAfter: parseRetryAfter,
    };
  }
  if (retry !== undefined && (typeof retry !== "object" || retry === null)) {
    throw new TypeError(`${action}: option "retry" must be an object or false`);
  }
  const r = (retry ?? {}) as RetryOptions;
  const attempts = r.attempts ?? 3;
  if (!Number.isSafeInteger(attempts) || attempts < 1) {
    throw new RangeError(`${action}: option "retry.attempts" must be an integer of at least 1`);
  }
  if (r.random !== undefined && typeof r.random !== "function") {
    throw new TypeError(`${action}: option "retry.random" must be a function`);
  }
  if (r.retryAfter !== undefined && typeof r.retryAfter !== "function") {
    throw new TypeError(`${action}: option "retry.retryAfter" must be a function`);
  }
  return {
    attempts,
    base: positive(r.base, "retry.base", 200, action),
    max: positive(r.max, "retry.max", 10_000, action),
    random: r.random ?? Math.random,
    retryAfter: r.retryAfter ?? parseRetryAfter,
  };
}

function checkLogger(logger: unknown, action: string): HttpClientLogger | undefined {
  if (logger === undefined) return undefined;
  if (
    typeof logger !== "object" || logger === null ||
    ["debug", "info", "warn", "error"].some((m) =>
      typeof (logger as Record<string, unknown>)[m] !== "function"
    )
  ) {
    throw new TypeError(`${action}: option "logger" must have debug, info, warn and error methods`);
  }
  return logger as HttpClientLogger;
}

/** The combination of the caller's signal and the client's timers. */
function combine(controller: AbortController, signal: AbortSignal | undefined): AbortSignal {
  if (signal === undefined) return controller.signal;
  if (typeof AbortSignal.any === "function") return AbortSignal.any([signal, controller.signal]);
  // Runtimes before AbortSignal.any (Node < 20.3): forward the caller's abort.
  signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  return controller.signal;
}

/** Waits `ms`, or rejects with the caller's abort reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (ms <= 0) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The JSON Pointer of a schema issue's path. */
function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => "/" + String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/** What a call needs of its URL, computed once per path. */
interface Target {
  readonly href: string;
  readonly host: string;
  readonly hostname: string;
  /** Origin and path, without query or credentials (for spans). */
  readonly base: string;
  readonly pathname: string;
}

/** Copies `init`'s headers into `record` (lower-case names; a later value wins). */
function headerRecord(
  init: HeadersInit | undefined,
  record: Record<string, string>,
): Record<string, string> {
  new Headers(init).forEach((value, key) => {
    record[key] = value;
  });
  return record;
}

function targetOf(url: URL): Target {
  return {
    href: url.href,
    host: url.host,
    hostname: url.hostname,
    base: url.origin + url.pathname,
    pathname: url.pathname,
  };
}

function withQuery(
  url: URL,
  query: Readonly<Record<string, string | number | boolean | undefined>>,
): Target {
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.append(key, String(value));
  }
  return targetOf(url);
}

/** The settings of one call, resolved from the client's and the request's options. */
interface Call {
  readonly method: string;
  readonly url: Target;
  readonly upstream: string;
  readonly headers: Record<string, string>;
  readonly body: BodyInit | null | undefined;
  readonly signal: AbortSignal | undefined;
  readonly timeout: number;
  readonly deadline: number;
  readonly totalTimeout: number;
  readonly retry: RetrySettings;
  readonly retryable: boolean;
  readonly streamBody: boolean;
}

/** `GET host/path`: how messages name a call (built only for a message). */
function label(call: Call): string {
  return `${call.method} ${call.url.host}${call.url.pathname}`;
}

/** A response with its attempt's timer still running (clear it: the caller's signal still governs the body). */
interface Sent {
  readonly response: Response;
  readonly attempts: number;
  /** The attempt's timer, `undefined` when none runs. */
  readonly timer: ReturnType<typeof setTimeout> | undefined;
  /** The attempt's controller: aborted with the timeout marker when the timer fired. */
  readonly controller: AbortController | undefined;
}

/** Whether the attempt's timer aborted it. */
function timedOut(sent: Sent): boolean {
  const signal = sent.controller?.signal;
  return signal !== undefined && signal.aborted && signal.reason === TIMEOUT;
}

/**
 * Creates an HTTP client over `fetch` that retries only what is safe to retry and never waits
 * past its timeouts.
 *
 * - **Timeouts.** `timeout` bounds each attempt until the response headers arrive, `totalTimeout`
 *   the whole call (retries and waits included); both are combined with the caller's `signal`. A
 *   timeout throws a 504 {@linkcode HttpClientError} `upstream_timeout`; the caller's abort is
 *   re-thrown as its own reason.
 * - **Retries.** Only `GET`, `HEAD`, `OPTIONS`, `PUT`, `DELETE`, `TRACE`, or a request with an
 *   `Idempotency-Key` header; never a `ReadableStream` body. On a network error before any
 *   response, an attempt's timeout, and 408, 429, 502, 503, 504 — never another 4xx, never a
 *   429 whose body says `insufficient_quota`. The wait is a full-jitter exponential backoff or
 *   the upstream's `Retry-After`/`retry-after-ms`, and is clamped to the time left: when no time
 *   would be left for another attempt, the call fails at once instead. Each retry is logged at
 *   debug with its attempt, delay and reason. A response that is not returned is cancelled.
 * - **Propagation.** Every attempt sends a `traceparent` naming its own span id under the
 *   current trace (or starting a new trace), the caller's `tracestate`, and the logging
 *   context's `request_id` as `X-Request-Id` (unless the request sets one). With an
 *   OpenTelemetry SDK registered, each attempt runs in a CLIENT span (`withSpan()` of
 *   `@plinth/tracing`) and the `traceparent` names it; without one no span is recorded, so the
 *   attempt pays for no span (the `fetch` then runs in the caller's logging context).
 * - **Errors.** A final 5xx throws `upstream_error` (502), a 429 `upstream_rate_limited` or
 *   `upstream_quota_exceeded` (503), a 408 `upstream_timeout`, another 4xx `upstream_rejected`
 *   (502), no response `upstream_unreachable` (502); what the upstream said (its problem or
 *   OpenAI error body, read up to 64 KiB) is the `cause`.
 *
 * @param options Base URL, timeouts, retry, default headers, `fetch`, logger, size cap, clock.
 * @returns The client.
 * @throws {TypeError} When an option has the wrong type or `baseUrl` is not a URL.
 * @throws {RangeError} When a timeout, `maxResponseSize` or a retry setting is out of range.
 *
 * @example
 * ```ts
 * import { createHttpClient, HttpClientError } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * let calls = 0;
 * const fetch = () =>
 *   Promise.resolve(++calls < 3 ? new Response("busy", { status: 503 }) : Response.json({ ok: true }));
 * const client = createHttpClient({ baseUrl: "http://billing.test/", fetch, retry: { base: 1 } });
 * const res = await client.get("invoices");
 * assert.deepEqual(await res.json(), { ok: true });
 * assert.equal(calls, 3);
 *
 * calls = 0;
 * await assert.rejects(client.post("invoices", { json: {} }), (error: unknown) => {
 *   assert.ok(error instanceof HttpClientError);
 *   assert.equal(error.code, "upstream_error"); // a POST without an Idempotency-Key: one attempt
 *   return calls === 1;
 * });
 * ```
 */
export function createHttpClient(options: CreateHttpClientOptions = {}): HttpClient {
  const action = "Cannot create HTTP client";
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${action}: options must be an object`);
  }
  let baseUrl: string | undefined;
  if (options.baseUrl !== undefined) {
    if (typeof options.baseUrl !== "string" && !(options.baseUrl instanceof URL)) {
      throw new TypeError(`${action}: option "baseUrl" must be a string or a URL`);
    }
    if (!URL.canParse(String(options.baseUrl))) {
      throw new TypeError(`${action}: option "baseUrl" must be an absolute URL`);
    }
    baseUrl = new URL(String(options.baseUrl)).href;
  }
  const timeout = positive(options.timeout, "timeout", 10_000, action);
  const totalTimeout = positive(options.totalTimeout, "totalTimeout", 30_000, action);
  const retry = retrySettings(options.retry, action);
  const fetchFn = options.fetch ?? globalThis.fetch;
  if (typeof fetchFn !== "function") {
    throw new TypeError(`${action}: option "fetch" must be a function`);
  }
  const logger: HttpClientLogger = checkLogger(options.logger, action) ?? log;
  const maxResponseSize = options.maxResponseSize ?? 10_485_760;
  if (!Number.isSafeInteger(maxResponseSize) || maxResponseSize <= 0) {
    throw new RangeError(`${action}: option "maxResponseSize" must be a positive integer`);
  }
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw new TypeError(`${action}: option "now" must be a function`);
  let defaults: Record<string, string>;
  try {
    defaults = headerRecord(options.headers, {});
  } catch (cause) {
    throw new TypeError(`${action}: option "headers" must be valid headers`, { cause });
  }

  // Resolved paths, kept so that a hot path is parsed once (bounded: a client calls few paths).
  const targets = new Map<string, Target>();
  function resolve(path: string | URL): Target {
    const key = typeof path === "string" ? path : undefined;
    const known = key === undefined ? undefined : targets.get(key);
    if (known !== undefined) return known;
    const target = targetOf(new URL(path, baseUrl));
    if (key !== undefined && targets.size < 1000) targets.set(key, target);
    return target;
  }

  function prepare(method: string, path: string | URL, o: RequestOptions): Call {
    const act = "Cannot send request";
    if (typeof o !== "object" || o === null) {
      throw new TypeError(`${act}: options must be an object`);
    }
    let url: Target;
    try {
      url = o.query === undefined ? resolve(path) : withQuery(new URL(path, baseUrl), o.query);
    } catch {
      throw new TypeError(`${act}: path must be a URL, or relative to option "baseUrl"`);
    }
    // A plain record (lower-case names) is cheaper than a Headers object on every runtime.
    const headers: Record<string, string> = { ...defaults };
    if (o.headers !== undefined) {
      headerRecord(o.headers, headers);
    }
    let body = o.body;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      if (headers["content-type"] === undefined) headers["content-type"] = "application/json";
    }
    if (headers["x-request-id"] === undefined) {
      const id = getContext()?.request_id;
      if (id !== undefined) headers["x-request-id"] = id;
    }
    const upper = method.toUpperCase();
    const streamBody = typeof ReadableStream !== "undefined" && body instanceof ReadableStream;
    const signal = o.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(`${act}: option "signal" must be an AbortSignal`);
    }
    const callTimeout = positive(o.timeout, "timeout", timeout, act);
    const callTotal = positive(o.totalTimeout, "totalTimeout", totalTimeout, act);
    const callRetry = o.retry === undefined ? retry : retrySettings(o.retry, act);
    return {
      method: upper,
      url,
      upstream: url.host,
      headers,
      body,
      signal,
      timeout: callTimeout,
      totalTimeout: callTotal,
      deadline: now() + callTotal,
      retry: callRetry,
      retryable: !streamBody &&
        (IDEMPOTENT.has(upper) || headers["idempotency-key"] !== undefined),
      streamBody,
    };
  }

  function timeoutError(call: Call, which: string, attempts: number): HttpClientError {
    return new HttpClientError(`Cannot ${label(call)}: no response within the ${which}`, {
      code: "upstream_timeout",
      upstream: call.upstream,
      attempts,
    });
  }

  /** One attempt: a response (timers running), or the error and whether to retry it. */
  async function attempt(
    call: Call,
    n: number,
  ): Promise<
    | { response: Response; controller: AbortController; timer: ReturnType<typeof setTimeout> }
    | { error: unknown; retry: boolean; reason: string }
  > {
    const remaining = call.deadline - now();
    const total = remaining <= call.timeout;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(TIMEOUT),
      Math.max(0, Math.min(call.timeout, remaining)),
    );
    const signal = combine(controller, call.signal);
    const init: RequestInit & { duplex?: string } = { headers: call.headers, signal };
    if (call.method !== "GET") init.method = call.method; // GET is fetch's default: one less conversion
    if (call.body !== undefined && call.body !== null) init.body = call.body;
    if (call.streamBody) init.duplex = "half";
    try {
      let response: Response;
      if (sdkRegistered()) {
        const attributes: Record<string, string | number> = {
          "http.request.method": call.method,
          "server.address": call.url.hostname,
          "url.full": call.url.base,
        };
        if (n > 1) attributes["http.request.resend_count"] = n - 1;
        response = await withSpan(call.method, async (span) => {
          injectTraceHeaders(call.headers);
          const response = await fetchFn(call.url.href, init);
          span.setAttribute("http.response.status_code", response.status);
          if (response.status >= 400) span.setAttribute("error.type", String(response.status));
          return response;
        }, { kind: "client", attributes });
      } else {
        // No SDK, so no span to record: the attempt's traceparent without the span's cost.
        writeTraceHeaders(call.headers);
        response = await fetchFn(call.url.href, init);
      }
      return { response, controller, timer };
    } catch (error) {
      clearTimeout(timer);
      if (call.signal?.aborted) return { error: call.signal.reason, retry: false, reason: "abort" };
      if (controller.signal.aborted && controller.signal.reason === TIMEOUT) {
        return {
          error: timeoutError(call, total ? "totalTimeout" : "timeout", n),
          retry: !total,
          reason: "timeout",
        };
      }
      return {
        error: new HttpClientError(`Cannot ${label(call)}: no response from the upstream`, {
          code: "upstream_unreachable",
          upstream: call.upstream,
          attempts: n,
          cause: error,
        }),
        retry: true,
        reason: "network error",
      };
    }
  }

  function statusError(
    call: Call,
    status: number,
    problem: UpstreamProblem,
    n: number,
  ): HttpClientError {
    let code: HttpClientErrorCode;
    if (status === 429) {
      code = quotaSpent(problem) ? "upstream_quota_exceeded" : "upstream_rate_limited";
    } else if (status === 408) code = "upstream_timeout";
    else if (status >= 500) code = "upstream_error";
    else code = "upstream_rejected";
    const what = status >= 500 ? "failed" : "refused the request";
    return new HttpClientError(`Cannot ${label(call)}: the upstream ${what} with ${status}`, {
      code,
      upstream: call.upstream,
      upstreamStatus: status,
      upstreamCode: problem.upstreamCode,
      attempts: n,
      cause: problem,
    });
  }

  async function send(call: Call, throwHttpErrors: boolean): Promise<Sent> {
    if (call.signal?.aborted) throw call.signal.reason;
    for (let n = 1;; n++) {
      const result = await attempt(call, n);
      let failure: unknown;
      let kept: Response | undefined; // the failed response, rebuilt, for throwHttpErrors: false
      let reason: string;
      let wait: number | undefined;
      let canRetry: boolean;
      if ("response" in result) {
        const { response, controller, timer } = result;
        const status = response.status;
        const retryStatus = RETRY_STATUSES.has(status);
        if (
          response.ok ||
          (!throwHttpErrors && (!retryStatus || !call.retryable || n >= call.retry.attempts))
        ) {
          return { response, attempts: n, timer, controller };
        }
        // A failure: read what it says (bounded), then decide.
        let text: string;
        try {
          text = await readText(response, ERROR_BODY_LIMIT, call.upstream, true);
        } catch {
          text = "";
        } finally {
          clearTimeout(timer);
        }
        if (call.signal?.aborted) throw call.signal.reason;
        const problem = new UpstreamProblem(status, text);
        failure = statusError(call, status, problem, n);
        if (!throwHttpErrors) {
          const { statusText, headers } = response;
          kept = new Response(text, { status, statusText, headers });
        }
        canRetry = retryStatus && !(status === 429 && quotaSpent(problem));
        reason = `status ${status}`;
        if (canRetry) wait = call.retry.retryAfter(response, now());
      } else {
        if (result.reason === "abort") throw result.error;
        failure = result.error;
        canRetry = result.retry;
        reason = result.reason;
      }
      const left = call.deadline - now();
      const delay = Math.min(wait ?? backoffDelay(n, call.retry), Math.max(0, left));
      if (
        !canRetry || !call.retryable || n >= call.retry.attempts ||
        delay >= left // no time would be left for another attempt
      ) {
        if (kept === undefined) throw failure;
        return { response: kept, attempts: n, timer: undefined, controller: undefined };
      }
      logger.debug("Retrying upstream request", {
        upstream: call.upstream,
        method: call.method,
        path: call.url.pathname,
        attempt: n + 1,
        delay,
        reason,
      });
      await sleep(delay, call.signal);
    }
  }

  async function request(
    method: string,
    path: string | URL,
    o: RequestOptions = {},
  ): Promise<Response> {
    if (typeof method !== "string" || !/^[A-Za-z]+$/.test(method)) {
      throw new TypeError("Cannot send request: method must be an HTTP method name");
    }
    return await run(method, path, o);
  }

  /** `request()` for a method known to be valid (the verb helpers). */
  async function run(method: string, path: string | URL, o: RequestOptions): Promise<Response> {
    const sent = await send(prepare(method, path, o), o.throwHttpErrors !== false);
    clearTimeout(sent.timer);
    return sent.response;
  }

  function json<T>(schema: Schema<T>): JsonClient<T> {
    if (typeof schema !== "object" || schema === null || typeof schema.safeParse !== "function") {
      throw new TypeError("Cannot create JSON client: schema must have a safeParse() method");
    }
    async function call(method: string, path: string | URL, o: RequestOptions = {}): Promise<T> {
      const prepared = prepare(method, path, o);
      if (prepared.headers.accept === undefined) prepared.headers.accept = "application/json";
      const sent = await send(prepared, true);
      let text: string;
      try {
        text = await readText(sent.response, maxResponseSize, prepared.upstream);
      } catch (error) {
        if (prepared.signal?.aborted) throw prepared.signal.reason;
        if (timedOut(sent)) throw timeoutError(prepared, "timeout", sent.attempts);
        throw error;
      } finally {
        clearTimeout(sent.timer);
      }
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        throw new HttpClientError(`Cannot ${label(prepared)}: the response is not JSON`, {
          code: "upstream_invalid_response",
          upstream: prepared.upstream,
          upstreamStatus: sent.response.status,
        });
      }
      const result = schema.safeParse(data);
      if (result.success) return result.data;
      const issues = result.error.issues;
      const first = issues[0];
      const where = first === undefined ? "" : pointer(first.path) || "(the whole body)";
      const kind = first?.code === undefined ? "is invalid" : `is ${first.code}`;
      const expected = typeof first?.expected === "string" ? ` (expected ${first.expected})` : "";
      throw new HttpClientError(
        `Cannot ${
          label(prepared)
        }: the response does not match the schema: field ${where} ${kind}${expected}`,
        {
          code: "upstream_invalid_response",
          upstream: prepared.upstream,
          upstreamStatus: sent.response.status,
        },
      );
    }
    return {
      get: (path, o) => call("GET", path, o),
      post: (path, o) => call("POST", path, o),
      put: (path, o) => call("PUT", path, o),
      patch: (path, o) => call("PATCH", path, o),
      delete: (path, o) => call("DELETE", path, o),
    };
  }

  return {
    baseUrl,
    request,
    get: (path, o = {}) => run("GET", path, o),
    post: (path, o = {}) => run("POST", path, o),
    put: (path, o = {}) => run("PUT", path, o),
    patch: (path, o = {}) => run("PATCH", path, o),
    delete: (path, o = {}) => run("DELETE", path, o),
    json,
  };
}
