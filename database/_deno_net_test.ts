import assert from "node:assert/strict";
import { test } from "node:test";
import { deniedByDeno, netAllowed, type NetPermissions } from "./_deno_net.ts";

function permissions(states: Record<string, string>, asked: string[] = []): NetPermissions {
  return {
    querySync: ({ host }) => ({ state: states[host] ?? "prompt" }),
    requestSync: ({ host }) => {
      asked.push(host);
      return { state: "denied" };
    },
  };
}

test("netAllowed: true where there is no Deno.permissions (Node, Bun)", () => {
  assert.equal(netAllowed("db.internal", 5432, undefined), true);
});

test("netAllowed: a granted host:port is allowed without asking", () => {
  const asked: string[] = [];
  assert.equal(
    netAllowed("127.0.0.1", 5432, permissions({ "127.0.0.1:5432": "granted" }, asked)),
    true,
  );
  assert.deepEqual(asked, []);
});

test("netAllowed: a permission in the prompt state is requested, a refusal is false", () => {
  const asked: string[] = [];
  assert.equal(netAllowed("127.0.0.1", 5433, permissions({}, asked)), false);
  assert.deepEqual(asked, ["127.0.0.1:5433"]);
});

test("netAllowed: an IPv6 host is bracketed in the descriptor", () => {
  const asked: string[] = [];
  assert.equal(netAllowed("::1", 5432, permissions({ "[::1]:5432": "granted" }, asked)), true);
  assert.equal(netAllowed("::2", 5432, permissions({}, asked)), false);
  assert.deepEqual(asked, ["[::2]:5432"]);
});

test("netAllowed: denied is false without a prompt", () => {
  const asked: string[] = [];
  assert.equal(netAllowed("h", 1, permissions({ "h:1": "denied" }, asked)), false);
  assert.deepEqual(asked, []);
});

test("deniedByDeno: Deno's refusal, also as a cause; nothing else", () => {
  const refusal = Object.assign(new Error('Requires env access to "PGAPPNAME"'), {
    name: "NotCapable",
  });
  assert.equal(deniedByDeno(refusal), true);
  assert.equal(deniedByDeno(new Error("wrapped", { cause: refusal })), true);
  assert.equal(deniedByDeno(Object.assign(new Error("old"), { name: "PermissionDenied" })), true);
  assert.equal(deniedByDeno(new Error("connect ECONNREFUSED")), false);
  assert.equal(deniedByDeno(undefined), false);
  assert.equal(deniedByDeno("NotCapable"), false);
});
