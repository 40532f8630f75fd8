// End to end over real HTTP and real NATS: a caller's traceparent → a gateway → an orders
// service (over HTTP, headers injected) that publishes an event → a mailer that handles it.
// The caller's trace id is on every log line of all three; with an SDK, the spans chain.
import { test } from "node:test";
import assert from "node:assert/strict";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { createLogger } from "@plinth/logging";
import { requestId } from "@plinth/logging/hono";
import { connectEvents, type NatsEventBus } from "@plinth/events";
import { freePort, natsUrl, uniqueName, waitFor } from "@plinth/testing";
import { needNats } from "@plinth/testing/nats";
import { injectTraceHeaders } from "./propagation.ts";
import { tracing, type TracingVariables } from "./middleware.ts";
import { currentTrace } from "./with_span.ts";
import { registerTestSdk, type TestSdk } from "./_test_sdk.ts";
import type { TraceContext } from "./trace_context.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";

function jsonLogger(service: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service,
    level: "debug",
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

async function listen(app: Hono<{ Variables: TracingVariables }>) {
  const port = await freePort();
  let server: ReturnType<typeof serve> | undefined;
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server!.close(() => resolve())),
  };
}

interface FlowResult {
  gateway: Record<string, unknown>[];
  orders: Record<string, unknown>[];
  mailer: Record<string, unknown>[];
  handled: TraceContext | undefined;
  body: { gatewaySpan: string; ordersSpan: string };
}

async function flow(): Promise<FlowResult> {
  const id = uniqueName("trace");
  const subject = `tr_${id}.order.created`;
  const stream = { name: `TR_${id}`, subjects: [`tr_${id}.>`], storage: "memory" as const };
  const gateway = jsonLogger("gateway");
  const orders = jsonLogger("orders");
  const mailer = jsonLogger("mailer");
  const buses: NatsEventBus[] = [];
  const closers: (() => Promise<void>)[] = [];
  let handled: TraceContext | undefined;
  try {
    const ordersBus = await connectEvents({
      servers: natsUrl,
      source: "orders",
      logger: orders.logger,
      streams: [stream],
      deadLetter: false,
    });
    buses.push(ordersBus);
    const mailerBus = await connectEvents({
      servers: natsUrl,
      source: "mailer",
      logger: mailer.logger,
      streams: [stream],
      deadLetter: false,
    });
    buses.push(mailerBus);
    await mailerBus.subscribe(subject, async () => {
      mailer.logger.info("sending confirmation");
      await new Promise((resolve) => setTimeout(resolve, 1));
      handled = currentTrace();
      mailer.logger.info("sent");
    }, { durable: "mailer" });

    const ordersApp = new Hono<{ Variables: TracingVariables }>();
    ordersApp.use(requestId(), tracing());
    ordersApp.post("/orders", async (c) => {
      orders.logger.info("creating order");
      await ordersBus.publish(subject, { order: 1 });
      return c.json({ ordersSpan: c.var.trace.spanId });
    });
    const ordersServer = await listen(ordersApp);
    closers.push(ordersServer.close);

    const gatewayApp = new Hono<{ Variables: TracingVariables }>();
    gatewayApp.use(requestId(), tracing());
    gatewayApp.get("/checkout", async (c) => {
      gateway.logger.info("checkout");
      const res = await fetch(`${ordersServer.url}/orders`, {
        method: "POST",
        headers: injectTraceHeaders(new Headers()),
      });
      const body = await res.json();
      gateway.logger.info("order placed");
      return c.json({ ...body, gatewaySpan: c.var.trace.spanId });
    });
    const gatewayServer = await listen(gatewayApp);
    closers.push(gatewayServer.close);

    // Only what is logged from the request on: the buses logged their connections before.
    const marks = [gateway.lines.length, orders.lines.length, mailer.lines.length] as const;
    const res = await fetch(`${gatewayServer.url}/checkout?card=4111`, {
      headers: { traceparent: `00-${TRACE}-${CALLER_SPAN}-01` },
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    await waitFor(() => mailer.lines.some((l) => l["message"] === "sent"), 10_000, "the mailer");
    return {
      gateway: gateway.lines.slice(marks[0]),
      orders: orders.lines.slice(marks[1]),
      mailer: mailer.lines.slice(marks[2]),
      handled,
      body,
    };
  } finally {
    for (const close of closers) await close();
    for (const bus of buses) await bus.close();
    const admin = await connectEvents({
      servers: natsUrl,
      deadLetter: false,
      logger: gateway.logger,
    });
    await admin.deleteStream(stream.name).catch(() => undefined);
    await admin.close();
  }
}

function assertTraceEverywhere(result: FlowResult): void {
  const { gateway, orders, mailer } = result;
  assert.deepEqual(gateway.map((l) => l["message"]), ["checkout", "order placed"]);
  assert.ok(orders.some((l) => l["message"] === "creating order"));
  assert.ok(orders.some((l) => l["message"] === "Event published"));
  for (const line of [...gateway, ...orders]) {
    assert.equal(line["trace_id"], TRACE, `${line["service_name"]}: ${line["message"]}`);
    assert.equal(typeof line["request_id"], "string");
  }
  assert.deepEqual(mailer.map((l) => l["message"]), [
    "Event received",
    "sending confirmation",
    "sent",
    "Event handled",
  ]);
  for (const line of mailer) assert.equal(line["trace_id"], TRACE, `mailer: ${line["message"]}`);
  const handlerLines = mailer.slice(1, 3);
  // The subscriber's handler runs in its own span, under the publisher's trace.
  assert.equal(result.handled?.traceId, TRACE);
  assert.equal(handlerLines[0]!["span_id"], result.handled?.spanId);
  assert.notEqual(result.handled?.spanId, result.body.ordersSpan);
  assert.equal(gateway[0]!["span_id"], result.body.gatewaySpan);
  assert.equal(orders[0]!["span_id"], result.body.ordersSpan);
}

test("end to end without an SDK: the caller's trace id on every line, HTTP and NATS hops", {
  timeout: 60_000,
}, async (t) => {
  if (!(await needNats(t))) return;
  assertTraceEverywhere(await flow());
});

test("end to end with an SDK: the spans chain caller → gateway → orders → mailer", {
  timeout: 60_000,
}, async (t) => {
  if (!(await needNats(t))) return;
  let sdk: TestSdk | undefined;
  try {
    sdk = registerTestSdk();
    const result = await flow();
    assertTraceEverywhere(result);
    const gateway = sdk.span("GET /checkout");
    const orders = sdk.span("POST /orders");
    const mailer = sdk.spans().find((s) => s.name.startsWith("process tr_"));
    assert.ok(mailer !== undefined);
    for (const span of [gateway, orders, mailer]) assert.equal(span.spanContext().traceId, TRACE);
    assert.equal(gateway.parentSpanContext?.spanId, CALLER_SPAN);
    assert.equal(gateway.spanContext().spanId, result.body.gatewaySpan);
    assert.equal(orders.parentSpanContext?.spanId, gateway.spanContext().spanId);
    assert.equal(orders.spanContext().spanId, result.body.ordersSpan);
    assert.equal(mailer.parentSpanContext?.spanId, orders.spanContext().spanId);
    assert.equal(mailer.spanContext().spanId, result.handled?.spanId);
    assert.equal(mailer.attributes["messaging.system"], "nats");
    assert.equal(mailer.attributes["messaging.consumer.group.name"], "mailer");
    assert.doesNotMatch(JSON.stringify(sdk.spans().map((s) => s.attributes)), /4111|card=/);
  } finally {
    await sdk?.close();
  }
});
