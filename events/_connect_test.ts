import { test } from "node:test";
import assert from "node:assert/strict";
import { describeServer } from "./_connect.ts";

test("describeServer() keeps host:port and drops scheme, credentials, path and query", () => {
  assert.equal(describeServer("nats://bob:s3cret@nats.internal:4222"), "nats.internal:4222");
  assert.equal(describeServer("tls://token@10.0.0.5:7422/path?x=1"), "10.0.0.5:7422");
  assert.equal(describeServer("wss://u:p@a@broker.example.com"), "broker.example.com:4222");
  assert.equal(describeServer("127.0.0.1"), "127.0.0.1:4222");
  assert.equal(describeServer(" localhost:4223 "), "localhost:4223");
  assert.equal(describeServer("nats://[::1]:4222"), "[::1]:4222");
  assert.equal(describeServer("[::1]"), "[::1]:4222");
  assert.equal(describeServer("::1"), "[::1]:4222");
  assert.equal(describeServer("nats://user:pass@"), "(empty)");
});

test("describeServer() drops a password that holds an unencoded /, ? or #", () => {
  assert.equal(describeServer("nats://alice:pa/ss@nats.internal:4222"), "nats.internal:4222");
  assert.equal(describeServer("nats://alice:pa?ss@nats.internal"), "nats.internal:4222");
  assert.equal(describeServer("alice:pa#ss@10.0.0.5:4223"), "10.0.0.5:4223");
  assert.equal(describeServer("tls://t/o?k#en@[::1]:4222/x"), "[::1]:4222");
});
