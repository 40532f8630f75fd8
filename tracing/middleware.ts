import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import type { Attributes } from "@opentelemetry/api";
import { endSpan, sdkTracer, startSpan } from "./_otel.ts";
import { extractTraceContext } from "./propagation.ts";
import type { TraceContext } from "./trace_context.ts";
import { runInSpan, spanView } from "./_run.ts";
import { type ActiveSpan, currentTrace } from "./with_span.ts";

/**
 * Context variables set by {@linkcode tracing} (`c.var.trace`).
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { tracing, type TracingVariables } from "@plinth/tracing/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<{ Variables: TracingVariables }>();
 * app.use(tracing());
 * app.get("/", (c) => c.text(c.var.trace.traceId));
 * const res = await app.request("/", {
 *   headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
 * });
 * assert.equal(await res.text(), "4bf92f3577b34da6a3ce929d0e0e4736");
 * ```
 */
export interface TracingVariables {
  /** The request's SERVER span: its ids, `traceparent`, `setAttribute()`. */
  trace: ActiveSpan;
}

/**
 * Options of {@linkcode tracing}.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { tracing, type TracingOptions, type TracingVariables } from "@plinth/tracing/hono";
 * import assert from "node:assert/strict";
 *
 * const options: TracingOptions = { trustIncoming: false };
 * const app = new Hono<{ Variables: TracingVariables }>();
 * app.use(tracing(options));
 * app.get("/", (c) => c.text(c.var.trace.traceId));
 * const res = await app.request("/", {
 *   headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00" },
 * });
 * assert.notEqual(await res.text(), "4bf92f3577b34da6a3ce929d0e0e4736");
 * ```
 */
export interface TracingOptions {
  /**
   * Whether to continue a valid incoming `traceparent` (its trace id, its `sampled` flag, its
   * `tracestate`). Set `false` on an edge-facing service: every request starts a new trace and
   * makes its own sampling decision; with an SDK the caller's context becomes a span link.
   * @default {true}
   */
  readonly trustIncoming?: boolean | undefined;
}

const METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "OPTIONS",
  "TRACE",
  "PATCH",
]);

interface MatchedRoute {
  readonly path: string;
  readonly handler: (...args: never[]) => unknown;
}

function templateOf(route: MatchedRoute | undefined): string | undefined {
  const path = route?.path;
  return typeof path === "string" && path !== "" && path !== "/*" && path !== "*"
    ? path
    : undefined;
}

/** The route template of the handler that will answer (Hono routes before any middleware runs). */
function routeOf(c: Context): string | undefined {
  try {
    const routes = matchedRoutes(c) as readonly MatchedRoute[];
    for (let i = c.req.routeIndex; i < routes.length; i++) {
      const route = routes[i]!;
      // Hono's own rule: a middleware takes `next`, a handler does not.
      if (typeof route.handler === "function" && route.handler.length < 2) return templateOf(route);
    }
  } catch {
    // No match result (a request that never went through the router).
  }
  return undefined;
}

/** `url.scheme`, `server.address`, `server.port` from an absolute URL, without parsing it all. */
function serverAttributes(url: string, attributes: Attributes): void {
  const colon = url.indexOf(":");
  if (colon <= 0 || url[colon + 1] !== "/" || url[colon + 2] !== "/") return;
  const scheme = url.slice(0, colon);
  attributes["url.scheme"] = scheme;
  const start = colon + 3;
  let end = start;
  while (end < url.length && url[end] !== "/" && url[end] !== "?" && url[end] !== "#") end++;
  let host = url.slice(start, end);
  const at = host.lastIndexOf("@");
  if (at !== -1) host = host.slice(at + 1);
  const portAt = host.lastIndexOf(":");
  if (portAt !== -1 && !host.endsWith("]")) {
    const port = Number(host.slice(portAt + 1));
    host = host.slice(0, portAt);
    if (Number.isInteger(port) && port > 0) attributes["server.port"] = port;
  } else {
    attributes["server.port"] = scheme === "https" ? 443 : 80;
  }
  if (host !== "") attributes["server.address"] = host;
}

function errorType(error: Error): string {
  const name = error.constructor?.name;
  return typeof name === "string" && name !== "" && name !== "Object" ? name : error.name;
}

/**
 * Hono middleware tracing every request: it continues a valid incoming W3C `traceparent` (or
 * starts a new trace), runs the rest of the request in one SERVER span named
 * `METHOD /route/template`, puts `trace_id`, `span_id` and `trace_flags` in the logging context
 * (so every line logged for the request carries them) and sets `c.var.trace`. With an
 * OpenTelemetry SDK registered (or Deno's `OTEL_DENO=true`) the span is real, with the stable
 * HTTP semantic-convention attributes (`http.request.method`, `http.route`, `url.path`,
 * `url.scheme`, `server.address`, `server.port`, `user_agent.original`,
 * `http.response.status_code`, `error.type`), an error status on a 5xx, with the exception
 * recorded when one was thrown (a thrown 4xx, like any 4xx, leaves it unset). It never records the query string, nor any header but `User-Agent`:
 * no `Authorization`, cookie or API key reaches a span. Register it right after `requestId()`.
 *
 * @param options Whether to trust the caller's trace context.
 * @returns The middleware.
 * @throws {TypeError} When an option has the wrong type.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createLogger } from "@plinth/logging";
 * import { tracing } from "@plinth/tracing/hono";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
 * const app = new Hono();
 * app.use(tracing());
 * app.get("/orgs/:id", async (c) => {
 *   await Promise.resolve();
 *   logger.info("loading org");
 *   return c.text("ok");
 * });
 *
 * await app.request("/orgs/7?secret=x", {
 *   headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
 * });
 * const line = JSON.parse(lines[0]!);
 * assert.equal(line.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
 * assert.match(line.span_id, /^[0-9a-f]{16}$/);
 * assert.notEqual(line.span_id, "00f067aa0ba902b7");
 * ```
 */
export function tracing(
  options: TracingOptions = {},
): MiddlewareHandler<{ Variables: TracingVariables }> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Invalid tracing options: must be an object");
  }
  const trust = options.trustIncoming ?? true;
  if (typeof trust !== "boolean") {
    throw new TypeError("Invalid tracing option trustIncoming: must be a boolean");
  }
  return async function tracingMiddleware(c, next): Promise<void> {
    const incoming = extractTraceContext(c.req.raw.headers);
    let parent: TraceContext | undefined;
    let link: TraceContext | undefined;
    if (trust) {
      const current = currentTrace();
      parent = incoming !== undefined && current?.traceId !== incoming.traceId
        ? incoming
        : current ?? incoming;
    } else {
      link = incoming;
    }
    // The name and attributes are for an SDK's span: without one they would be thrown away.
    let name = "";
    let attributes: Attributes | undefined;
    if (sdkTracer() !== undefined) {
      const original = c.req.method;
      const method = METHODS.has(original) ? original : "_OTHER";
      const route = routeOf(c);
      attributes = { "http.request.method": method, "url.path": c.req.path };
      if (method !== original) attributes["http.request.method_original"] = original;
      if (route !== undefined) attributes["http.route"] = route;
      serverAttributes(c.req.url, attributes);
      const agent = c.req.raw.headers.get("user-agent");
      if (agent !== null) attributes["user_agent.original"] = agent;
      name = route === undefined ? method : `${method} ${route}`;
    }
    const handle = startSpan(name, "server", parent, attributes, link);
    c.set("trace", spanView(handle));
    const span = handle.span;
    let thrown: unknown;
    let threw = false;
    try {
      await runInSpan(handle, next);
    } catch (error) {
      thrown = error;
      threw = true;
    }
    if (span !== undefined) {
      const status = c.res.status;
      span.setAttribute("http.response.status_code", status);
      // A handled throw that became a 4xx (a 404 AppError, an HTTPException 401) is the
      // client's error, not the server's: the span's status stays unset, as for any 4xx.
      const error = threw ? thrown : status >= 500 ? c.error : undefined;
      if (error !== undefined) {
        span.setAttribute(
          "error.type",
          error instanceof Error ? errorType(error) : "_OTHER",
        );
        endSpan(span, error, true);
      } else if (status >= 500) {
        span.setAttribute("error.type", String(status));
        endSpan(span, undefined, true);
      } else {
        endSpan(span, undefined, false);
      }
    }
    if (threw) throw thrown;
  };
}
