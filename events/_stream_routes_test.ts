import { test } from "node:test";
import assert from "node:assert/strict";
import { EventError } from "./errors.ts";
import { resolveBusOptions } from "./_options.ts";
import { StreamRoutes } from "./_stream_routes.ts";

const { streams } = resolveBusOptions(
  { streams: [{ name: "USERS", subjects: ["user.>"] }], deadLetter: false },
  "test",
);

test("StreamRoutes.check() passes configured subjects without a lookup", () => {
  const lookups: string[] = [];
  const routes = new StreamRoutes(streams, (subject) => {
    lookups.push(subject);
    return Promise.resolve(undefined);
  });
  assert.equal(routes.check("user.created"), undefined);
  assert.equal(routes.check("user.created"), undefined);
  assert.deepEqual(lookups, []);
});

test("StreamRoutes.check() looks a subject up once, and again after forget()", async () => {
  const lookups: string[] = [];
  const routes = new StreamRoutes(streams, (subject) => {
    lookups.push(subject);
    return Promise.resolve("ORDERS");
  });
  await routes.check("order.paid");
  assert.equal(routes.check("order.paid"), undefined);
  routes.forget("order.paid");
  await routes.check("order.paid");
  assert.deepEqual(lookups, ["order.paid", "order.paid"]);
});

test("StreamRoutes.check() rejects with no_stream when the server has none, every time", async () => {
  let lookups = 0;
  const routes = new StreamRoutes(streams, () => {
    lookups++;
    return Promise.resolve(undefined);
  });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(routes.check("audit.x")!, (error: unknown) => {
      assert.ok(error instanceof EventError);
      assert.equal(error.code, "no_stream");
      assert.equal(
        error.message,
        'Cannot publish event to "audit.x": no stream covers the subject',
      );
      return true;
    });
  }
  assert.equal(lookups, 2, "a missing stream is not remembered: it may be created later");
});
