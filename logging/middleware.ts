import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { ContextRecord, currentContext, runInContext } from "./_context_store.ts";
import { runWithContext } from "./context.ts";
import { log } from "./default_logger.ts";
import type { LoggerLike } from "./logger_like.ts";
import { DEFAULT_REDACT_KEYS, QUERY_REDACT_KEYS, REDACTED } from "./redact.ts";
import { hasEmptyKey, isSecretParam, secretKeyMatcher } from "./_secret_keys.ts";

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const NO_CONTEXT = new ContextRecord({});

/**
 * Context variables set by {@linkcode requestId} (`c.var.requestId`).
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { requestId, type RequestIdVariables } from "@plinth/logging/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<{ Variables: RequestIdVariables }>();
 * app.use(requestId());
 * app.get("/", (c) => c.text(c.var.requestId));
 * const res = await app.request("/", { headers: { "x-request-id": "req-1" } });
 * assert.equal(await res.text(), "req-1");
 * ```
 */
export interface RequestIdVariables {
  /** The request's id: the accepted `X-Request-Id`, or a generated one. */
  requestId: string;
}

/**
 * Options of {@linkcode requestId}.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { requestId, type RequestIdOptions } from "@plinth/logging/hono";
 * import assert from "node:assert/strict";
 *
 * const options: RequestIdOptions = { generate: () => "fixed-id", trustIncoming: false };
 * const app = new Hono();
 * app.use(requestId(options));
 * app.get("/", (c) => c.text("ok"));
 * const res = await app.request("/", { headers: { "x-request-id": "from-client" } });
 * assert.equal(res.headers.get("x-request-id"), "fixed-id");
 * ```
 */
export interface RequestIdOptions {
  /** The request and response header. @default {"X-Request-Id"} */
  readonly headerName?: string | undefined;
  /**
   * Makes a new id; a result not matching `^[A-Za-z0-9._:-]{1,128}$` is replaced by a UUID.
   * @default {() => crypto.randomUUID()}
   */
  readonly generate?: ((c: Context) => string) | undefined;
  /** Whether to keep a valid incoming id (set `false` at an untrusted edge). @default {true} */
  readonly trustIncoming?: boolean | undefined;
}

/**
 * Hono middleware giving every request an id: a valid incoming `X-Request-Id`
 * (`^[A-Za-z0-9._:-]{1,128}$`) is kept, anything else replaced by a new UUID. The id is set as
 * `c.var.requestId` (which `@plinth/errors`' `problemHandler()` reads), sent back in the
 * response header, and put in the logging context, so every line logged while the request is
 * handled carries `request_id`. Register it first.
 *
 * @param options Header name, generator, trust in incoming ids.
 * @returns The middleware.
 * @throws {TypeError} When an option has the wrong type.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createLogger } from "@plinth/logging";
 * import { requestId } from "@plinth/logging/hono";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
 * const app = new Hono();
 * app.use(requestId());
 * app.get("/", async (c) => {
 *   await Promise.resolve();
 *   logger.info("handling");
 *   return c.text("ok");
 * });
 *
 * const res = await app.request("/", { headers: { "x-request-id": "bad id!" } });
 * const id = res.headers.get("x-request-id");
 * assert.match(id ?? "", /^[0-9a-f-]{36}$/);
 * assert.equal(JSON.parse(lines[0]!).request_id, id);
 * ```
 */
export function requestId(
  options: RequestIdOptions = {},
): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  const headerName = options.headerName ?? "X-Request-Id";
  if (typeof headerName !== "string" || !/^[A-Za-z0-9-]+$/.test(headerName)) {
    throw new TypeError("Invalid requestId option headerName: must be a header name");
  }
  const generate = options.generate;
  if (generate !== undefined && typeof generate !== "function") {
    throw new TypeError("Invalid requestId option generate: must be a function");
  }
  const trust = options.trustIncoming ?? true;
  return async function requestIdMiddleware(c, next): Promise<void> {
    const incoming = trust ? c.req.header(headerName) : undefined;
    let id = incoming !== undefined && ID_PATTERN.test(incoming) ? incoming : undefined;
    if (id === undefined && generate !== undefined) {
      const made: unknown = generate(c);
      if (typeof made === "string" && ID_PATTERN.test(made)) id = made;
    }
    id ??= crypto.randomUUID();
    c.set("requestId", id);
    await runWithContext({ request_id: id }, () => next());
    // Set on the response, whoever made it (c.json(), onError, a Response of the handler's own),
    // rather than with c.header() before next(): prepared headers take every c.json() off
    // Hono's plain-object path onto a Headers copy.
    try {
      c.res.headers.set(headerName, id);
    } catch {
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set(headerName, id);
    }
  };
}

/**
 * Options of {@linkcode requestLogger}.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createLogger } from "@plinth/logging";
 * import { requestLogger, type RequestLoggerOptions } from "@plinth/logging/hono";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const options: RequestLoggerOptions = {
 *   logger: createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } }),
 *   skip: ["/ping"],
 * };
 * const app = new Hono();
 * app.use(requestLogger(options));
 * app.get("/ping", (c) => c.text("pong"));
 * await app.request("/ping");
 * assert.equal(lines.length, 0);
 * ```
 */
export interface RequestLoggerOptions {
  /**
   * Where access lines go: any {@linkcode LoggerLike} (a plinth logger, pino, console).
   * @default {the default logger (`log`)}
   */
  readonly logger?: LoggerLike | undefined;
  /** Paths not logged (exact match), or a predicate. @default {["/healthz", "/metrics"]} */
  readonly skip?: readonly string[] | ((c: Context) => boolean) | undefined;
  /**
   * Query parameters whose values are redacted, besides {@linkcode DEFAULT_REDACT_KEYS} and
   * {@linkcode QUERY_REDACT_KEYS}; matched by normalised name and suffix like them. @default {[]}
   */
  readonly redact?: readonly string[] | undefined;
  /**
   * Use `X-Forwarded-For` / `X-Real-IP` for `client_ip` (only behind a proxy that sets them).
   * @default {false}
   */
  readonly trustProxy?: boolean | undefined;
  /** Finds the client address; replaces the built-in lookup. @default {undefined} */
  readonly clientIp?: ((c: Context) => string | undefined) | undefined;
  /** A monotonic clock in milliseconds, for `duration_ms`. @default {performance.now} */
  readonly now?: (() => number) | undefined;
  /**
   * How `response_size` is found.
   *
   * - `"auto"`: the `Content-Length` the response declares (0 for a 204 or 304); a body of a
   *   streamed media type (`text/event-stream`, NDJSON, JSON Lines, `application/octet-stream`)
   *   is counted as it is sent and the line is written when it ends; any other body without a
   *   declared length (what Hono's `c.json()`, `c.text()` and `c.html()` return, or a
   *   `new Response(stream)` without a `Content-Type`) is left alone and its line has no
   *   `response_size`.
   *   Reading such a body would take it off the runtime's fast path (a string written at once)
   *   onto a JavaScript stream, which costs more than the rest of the middleware together.
   * - `"count"`: every body without a declared length is counted as it is sent.
   * - `"declared"`: only the declared `Content-Length` (0 for a 204 or 304); no body is ever
   *   wrapped.
   *
   * @default {"auto"}
   */
  readonly responseSize?: "auto" | "count" | "declared" | undefined;
}

/** Media types whose bodies are streamed: `responseSize: "auto"` counts them as they are sent. */
const STREAMED_TYPES = new Set([
  "text/event-stream",
  "application/x-ndjson",
  "application/ndjson",
  "application/jsonl",
  "application/x-jsonlines",
  "application/octet-stream",
]);

/** Whether `responseSize: "auto"` counts a body of this `Content-Type`. */
function streamedType(contentType: string | null): boolean {
  // None declared: a stream (`new Response(stream)`), but on Bun also `new Response("text")`.
  if (contentType === null) return false;
  const semicolon = contentType.indexOf(";");
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim();
  return STREAMED_TYPES.has(type.toLowerCase());
}

function cut(value: string | undefined, max: number): string | undefined {
  if (value === undefined || value === "") return undefined;
  return value.length > max ? value.slice(0, max) : value;
}

/** The address the runtime's server adapter exposes (Deno.serve, @hono/node-server, Bun.serve). */
function adapterIp(c: Context): string | undefined {
  try {
    const env = c.env as Record<string, unknown> | undefined;
    if (typeof env !== "object" || env === null) return undefined;
    const remote = env.remoteAddr as { hostname?: unknown } | undefined;
    if (typeof remote?.hostname === "string") return remote.hostname;
    const incoming = env.incoming as { socket?: { remoteAddress?: unknown } } | undefined;
    if (typeof incoming?.socket?.remoteAddress === "string") return incoming.socket.remoteAddress;
    const requestIP = env.requestIP as ((r: Request) => { address?: unknown } | null) | undefined;
    if (typeof requestIP === "function") {
      const address = requestIP.call(env, c.req.raw)?.address;
      if (typeof address === "string") return address;
    }
  } catch {
    // An adapter that throws has no address to give.
  }
  return undefined;
}

function redactedQuery(url: string, isSecret: (name: string) => boolean): string | undefined {
  const start = url.indexOf("?");
  if (start === -1) return undefined;
  const hash = url.indexOf("#", start);
  const raw = url.slice(start + 1, hash === -1 ? undefined : hash);
  if (raw === "") return undefined;
  // Pairs are separated by "&" or ";" (both are kept as sent).
  return raw.split(/([&;])/).map((part, i) => {
    if (i % 2 === 1) return part;
    const eq = part.indexOf("=");
    const rawName = eq === -1 ? part : part.slice(0, eq);
    return isSecretParam(rawName, isSecret) ? `${rawName}=${REDACTED}` : part;
  }).join("");
}

interface MatchedRoute {
  readonly path: string;
  readonly handler: (...args: never[]) => unknown;
}

/** Hono's own rule (hono/dev's `inspectRoutes`): a middleware takes `next`, a handler does not. */
function isHandler(route: MatchedRoute): boolean {
  return typeof route.handler === "function" && route.handler.length < 2;
}

function templateOf(route: MatchedRoute | undefined): string | undefined {
  const path = route?.path;
  return typeof path === "string" && path !== "" && path !== "/*" && path !== "*"
    ? path
    : undefined;
}

/**
 * The route template of the handler that matched the request (`/orgs/:id`). When a middleware
 * answered first (an `authenticate()` on `/orgs/*` refusing the request), that is the first
 * handler matched after it; without one, the middleware's own route.
 */
function routeOf(c: Context): string | undefined {
  try {
    const routes = matchedRoutes(c) as readonly MatchedRoute[];
    const index = c.req.routeIndex;
    const current = routes[index];
    if (current !== undefined && isHandler(current)) return templateOf(current);
    for (let i = index + 1; i < routes.length; i++) {
      const route = routes[i]!;
      if (isHandler(route)) return templateOf(route) ?? templateOf(current);
    }
    return templateOf(current);
  } catch {
    return undefined;
  }
}

const LOGGER_METHODS = ["debug", "info", "warn", "error"] as const;

function levelFor(
  logger: LoggerLike,
  status: number,
): (message: string, fields: Record<string, unknown>) => void {
  if (status >= 500) return (message, fields) => logger.error(message, fields);
  if (status >= 400) return (message, fields) => logger.warn(message, fields);
  return (message, fields) => logger.info(message, fields);
}

/**
 * Hono middleware writing one access line per request, `Request completed`, once the handler
 * returned (a streamed body: once it has been sent): `method`, `route` (the template of the
 * handler that matched, such as `/orgs/:id`, also when a middleware on `/orgs/*` answered first),
 * `path` (no query string), `status`, `duration_ms` (until the handler returned),
 * `response_size` (bytes, when declared or counted: see the `responseSize` option), `client_ip`
 * when known, `user_agent`, and `query` with the values of secret parameters redacted (the
 * default redact keys and {@linkcode QUERY_REDACT_KEYS}, matched by normalised name: `api-key`,
 * `password[]`, `X-Amz-Signature`; pairs split on `&` and `;`). Headers are never logged. The level
 * follows the status: 5xx `error`, 4xx `warn`, else `info`. Register it after
 * {@linkcode requestId} so the line carries `request_id`.
 *
 * @param options Logger, skip list, redaction, client-address lookup, clock, response sizing.
 * @returns The middleware.
 * @throws {TypeError} When an option has the wrong type.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createLogger } from "@plinth/logging";
 * import { requestId, requestLogger } from "@plinth/logging/hono";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
 * const app = new Hono();
 * app.use(requestId());
 * app.use(requestLogger({ logger }));
 * app.get("/orgs/:id", (c) => c.json({ id: c.req.param("id") }));
 *
 * const res = await app.request("/orgs/acme?token=s3cret", { headers: { "x-request-id": "r-1" } });
 * await res.text();
 * const line = JSON.parse(lines[0]!);
 * assert.equal(line.route, "/orgs/:id");
 * assert.equal(line.path, "/orgs/acme");
 * assert.equal(line.status, 200);
 * assert.equal(line.query, "token=[REDACTED]");
 * assert.equal(line.request_id, "r-1");
 * ```
 */
export function requestLogger(options: RequestLoggerOptions = {}): MiddlewareHandler {
  const { logger, skip, redact, trustProxy, clientIp, now } = options;
  const sizing = options.responseSize ?? "auto";
  if (sizing !== "auto" && sizing !== "count" && sizing !== "declared") {
    throw new TypeError(
      'Invalid requestLogger option responseSize: must be "auto", "count" or "declared"',
    );
  }
  if (
    logger !== undefined &&
    (typeof logger !== "object" || logger === null ||
      !LOGGER_METHODS.every((name) => typeof logger[name] === "function"))
  ) {
    throw new TypeError(
      "Invalid requestLogger option logger: must have debug, info, warn and error methods",
    );
  }
  if (
    skip !== undefined && typeof skip !== "function" &&
    !(Array.isArray(skip) && skip.every((path) => typeof path === "string"))
  ) {
    throw new TypeError("Invalid requestLogger option skip: must be paths or a function");
  }
  if (
    redact !== undefined && !(Array.isArray(redact) && redact.every((k) => typeof k === "string"))
  ) {
    throw new TypeError("Invalid requestLogger option redact: must be an array of names");
  }
  if (redact !== undefined && hasEmptyKey(redact)) {
    throw new TypeError("Invalid requestLogger option redact: every name needs a letter or digit");
  }
  for (const [name, fn] of [["clientIp", clientIp], ["now", now]] as const) {
    if (fn !== undefined && typeof fn !== "function") {
      throw new TypeError(`Invalid requestLogger option ${name}: must be a function`);
    }
  }
  const skipPaths = new Set(typeof skip === "function" ? [] : skip ?? ["/healthz", "/metrics"]);
  const skipWhen = typeof skip === "function" ? skip : undefined;
  const secret = secretKeyMatcher([
    ...DEFAULT_REDACT_KEYS,
    ...QUERY_REDACT_KEYS,
    ...(redact ?? []),
  ]);
  const clock = now ?? (() => performance.now());
  const target = logger ?? log;

  return async function requestLoggerMiddleware(c, next): Promise<void> {
    const path = c.req.path;
    if (skipPaths.has(path) || (skipWhen !== undefined && skipWhen(c))) {
      await next();
      return;
    }
    const start = clock();
    // Read before next(): without AsyncLocalStorage (the synchronous fallback) the context
    // requestId() set is gone once next() has awaited anything.
    const record = currentContext() ?? NO_CONTEXT;
    let failed = false;
    let thrown: unknown;
    try {
      await next();
    } catch (error) {
      failed = true;
      thrown = error;
    }
    const status = failed ? 500 : c.res.status;
    const fields: Record<string, unknown> = {
      method: c.req.method,
      route: routeOf(c),
      path,
      status,
      duration_ms: Math.round((clock() - start) * 1000) / 1000,
      response_size: undefined,
      client_ip: cut(
        clientIp !== undefined
          ? clientIp(c)
          : (trustProxy
            ? (c.req.header("x-forwarded-for")?.split(",")[0]?.trim() ||
              c.req.header("x-real-ip"))
            : undefined) ?? adapterIp(c),
        64,
      ),
      user_agent: cut(c.req.header("user-agent"), 256),
      query: redactedQuery(c.req.url, secret),
    };
    const write = levelFor(target, status);
    const emit = (size: number | undefined): void => {
      fields.response_size = size;
      // Still in the request's context (the handler returned): write at once; from a body
      // stream's pull or cancel, the request's context is entered again.
      if (currentContext() === record) write("Request completed", fields);
      else runInContext(record, () => write("Request completed", fields));
    };
    if (failed) {
      emit(undefined);
      throw thrown;
    }
    const headers = c.res.headers;
    const length = headers.get("content-length");
    if (length !== null && /^\d+$/.test(length)) return emit(Number(length));
    if (status === 204 || status === 304) return emit(0);
    // Touching the body of a response built from a string (c.json()) takes it off the runtime's
    // fast path: only bodies that are streams anyway are looked at (see responseSize).
    if (
      sizing === "declared" || (sizing === "auto" && !streamedType(headers.get("content-type")))
    ) {
      return emit(undefined);
    }
    const body = c.res.body;
    if (body === null) return emit(0);
    let bytes = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      emit(bytes);
    };
    const reader = body.getReader();
    const counted = new ReadableStream<Uint8Array>({
      async pull(controller): Promise<void> {
        try {
          const { done: end, value } = await reader.read();
          if (end) {
            controller.close();
            finish();
            return;
          }
          bytes += value?.byteLength ?? 0;
          controller.enqueue(value);
        } catch (error) {
          finish();
          controller.error(error);
        }
      },
      cancel(reason): Promise<void> {
        finish();
        return reader.cancel(reason);
      },
    });
    c.res = new Response(counted, c.res);
  };
}
