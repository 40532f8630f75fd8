import { test } from "node:test";
import assert from "node:assert/strict";
import { createMemoryTokenStore } from "./token_store.ts";

test("createMemoryTokenStore() returns the first use of a refresh token", () => {
  let now = 1_000;
  const store = createMemoryTokenStore({ now: () => now });
  assert.equal(store.useRefreshToken("r1", 10_000, 1_000), undefined);
  now = 2_000;
  assert.equal(store.useRefreshToken("r1", 10_000, 2_000), 1_000);
  assert.equal(store.useRefreshToken("r2", 10_000, 2_000), undefined);
});

test("createMemoryTokenStore() forgets entries once their token has expired", () => {
  let now = 1_000;
  const store = createMemoryTokenStore({ now: () => now });
  store.revoke("a", 5_000);
  store.revoke("a", 3_000); // an earlier expiry never shortens a revocation
  store.useRefreshToken("r", 5_000, now);
  assert.equal(store.isRevoked("a"), true);
  assert.equal(store.size, 2);
  now = 5_000;
  assert.equal(store.isRevoked("a"), false);
  assert.equal(store.useRefreshToken("r", 9_000, now), undefined);
});

test("createMemoryTokenStore() sweeps expired entries as it grows", () => {
  let now = 0;
  const store = createMemoryTokenStore({ now: () => now });
  for (let i = 0; i < 1000; i++) store.revoke(`old-${i}`, 10);
  now = 100;
  for (let i = 0; i < 100; i++) store.revoke(`new-${i}`, 1_000);
  assert.equal(store.size, 100); // the 1024th write swept the 1000 expired entries
  assert.equal(store.isRevoked("new-5"), true);
});

test("createMemoryTokenStore() refuses a clock that is not a function", () => {
  assert.throws(() => createMemoryTokenStore({ now: 5 as unknown as () => number }), TypeError);
});
