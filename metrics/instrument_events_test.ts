import { test } from "node:test";
import assert from "node:assert/strict";
import { connectEvents, createMemoryBus, type EventBus } from "@plinth/events";
import { captureLogger, natsUrl, uniqueName, waitFor } from "@plinth/testing";
import { needNats } from "@plinth/testing/nats";
import { createMetrics, instrumentEvents, type ObservedEvent } from "./mod.ts";

function value(body: string, series: string): number | undefined {
  const line = body.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("instrumentEvents() checks its arguments", () => {
  using metrics = createMetrics({ service: "svc", defaultMetrics: false });
  assert.throws(() => instrumentEvents({} as never, {} as never), /argument metrics/);
  assert.throws(() => instrumentEvents(metrics, {} as never), /argument bus/);
});

test("instrumentEvents() counts each kind and ignores kinds it does not know", async () => {
  const listeners: ((event: ObservedEvent) => void)[] = [];
  const bus = {
    onEvent: (l: (event: ObservedEvent) => void) => {
      listeners.push(l);
      return () => void listeners.splice(listeners.indexOf(l), 1);
    },
  };
  using metrics = createMetrics({ service: "svc", defaultMetrics: false });
  const instrumentation = instrumentEvents(metrics, bus);
  const emit = (event: ObservedEvent) => listeners.forEach((l) => l(event));
  emit({ kind: "published", subject: "a" });
  emit({ kind: "failed", subject: "a", durable: "d", duration: 100, timedOut: true });
  emit({ kind: "failed", subject: "a", durable: "d", duration: 50, timedOut: false });
  emit({ kind: "dead_lettered", subject: "a", durable: "d", reason: "handler_failed" });
  emit({ kind: "something_new", subject: "a" });
  const { body } = await metrics.render();
  assert.equal(value(body, 'events_published_total{subject="a",service="svc"}'), 1);
  assert.equal(
    value(body, 'events_failed_total{subject="a",durable="d",reason="timeout",service="svc"}'),
    1,
  );
  assert.equal(
    value(body, 'events_failed_total{subject="a",durable="d",reason="error",service="svc"}'),
    1,
  );
  assert.equal(
    value(
      body,
      'events_dead_lettered_total{subject="a",durable="d",reason="handler_failed",service="svc"}',
    ),
    1,
  );
  const sum = value(
    body,
    'event_handler_duration_seconds_sum{service="svc",subject="a",durable="d"}',
  );
  assert.ok(Math.abs((sum ?? 0) - 0.15) < 1e-9, String(sum));
  instrumentation.close();
  instrumentation.close();
  assert.equal(listeners.length, 0);
});

for (const kind of ["memory", "nats"] as const) {
  test(`instrumentEvents() measures a real @plinth/events bus (${kind})`, {
    timeout: 60_000,
  }, async (t) => {
    if (kind === "nats" && !(await needNats(t))) return;
    const id = uniqueName("metrics");
    const created = `metrics_${id}.org.created`;
    const deleted = `metrics_${id}.org.deleted`;
    const options = {
      source: "metrics-test",
      logger: captureLogger(),
      closeTimeout: 5000,
      streams: [{ name: `MET_${id}`, subjects: [`metrics_${id}.>`], storage: "memory" as const }],
      deadLetter: { stream: `METDLQ_${id}`, prefix: `metdlq_${id}`, storage: "memory" as const },
    };
    const bus: EventBus = kind === "memory"
      ? createMemoryBus(options)
      : await connectEvents({ ...options, servers: natsUrl });
    try {
      using metrics = createMetrics({ service: "svc", defaultMetrics: false });
      using _instrumentation = instrumentEvents(metrics, bus);
      let calls = 0;
      await bus.subscribe(created, () => void calls++, { durable: "audit" });
      await bus.subscribe(deleted, () => {
        throw new Error("handler bug");
      }, { durable: "cleanup", maxDeliver: 2, backoff: [10] });
      await bus.publish(created, { id: 1 });
      await bus.publish(created, { id: 2 });
      await bus.publish(deleted, { id: 3 });
      await waitFor(
        async () => {
          const { body } = await metrics.render();
          return /^events_dead_lettered_total\{/m.test(body) && calls === 2;
        },
        20_000,
        "the deliveries",
      );
      const { body } = await metrics.render();
      assert.equal(value(body, `events_published_total{subject="${created}",service="svc"}`), 2);
      assert.equal(value(body, `events_published_total{subject="${deleted}",service="svc"}`), 1);
      assert.equal(
        value(body, `events_delivered_total{subject="${created}",durable="audit",service="svc"}`),
        2,
      );
      // One failure per delivery: two deliveries, then the dead-letter queue.
      assert.equal(
        value(
          body,
          `events_failed_total{subject="${deleted}",durable="cleanup",reason="error",service="svc"}`,
        ),
        2,
      );
      assert.equal(
        value(
          body,
          `events_dead_lettered_total{subject="${deleted}",durable="cleanup",reason="handler_failed",service="svc"}`,
        ),
        1,
      );
      assert.equal(
        value(
          body,
          `event_handler_duration_seconds_count{service="svc",subject="${created}",durable="audit"}`,
        ),
        2,
      );
      assert.equal(
        value(
          body,
          `event_handler_duration_seconds_count{service="svc",subject="${deleted}",durable="cleanup"}`,
        ),
        2,
      );
    } finally {
      await bus.close();
      if (kind === "nats") {
        const admin = await connectEvents({
          servers: natsUrl,
          deadLetter: false,
          logger: captureLogger(),
        });
        await admin.deleteStream(`MET_${id}`);
        await admin.deleteStream(`METDLQ_${id}`);
        await admin.close();
      }
    }
  });
}
