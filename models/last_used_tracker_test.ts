import { test } from "node:test";
import assert from "node:assert/strict";
import { captureLogger, waitFor } from "@plinth/testing";
import { createLastUsedTracker } from "./last_used_tracker.ts";

/** A stand-in `sql` that records each statement's JSON batch and can be made to fail. */
function fakeSql() {
  const batches: { public_id: string; at: number }[][] = [];
  let failing = false;
  const sql = ((_strings: TemplateStringsArray, ...values: unknown[]) => {
    if (failing) return Promise.reject(new Error("connection lost"));
    const batch = JSON.parse(values[0] as string);
    batches.push(batch);
    return Promise.resolve(Object.assign([], { count: batch.length }));
  }) as never;
  return { sql, batches, fail: (on: boolean) => void (failing = on) };
}

test("createLastUsedTracker() keeps the latest time per key and writes them in one statement", async () => {
  const fake = fakeSql();
  let now = 1_000;
  const tracker = createLastUsedTracker(fake.sql, { flushInterval: 0, now: () => now });
  tracker.touch("AAAAAAAAAAAA");
  now = 2_000;
  tracker.touch("AAAAAAAAAAAA");
  tracker.touch("BBBBBBBBBBBB");
  assert.equal(tracker.pending, 2);
  assert.equal(await tracker.flush(), 2);
  assert.deepEqual(fake.batches, [[
    { public_id: "AAAAAAAAAAAA", at: 2_000 },
    { public_id: "BBBBBBBBBBBB", at: 2_000 },
  ]]);
  await tracker.close();
  tracker.touch("CCCCCCCCCCCC"); // ignored after close
  assert.equal(tracker.pending, 0);
});

test("createLastUsedTracker() keeps a failed batch for the next flush", async () => {
  const fake = fakeSql();
  let now = 1_000;
  const tracker = createLastUsedTracker(fake.sql, { flushInterval: 0, now: () => now });
  tracker.touch("AAAAAAAAAAAA");
  fake.fail(true);
  await assert.rejects(tracker.flush(), /connection lost/);
  assert.equal(tracker.pending, 1);
  now = 5_000;
  tracker.touch("BBBBBBBBBBBB");
  fake.fail(false);
  assert.equal(await tracker.flush(), 2);
  assert.deepEqual(fake.batches[0], [
    { public_id: "AAAAAAAAAAAA", at: 1_000 },
    { public_id: "BBBBBBBBBBBB", at: 5_000 },
  ]);
  await tracker.close();
});

test("createLastUsedTracker() flushes on its interval and logs a failed periodic write", async () => {
  const fake = fakeSql();
  const logger = captureLogger();
  await using tracker = createLastUsedTracker(fake.sql, { flushInterval: 20, logger });
  tracker.touch("AAAAAAAAAAAA");
  await waitFor(() => fake.batches.length === 1, 2_000, "the periodic flush");
  fake.fail(true);
  tracker.touch("BBBBBBBBBBBB");
  await waitFor(() => logger.lines.length > 0, 2_000, "the warning");
  assert.equal(logger.lines[0]?.level, "warn");
  assert.equal(logger.lines[0]?.fields["error"], "connection lost");
  fake.fail(false);
});

test("createLastUsedTracker() checks its options once", () => {
  const fake = fakeSql();
  assert.throws(() => createLastUsedTracker(fake.sql, { flushInterval: -1 }), RangeError);
  assert.throws(() => createLastUsedTracker(fake.sql, { flushInterval: Infinity }), RangeError);
  assert.throws(() => createLastUsedTracker(fake.sql, { now: 5 as never }), TypeError);
});
