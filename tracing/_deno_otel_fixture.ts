// Run by deno_otel_test.ts under `OTEL_DENO=true`: a traced request and a child span, with no
// SDK set-up, so Deno's built-in OpenTelemetry must be what exports them.
import { Hono } from "hono";
import { createLogger } from "@plinth/logging";
import { withSpan } from "@plinth/tracing";
import { tracing } from "@plinth/tracing/hono";

const lines: Record<string, unknown>[] = [];
const logger = createLogger({
  service: "fixture",
  destination: { write: (line) => void lines.push(JSON.parse(line)) },
});
const app = new Hono();
app.use(tracing());
app.get("/orders/:id", async (c) => {
  const span = await withSpan("load order", async (span) => {
    await Promise.resolve();
    logger.info("in child");
    return span;
  }, { attributes: { "app.order": c.req.param("id") } });
  logger.info("in server");
  const logged = lines.map((l) => [l["message"], l["trace_id"], l["span_id"]]);
  return c.json({ traceId: span.traceId, spanId: span.spanId, recording: span.recording, logged });
});
const res = await app.request("/orders/42", {
  headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
});
console.log(JSON.stringify(await res.json()));
