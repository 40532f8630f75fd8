import { test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { waitFor } from "@plinth/testing";
import { registerTracing, type RegisterTracingOptions } from "./register_tracing.ts";
import { resolveOptions, wireSdk } from "./_wire_sdk.ts";
import { tracing } from "./middleware.ts";
import { withSpan } from "./with_span.ts";
import { startReceiver } from "./_test_receiver.ts";

const onDeno = "Deno" in globalThis;
// On Deno registerTracing() refuses (OTEL_DENO is the way there); the SDK wiring behind it
// still runs on Deno's Node compatibility, so Deno tests it directly.
const register = onDeno
  ? (options: RegisterTracingOptions) => wireSdk(resolveOptions(options))
  : registerTracing;
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

test(
  "registerTracing() sends spans to an OTLP/HTTP receiver as JSON",
  async () => {
    const receiver = await startReceiver();
    try {
      const registration = await register({
        service: "orders-svc",
        serviceVersion: "1.2.3",
        endpoint: `${receiver.url}/v1/traces`,
        exportInterval: 20,
        headers: { "x-collector-key": "k" },
      });
      try {
        const app = new Hono();
        app.use(tracing());
        app.get("/orders/:id", async (c) => {
          await withSpan("SELECT orders", () => undefined, { kind: "client" });
          return c.text("ok");
        });
        await app.request("/orders/1?secret=x", {
          headers: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01`, authorization: "Bearer x" },
        });
        await registration.flush();
        await waitFor(() => receiver.spans().length >= 2, 5000, "two spans at the receiver");
      } finally {
        await registration.close();
      }
      const spans = receiver.spans();
      assert.ok(receiver.contentTypes.every((type) => type.startsWith("application/json")));
      const server = spans.find((s) => s.name === "GET /orders/:id");
      const query = spans.find((s) => s.name === "SELECT orders");
      assert.ok(server !== undefined && query !== undefined, JSON.stringify(spans));
      assert.equal(server.service, "orders-svc");
      assert.equal(server.scope, "@plinth/tracing");
      assert.equal(server.traceId, TRACE);
      assert.equal(server.parentSpanId, "00f067aa0ba902b7");
      assert.equal(server.kind, 2, "SERVER");
      assert.equal(server.attributes["http.route"], "/orders/:id");
      assert.equal(server.attributes["url.path"], "/orders/1");
      assert.equal(server.attributes["http.response.status_code"], 200);
      assert.equal(query.parentSpanId, server.spanId);
      assert.equal(query.kind, 3, "CLIENT");
      assert.doesNotMatch(JSON.stringify(spans), /secret|Bearer/);
      // Closed: the API is a no-op again, plinth makes its own ids.
      const after = await withSpan("after close", (span) => span);
      assert.equal(after.recording, false);
    } finally {
      await receiver.close();
    }
  },
);

test("registerTracing() reads the endpoint from the environment", async () => {
  const base = await register({
    service: "svc",
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" },
  });
  assert.equal(base.endpoint, "http://collector:4318/v1/traces");
  await base.close();
  const traces = await register({
    service: "svc",
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:9999/custom",
    },
  });
  assert.equal(traces.endpoint, "http://traces:9999/custom");
  await traces.close();
  await traces.close(); // idempotent
  const local = await register({ service: "svc", env: {} });
  assert.equal(local.endpoint, "http://localhost:4318/v1/traces");
  await local[Symbol.asyncDispose]();
});

test("registerTracing() samples new traces by the sampler, children by their parent", async () => {
  const exporter = new InMemorySpanExporter();
  const registration = await register({ service: "svc", exporter, sampler: "always_off" });
  try {
    const root = await withSpan("root", (span) => span);
    assert.equal(root.traceFlags, 0);
    const child = await withSpan("child", (span) => span, {
      parent: { traceId: TRACE, spanId: "00f067aa0ba902b7", traceFlags: 1, isRemote: true },
    });
    assert.equal(child.traceFlags, 1);
    await registration.flush();
    assert.deepEqual(exporter.getFinishedSpans().map((s) => s.name), ["child"]);
  } finally {
    await registration.close();
  }
});

test("registerTracing() refuses a second provider with already_registered", async () => {
  const exporter = new InMemorySpanExporter();
  const first = await register({ service: "svc", exporter });
  try {
    await assert.rejects(register({ service: "svc", exporter }), {
      name: "TracingError",
      code: "already_registered",
    });
  } finally {
    await first.close();
  }
});

test("registerTracing() on Deno explains OTEL_DENO with unsupported_runtime", {
  skip: !onDeno,
}, async () => {
  await assert.rejects(registerTracing({ service: "svc" }), (error: Error & { code?: string }) => {
    assert.equal(error.name, "TracingError");
    assert.equal(error.code, "unsupported_runtime");
    assert.match(error.message, /OTEL_DENO=true/);
    return true;
  });
});

test("registerTracing() checks its options, naming each", async () => {
  const cases: [unknown, RegExp, ErrorConstructor][] = [
    [null, /options/, TypeError],
    [{}, /option service/, TypeError],
    [{ service: " " }, /option service/, TypeError],
    [{ service: "s", serviceVersion: 1 }, /option serviceVersion/, TypeError],
    [{ service: "s", sampler: 2 }, /option sampler/, RangeError],
    [{ service: "s", sampler: Number.NaN }, /option sampler/, RangeError],
    [{ service: "s", sampler: "sometimes" }, /option sampler/, TypeError],
    [{ service: "s", headers: { a: 1 } }, /option headers/, TypeError],
    [{ service: "s", exportInterval: 0 }, /option exportInterval/, RangeError],
    [{ service: "s", exportTimeout: 1.5 }, /option exportTimeout/, RangeError],
    [{ service: "s", exporter: {} }, /option exporter/, TypeError],
    [{ service: "s", endpoint: "ftp://x" }, /option endpoint/, TypeError],
    [{ service: "s", endpoint: 42 }, /option endpoint/, TypeError],
    [{ service: "s", env: { OTEL_EXPORTER_OTLP_ENDPOINT: "nonsense" } }, /environment/, TypeError],
  ];
  for (const [options, message, type] of cases) {
    await assert.rejects(registerTracing(options as never), (error: Error) => {
      assert.ok(error instanceof type, `${JSON.stringify(options)}: ${error.name}`);
      assert.match(error.message, message);
      return true;
    });
  }
});
