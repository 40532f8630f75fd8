import type { Context, Handler, MiddlewareHandler } from "hono";
import type { Metrics } from "./create_metrics.ts";
import { DEFAULT_DURATION_BUCKETS } from "./metric_types.ts";

/**
 * The `route` label of a request no handler matched (Hono's not-found answer, or a middleware
 * answering a path no route has).
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createMetrics } from "@plinth/metrics";
 * import { httpMetrics, UNMATCHED_ROUTE } from "@plinth/metrics/hono";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "svc", defaultMetrics: false });
 * const app = new Hono();
 * app.use(httpMetrics(metrics));
 * await app.request("/wp-login.php");
 * const { body } = await metrics.render();
 * assert.ok(body.includes(`route="${UNMATCHED_ROUTE}",status="404"`));
 * ```
 */
export const UNMATCHED_ROUTE = "(unmatched)";

const METHODS: ReadonlyMap<string, string> = new Map(
  ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"].map((
    m,
  ) => [m, m]),
);

/** Marks a request answered by {@linkcode metricsHandler}, which httpMetrics() never counts. */
const SCRAPE = "plinthMetricsScrape";

/**
 * Options of {@linkcode httpMetrics}.
 *
 * @example
 * ```ts
 * import type { HttpMetricsOptions } from "@plinth/metrics/hono";
 * import assert from "node:assert/strict";
 *
 * const options: HttpMetricsOptions = { skip: ["/healthz"], buckets: [0.01, 0.1, 1] };
 * assert.deepEqual(options.skip, ["/healthz"]);
 * ```
 */
export interface HttpMetricsOptions {
  /**
   * Paths not counted (exact match), besides `/metrics` and whatever
   * {@linkcode metricsHandler} answers, or a predicate. @default {[]}
   */
  readonly skip?: readonly string[] | ((c: Context) => boolean) | undefined;
  /** Buckets of `http_request_duration_seconds`, in seconds. @default {DEFAULT_DURATION_BUCKETS} */
  readonly buckets?: readonly number[] | undefined;
  /** A monotonic clock in milliseconds. @default {performance.now} */
  readonly now?: (() => number) | undefined;
}

interface MatchedRoute {
  readonly path: string;
  readonly method: string;
  readonly handler: (...args: never[]) => unknown;
}

/** Hono's own rule (hono/dev's `inspectRoutes`): a middleware takes `next`, a handler does not. */
function isHandler(route: MatchedRoute): boolean {
  return typeof route.handler === "function" && route.handler.length < 2;
}

/**
 * The template of the route that answered (`/orgs/:id`, with an `app.route()` prefix): the
 * handler at the current route index, else the first handler matched after the middleware that
 * answered; {@linkcode UNMATCHED_ROUTE} when no handler matched. Reads `c.req.matchedRoutes`,
 * which every Hono 4 has (4.6 has no `hono/route` helper).
 */
function routeOf(c: Context): string {
  const req = c.req as unknown as {
    readonly matchedRoutes?: readonly MatchedRoute[];
    readonly routeIndex?: number;
  };
  const routes = req.matchedRoutes;
  if (routes === undefined) return UNMATCHED_ROUTE;
  const index = req.routeIndex ?? 0;
  for (let i = index; i < routes.length; i++) {
    const route = routes[i]!;
    if (isHandler(route)) return route.path;
  }
  return UNMATCHED_ROUTE;
}

const STATUS = new Map<number, string>();
function statusLabel(status: number): string {
  let label = STATUS.get(status);
  if (label === undefined) {
    label = String(status);
    if (STATUS.size < 1000) STATUS.set(status, label);
  }
  return label;
}

/**
 * Hono middleware counting HTTP requests in three metrics of `metrics`:
 * `http_requests_total{method,route,status}`, `http_request_duration_seconds{method,route,status}`
 * (a histogram, 5 ms to 10 s by default) and `http_requests_in_flight`. `route` is the matched
 * template (`/orgs/:id`, through `app.route()` too), never the raw path; a request no route
 * matched is {@linkcode UNMATCHED_ROUTE}; a method outside GET, HEAD, POST, PUT, DELETE, CONNECT,
 * OPTIONS, TRACE and PATCH is `OTHER`; a handler that throws is counted with the status the
 * app's error handler sent. `/metrics`, what {@linkcode metricsHandler} answers and the `skip`
 * paths are not counted. Register it first, before the routes.
 *
 * @param metrics Where the three metrics are registered (with its prefix).
 * @param options Paths to skip, buckets, clock.
 * @returns The middleware.
 * @throws {TypeError} When an option has the wrong type, or the metrics exist already.
 * @throws {RangeError} When `buckets` are not finite and strictly increasing.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createMetrics } from "@plinth/metrics";
 * import { httpMetrics, metricsHandler } from "@plinth/metrics/hono";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "orgs", defaultMetrics: false });
 * const app = new Hono();
 * app.use(httpMetrics(metrics));
 * app.get("/metrics", metricsHandler(metrics));
 * app.get("/orgs/:id", (c) => c.json({ id: c.req.param("id") }));
 *
 * await app.request("/orgs/acme");
 * await app.request("/orgs/globex");
 * const res = await app.request("/metrics");
 * assert.match(
 *   await res.text(),
 *   /^http_requests_total\{method="GET",route="\/orgs\/:id",status="200",service="orgs"\} 2$/m,
 * );
 * ```
 */
export function httpMetrics(metrics: Metrics, options: HttpMetricsOptions = {}): MiddlewareHandler {
  if (typeof metrics !== "object" || metrics === null || typeof metrics.counter !== "function") {
    throw new TypeError("Invalid httpMetrics argument metrics: must come from createMetrics()");
  }
  const skip = options.skip ?? [];
  let skipped: (c: Context) => boolean;
  if (typeof skip === "function") {
    skipped = (c) => c.req.path === "/metrics" || skip(c) === true;
  } else if (Array.isArray(skip) && skip.every((p) => typeof p === "string")) {
    const paths = new Set<string>(["/metrics", ...skip]);
    skipped = (c) => paths.has(c.req.path);
  } else {
    throw new TypeError("Invalid httpMetrics option skip: must be an array of paths or a function");
  }
  const now = options.now ?? (() => performance.now());
  if (typeof now !== "function") {
    throw new TypeError("Invalid httpMetrics option now: must be a function");
  }
  const requests = metrics.counter({
    name: "http_requests_total",
    help: "HTTP requests answered, by method, route template and status.",
    labelNames: ["method", "route", "status"],
  });
  const duration = metrics.histogram({
    name: "http_request_duration_seconds",
    help: "Time until the handler returned a response, in seconds.",
    labelNames: ["method", "route", "status"],
    buckets: options.buckets ?? DEFAULT_DURATION_BUCKETS,
  });
  const inFlight = metrics.gauge({
    name: "http_requests_in_flight",
    help: "HTTP requests being handled now.",
  });
  const record = (c: Context, start: number, status: number): void => {
    if (c.get(SCRAPE as never) === true) return;
    const labels = {
      method: METHODS.get(c.req.method) ?? "OTHER",
      route: routeOf(c),
      status: statusLabel(status),
    };
    requests.inc(labels);
    duration.observe(labels, (now() - start) / 1000);
  };
  return async function httpMetricsMiddleware(c, next): Promise<void> {
    if (skipped(c)) return next();
    const start = now();
    inFlight.inc();
    try {
      await next();
    } catch (error) {
      // Only a thrown non-Error gets here (Hono gives Errors to the app's onError): the
      // runtime answers it with a bare 500.
      record(c, start, 500);
      throw error;
    } finally {
      inFlight.dec();
    }
    record(c, start, c.res.status);
  };
}

/**
 * Options of {@linkcode metricsHandler}.
 *
 * @example
 * ```ts
 * import type { MetricsHandlerOptions } from "@plinth/metrics/hono";
 * import assert from "node:assert/strict";
 *
 * const options: MetricsHandlerOptions = { openMetrics: false };
 * assert.equal(options.openMetrics, false);
 * ```
 */
export interface MetricsHandlerOptions {
  /** Answer OpenMetrics when the scraper's `Accept` prefers it. @default {true} */
  readonly openMetrics?: boolean | undefined;
}

/**
 * A Hono handler for `GET /metrics`: the registry of `metrics` in OpenMetrics 1.0.0 when the
 * scraper's `Accept` prefers it (Prometheus does), else the text format 0.0.4, always with the
 * matching `Content-Type` (which Prometheus 3 requires). {@linkcode httpMetrics} never counts
 * the requests it answers.
 *
 * @param metrics The metrics to render.
 * @param options Whether OpenMetrics may be answered.
 * @returns The handler.
 * @throws {TypeError} When an argument has the wrong type.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { createMetrics } from "@plinth/metrics";
 * import { metricsHandler } from "@plinth/metrics/hono";
 * import assert from "node:assert/strict";
 *
 * using metrics = createMetrics({ service: "orgs", defaultMetrics: false });
 * const app = new Hono();
 * app.get("/metrics", metricsHandler(metrics));
 *
 * const text = await app.request("/metrics");
 * assert.equal(text.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
 * const open = await app.request("/metrics", {
 *   headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5" },
 * });
 * assert.match(open.headers.get("content-type") ?? "", /^application\/openmetrics-text/);
 * assert.match(await open.text(), /# EOF\n$/);
 * ```
 */
export function metricsHandler(metrics: Metrics, options: MetricsHandlerOptions = {}): Handler {
  if (typeof metrics !== "object" || metrics === null || typeof metrics.render !== "function") {
    throw new TypeError("Invalid metricsHandler argument metrics: must come from createMetrics()");
  }
  const openMetrics = options.openMetrics ?? true;
  if (typeof openMetrics !== "boolean") {
    throw new TypeError("Invalid metricsHandler option openMetrics: must be a boolean");
  }
  return async function metricsEndpoint(c): Promise<Response> {
    c.set(SCRAPE as never, true as never);
    const { body, contentType } = await metrics.render({
      accept: openMetrics ? c.req.header("accept") : undefined,
    });
    return c.body(body, 200, { "Content-Type": contentType, "Cache-Control": "no-store" });
  };
}
