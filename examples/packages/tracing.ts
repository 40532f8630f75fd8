/**
 * `@plinth/tracing`: a request arriving with a W3C `traceparent` goes through `tracing()` of
 * `@plinth/tracing/hono`; every line logged while it is handled carries the caller's trace id,
 * a `withSpan()` inside gets its own span id, and the headers of an outgoing call continue the
 * trace. No OpenTelemetry SDK is registered, so plinth makes the ids itself (run it with
 * `OTEL_DENO=true` and Deno's exporter receives real spans). Requests go through
 * `app.request()`, so no port is opened. Prints the log lines, then one line per check.
 *
 * Permissions (README, "Deno permissions"): none.
 *
 * ```sh
 * deno run examples/packages/tracing.ts
 * ```
 *
 * @module
 */
import { Hono } from "hono";
import { createLogger } from "@plinth/logging";
import { requestId } from "@plinth/logging/hono";
import { injectTraceHeaders, parseTraceparent, withSpan } from "@plinth/tracing";
import { tracing, type TracingVariables } from "@plinth/tracing/hono";

const lines: Record<string, unknown>[] = [];
const logger = createLogger({
  service: "orders",
  destination: {
    write: (line: string) => {
      lines.push(JSON.parse(line));
      console.log(line.trimEnd());
    },
  },
});

const app = new Hono<{ Variables: TracingVariables }>();
app.use(requestId(), tracing());
app.get("/orders/:id", async (c) => {
  logger.info("loading order", { order_id: c.req.param("id") });
  await withSpan("SELECT orders", () => logger.info("querying"), {
    kind: "client",
    attributes: { "db.system.name": "postgresql" },
  });
  // What a call to another service would send.
  const outgoing = injectTraceHeaders(new Headers());
  return c.json({ spanId: c.var.trace.spanId, traceparent: outgoing.get("traceparent") });
});

const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const res = await app.request("/orders/42", { headers: { traceparent: caller } });
const body = await res.json() as { spanId: string; traceparent: string };

const traceId = parseTraceparent(caller)!.traceId;
console.log(
  `every line carries the caller's trace id: ${lines.every((l) => l.trace_id === traceId)}`,
);
console.log(`the query has its own span id: ${lines[1]?.span_id !== body.spanId}`);
console.log(`outgoing traceparent continues the trace: ${body.traceparent}`);
