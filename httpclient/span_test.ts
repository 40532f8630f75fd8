import { test } from "node:test";
import assert from "node:assert/strict";
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { withSpan } from "@plinth/tracing";
import { createHttpClient } from "./mod.ts";
import { startServer } from "./_test_server.ts";

test("createHttpClient() records one CLIENT span per attempt when an SDK is registered", async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const manager = new AsyncLocalStorageContextManager().enable();
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(manager);
  const server = await startServer((_req, res, _body, hit) => {
    res.statusCode = hit < 3 ? 503 : 200;
    res.end();
  });
  try {
    const client = createHttpClient({ baseUrl: server.url, retry: { base: 1, max: 2 } });
    const parent = await withSpan("handler", async (span) => {
      await (await client.get("orders?secret=1")).arrayBuffer();
      return span;
    });
    const spans = exporter.getFinishedSpans().filter((s) => s.name === "GET");
    assert.equal(spans.length, 3);
    const ids = spans.map((s) => s.spanContext().spanId);
    // Each attempt's traceparent names its own span, under the caller's trace.
    const sent = server.seen.map((s) => String(s.headers.traceparent).split("-")[2]);
    assert.deepEqual(sent, ids);
    for (const [i, span] of spans.entries()) {
      assert.equal(span.kind, SpanKind.CLIENT);
      assert.equal(span.spanContext().traceId, parent.traceId);
      assert.equal(span.parentSpanContext?.spanId, parent.spanId);
      assert.equal(span.attributes["http.response.status_code"], i < 2 ? 503 : 200);
      assert.equal(span.attributes["url.full"], `${server.url}orders`); // no query
      assert.equal(span.attributes["http.request.resend_count"], i === 0 ? undefined : i);
    }
  } finally {
    await server.close();
    trace.disable();
    context.disable();
    propagation.disable();
    manager.disable();
    await provider.shutdown();
  }
});
