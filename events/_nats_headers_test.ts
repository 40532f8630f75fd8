import { test } from "node:test";
import assert from "node:assert/strict";
import { EnvelopeHeaders, MSG_ID_HEADER } from "./_nats_headers.ts";

const record = { "ce-id": "e-1", "ce-type": "user.created", tenant: " acme " };

test("EnvelopeHeaders.encode() writes the NATS wire format with the message id last", () => {
  const headers = new EnvelopeHeaders(record, "e-1");
  const text = new TextDecoder().decode(headers.encode());
  assert.equal(
    text,
    "NATS/1.0\r\nce-id: e-1\r\nce-type: user.created\r\ntenant: acme\r\nNats-Msg-Id: e-1\r\n\r\n",
  );
  assert.equal(headers.encode(), headers.encode(), "the bytes are encoded once");
});

test("EnvelopeHeaders reads like nats-core headers", () => {
  const headers = new EnvelopeHeaders(record, "e-1");
  assert.equal(headers.get("ce-type"), "user.created");
  assert.equal(headers.get("tenant"), "acme");
  assert.equal(headers.get(MSG_ID_HEADER), "e-1");
  assert.equal(headers.last("ce-id"), "e-1");
  assert.equal(headers.has("missing"), false);
  assert.deepEqual(headers.keys(), ["ce-id", "ce-type", "tenant", MSG_ID_HEADER]);
  assert.deepEqual(headers.values("ce-id"), ["e-1"]);
  assert.deepEqual([...headers].map(([name]) => name), headers.keys());
  assert.equal(headers.code, 0);
  assert.equal(headers.description, "");
  assert.equal(headers.hasError, false);
  assert.equal(headers.status, "0");
});

test("EnvelopeHeaders re-encodes after a change", () => {
  const headers = new EnvelopeHeaders(record, "e-1");
  const before = headers.encode();
  headers.set("tenant", "globex");
  headers.append("x-extra", "1");
  headers.delete("ce-type");
  const text = new TextDecoder().decode(headers.encode());
  assert.notEqual(headers.encode(), before);
  assert.match(text, /^NATS\/1\.0\r\n/);
  assert.match(text, /tenant: globex\r\n/);
  assert.match(text, /x-extra: 1\r\n/);
  assert.doesNotMatch(text, /ce-type/);
  assert.equal(String(headers), text);
});

test("EnvelopeHeaders.encode() rejects a value with CR or LF", () => {
  const headers = new EnvelopeHeaders({ "x-a": "one\r\nInjected: yes" }, "e-1");
  assert.throws(() => headers.encode(), { name: "TypeError", message: /CR or LF/ });
  assert.throws(() => new EnvelopeHeaders({}, "e\n1").encode(), TypeError);
});
