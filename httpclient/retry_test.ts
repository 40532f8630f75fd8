import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, parseRetryAfter } from "./mod.ts";

test("backoffDelay() stays within [0, min(max, base × 2^(n−1))) with a real random source", () => {
  for (let retry = 1; retry <= 12; retry++) {
    const cap = Math.min(5000, 100 * 2 ** (retry - 1));
    let low = Infinity;
    let high = -Infinity;
    for (let i = 0; i < 2000; i++) {
      const delay = backoffDelay(retry, { base: 100, max: 5000, random: Math.random });
      low = Math.min(low, delay);
      high = Math.max(high, delay);
    }
    assert.ok(low >= 0 && high < cap, `retry ${retry}: ${low}..${high} outside [0, ${cap})`);
    // Full jitter spreads over the whole range, not just near the cap.
    assert.ok(low < cap * 0.1 && high > cap * 0.9, `retry ${retry}: ${low}..${high} too narrow`);
  }
});

test("parseRetryAfter() reads retry-after-ms, seconds and dates, and ignores nonsense", () => {
  const r = (headers: Record<string, string>) => new Response(null, { headers });
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter(r({ "retry-after-ms": "150.5" }), now), 150.5);
  assert.equal(parseRetryAfter(r({ "retry-after-ms": "-1", "retry-after": "1" }), now), 1000);
  assert.equal(parseRetryAfter(r({ "retry-after": "0.5" }), now), 500);
  assert.equal(parseRetryAfter(r({ "retry-after": "Wed, 31 Dec 2025 23:59:00 GMT" }), now), 0);
  assert.equal(parseRetryAfter(r({ "retry-after": "soon" }), now), undefined);
  assert.equal(parseRetryAfter(r({}), now), undefined);
});
