// Run by deno_otel_test.ts under `OTEL_DENO=true`: a traced request and a child span, with no
// SDK set-up, so Deno's built-in OpenTelemetry must be what exports them.
import { Hono } from "hono";
import { withSpan } from "@plinth/tracing";
import { tracing } from "@plinth/tracing/hono";

const app = new Hono();
app.use(tracing());
app.get("/orders/:id", async (c) => {
  const span = await withSpan("load order", (span) => span, {
    attributes: { "app.order": c.req.param("id") },
  });
  return c.json({ traceId: span.traceId, spanId: span.spanId, recording: span.recording });
});
const res = await app.request("/orders/42", {
  headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
});
console.log(JSON.stringify(await res.json()));
