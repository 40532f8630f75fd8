import { test } from "node:test";
import assert from "node:assert/strict";
import { captureLogger, natsUrl, uniqueName, waitFor } from "@plinth/testing";
import { needNats } from "@plinth/testing/nats";
import { createMemoryBus } from "./memory_bus.ts";
import { connectEvents } from "./connect_events.ts";
import type { EventBus, EventObservation } from "./event_bus.ts";
import { EventObservers } from "./_observers.ts";

test("EventObservers tells every listener, survives a throwing one, and removes once", () => {
  const observers = new EventObservers();
  assert.equal(observers.active, false);
  const seen: EventObservation[] = [];
  const remove = observers.add((o) => void seen.push(o));
  const removeThrowing = observers.add(() => {
    throw new Error("observer bug");
  });
  observers.emit({ kind: "published", subject: "a.b" });
  assert.deepEqual(seen, [{ kind: "published", subject: "a.b" }]);
  remove();
  remove();
  removeThrowing();
  assert.equal(observers.active, false);
  assert.throws(() => observers.add(null as never), /argument listener/);
});

for (const kind of ["memory", "nats"] as const) {
  test(`${kind}: bus.onEvent() sees published, handled, failed and dead-lettered events`, {
    timeout: 60_000,
  }, async (t) => {
    if (kind === "nats" && !(await needNats(t))) return;
    const id = uniqueName("obs");
    const options = {
      source: "test-svc",
      logger: captureLogger(),
      closeTimeout: 5000,
      streams: [{ name: `OBS_${id}`, subjects: [`obs_${id}.>`], storage: "memory" as const }],
      deadLetter: { stream: `OBSDLQ_${id}`, prefix: `obsdlq_${id}`, storage: "memory" as const },
    };
    const bus: EventBus = kind === "memory"
      ? createMemoryBus(options)
      : await connectEvents({ ...options, servers: natsUrl });
    try {
      const seen: EventObservation[] = [];
      const remove = bus.onEvent((o) => void seen.push(o));
      const ok = `obs_${id}.ok`;
      const bad = `obs_${id}.bad`;
      await bus.subscribe(ok, () => {}, { durable: "fine" });
      await bus.subscribe(bad, () => {
        throw new Error("handler bug");
      }, { durable: "broken", maxDeliver: 2, backoff: [10] });
      await bus.publish(ok, { n: 1 });
      await bus.publish(bad, { n: 2 });
      await waitFor(
        () => seen.some((o) => o.kind === "dead_lettered"),
        20_000,
        "the failing event to be dead-lettered",
      );
      const published = seen.filter((o) => o.kind === "published").map((o) => o.subject);
      assert.deepEqual(published.sort(), [bad, ok].sort());
      const handled = seen.filter((o) => o.kind === "handled");
      assert.equal(handled.length, 1);
      assert.equal(handled[0]!.subject, ok);
      assert.ok(handled[0]!.kind === "handled" && handled[0]!.durable === "fine");
      assert.ok(handled[0]!.kind === "handled" && handled[0]!.duration >= 0);
      const failed = seen.filter((o) => o.kind === "failed");
      assert.equal(failed.length, 2, "one failure per delivery");
      assert.ok(failed.every((o) => o.kind === "failed" && !o.timedOut && o.durable === "broken"));
      const dead = seen.filter((o) => o.kind === "dead_lettered");
      assert.deepEqual(dead, [{
        kind: "dead_lettered",
        subject: bad,
        durable: "broken",
        reason: "handler_failed",
      }]);
      remove();
      const before = seen.length;
      await bus.publish(ok, { n: 3 });
      assert.equal(seen.length, before);
    } finally {
      await bus.close();
      if (kind === "nats") {
        const admin = await connectEvents({
          servers: natsUrl,
          deadLetter: false,
          logger: captureLogger(),
        });
        await admin.deleteStream(`OBS_${id}`);
        await admin.deleteStream(`OBSDLQ_${id}`);
        await admin.close();
      }
    }
  });
}
