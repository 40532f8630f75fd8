import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { generateApiKey, hashApiKey, parseApiKey, verifyApiKey } from "./api_key.ts";

test("generateApiKey() makes <prefix>_<id>_<secret>_<checksum> keys with their hash", () => {
  const { key, id, hash, prefix } = generateApiKey({ prefix: "live" });
  assert.equal(prefix, "live");
  assert.match(key, /^live_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}$/);
  assert.equal(key.split("_")[1], id);
  assert.equal(hash, createHash("sha256").update(key).digest("hex"));
  assert.equal(generateApiKey().prefix, "plk");
});

test("generateApiKey() never repeats a key or an id", () => {
  const keys = new Set<string>();
  const ids = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const { key, id } = generateApiKey();
    keys.add(key);
    ids.add(id);
  }
  assert.equal(keys.size, 2000);
  assert.equal(ids.size, 2000);
});

test("generateApiKey() spreads secret characters over the whole base62 alphabet", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) for (const ch of generateApiKey().key.split("_")[2]!) seen.add(ch);
  assert.equal(seen.size, 62);
});

test("generateApiKey() refuses a malformed prefix", () => {
  for (const prefix of ["", "a", "Live", "li_ve", "1abc", "x".repeat(17), 5]) {
    assert.throws(() => generateApiKey({ prefix: prefix as string }), TypeError, String(prefix));
  }
});

test("parseApiKey() reads prefix and id and rejects every single-character typo", () => {
  const { key, id } = generateApiKey({ prefix: "plk" });
  assert.deepEqual(parseApiKey(key), { prefix: "plk", id });
  let rejected = 0;
  for (let i = 4; i < key.length; i++) {
    if (key[i] === "_") continue;
    const typo = key.slice(0, i) + (key[i] === "x" ? "y" : "x") + key.slice(i + 1);
    if (parseApiKey(typo) === null) rejected++;
  }
  assert.equal(rejected, key.length - 4 - 2);
});

test("parseApiKey() returns null for non-keys", () => {
  for (const value of [undefined, null, 42, "", "plk", "a.b.c", "plk__x_y", "x".repeat(10_000)]) {
    assert.equal(parseApiKey(value), null);
  }
});

test("hashApiKey() is SHA-256 in hex and refuses non-strings", () => {
  assert.equal(hashApiKey(""), createHash("sha256").update("").digest("hex"));
  assert.throws(() => hashApiKey(1 as unknown as string), TypeError);
});

test("verifyApiKey() accepts only the key that hashes to the stored hash", () => {
  const { key, hash } = generateApiKey();
  assert.equal(verifyApiKey(key, hash), true);
  assert.equal(verifyApiKey(key, hash.toUpperCase()), true);
  assert.equal(verifyApiKey(key + "x", hash), false);
  assert.equal(verifyApiKey(1 as unknown as string, hash), false);
});

test("verifyApiKey() throws on a malformed stored hash without echoing it", () => {
  const { key } = generateApiKey();
  assert.throws(() => verifyApiKey(key, "not-a-hash"), (error: unknown) => {
    assert.ok(error instanceof TypeError);
    assert.doesNotMatch(error.message, /not-a-hash/);
    return true;
  });
});
