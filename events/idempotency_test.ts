import { test } from "node:test";
import assert from "node:assert/strict";
import { createMemoryIdempotencyStore } from "./idempotency.ts";

test("createMemoryIdempotencyStore() remembers keys until their ttl ends", () => {
  let now = 1000;
  const store = createMemoryIdempotencyStore({ now: () => now });
  assert.equal(store.has("a"), false);
  store.set("a", 50);
  assert.equal(store.has("a"), true);
  now = 1049;
  assert.equal(store.has("a"), true);
  now = 1050;
  assert.equal(store.has("a"), false);
  assert.equal(store.size, 0);
});

test("createMemoryIdempotencyStore() forgets the oldest key beyond maxKeys", () => {
  const store = createMemoryIdempotencyStore({ maxKeys: 2 });
  store.set("a", 1000);
  store.set("b", 1000);
  store.set("a", 1000); // refreshed: now the newest
  store.set("c", 1000);
  assert.equal(store.has("b"), false);
  assert.equal(store.has("a"), true);
  assert.equal(store.has("c"), true);
  assert.equal(store.size, 2);
});

test("createMemoryIdempotencyStore() rejects invalid options", () => {
  assert.throws(() => createMemoryIdempotencyStore({ maxKeys: 0 }), RangeError);
  assert.throws(() => createMemoryIdempotencyStore({ maxKeys: 1.5 }), RangeError);
  assert.throws(
    () => createMemoryIdempotencyStore({ now: 5 as unknown as () => number }),
    /now must be a function/,
  );
});
