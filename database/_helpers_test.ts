import { test } from "node:test";
import { waitFor } from "@plinth/testing";
import assert from "node:assert/strict";
import { backoffDelay } from "./_backoff.ts";
import { Gate } from "./_gate.ts";
import { countStatements } from "./_sql_scan.ts";
import { describeTarget, parseDatabaseUrl } from "./_target.ts";
import { endsIdle, TERMINATE } from "./_sockets.ts";

test("backoffDelay() doubles from baseDelay, caps at maxDelay and jitters in the upper half", () => {
  const settings = { baseDelay: 200, maxDelay: 5000 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, settings, () => 1)),
    [
      200,
      400,
      800,
      1600,
      3200,
      5000,
      5000,
    ],
  );
  assert.equal(backoffDelay(1, settings, () => 0), 100);
  const total = [1, 2, 3, 4, 5].reduce(
    (sum, n) => sum + backoffDelay(n, settings),
    0,
  );
  assert.ok(total <= 5 * 5000);
});

test("countStatements() ignores semicolons in strings, identifiers, dollar quotes and comments", () => {
  assert.equal(countStatements("create index concurrently a on t (x);"), 1);
  assert.equal(countStatements("select 1; select 2"), 2);
  assert.equal(
    countStatements("select ';', \"a;b\", 'it''s;' -- x;\n/* ; /* ; */ */ ;;"),
    1,
  );
  assert.equal(countStatements("do $body$ begin perform 1; end $body$; "), 1);
  assert.equal(countStatements("select $$;$$, $1"), 1);
  assert.equal(countStatements("-- only a comment\n"), 0);
});

test("parseDatabaseUrl() reads URLs and describeTarget() never shows the password", () => {
  const target = parseDatabaseUrl(
    "postgresql://app:p%40ss@db.internal:6543/shop?sslmode=require",
  );
  assert.deepEqual(target, {
    host: "db.internal",
    port: 6543,
    database: "shop",
    user: "app",
    password: "p@ss",
    path: false,
    sslmode: "require",
  });
  assert.equal(describeTarget(target), "db.internal:6543/shop");
  const socket = parseDatabaseUrl("postgres:///test?host=/var/run/postgresql");
  assert.equal(socket.path, true);
  assert.equal(socket.user, "postgres");
  assert.equal(parseDatabaseUrl("postgres://u@h").database, "u");
});

test("Gate hands slots over in order, times waiters out and reports idle", async () => {
  const gate = new Gate(1, 50);
  assert.ok(gate.tryAcquire());
  assert.ok(!gate.tryAcquire());
  const order: string[] = [];
  gate.wait(() => order.push("a"), (r) => order.push(`a:${r}`));
  gate.wait(() => order.push("b"), (r) => order.push(`b:${r}`));
  assert.equal(gate.queued, 2);
  gate.release();
  assert.deepEqual(order, ["a"]);
  await waitFor(() => order.length === 2, 2_000, "the second waiter to time out");
  assert.deepEqual(order, ["a", "b:timeout"]);
  const idle = gate.idle();
  gate.wait(() => order.push("c"), (r) => order.push(`c:${r}`));
  gate.rejectAll("closed");
  gate.release();
  await idle;
  assert.deepEqual(order, ["a", "b:timeout", "c:closed"]);
  assert.equal(gate.busy, 0);
});

test("endsIdle() takes only a chunk ending in ReadyForQuery with status idle as idle", () => {
  const ready = (status: string): number[] => [0x5a, 0, 0, 0, 5, status.charCodeAt(0)];
  const commandComplete = [0x43, 0, 0, 0, 13, ...new TextEncoder().encode("SELECT 1"), 0];
  assert.equal(endsIdle(new Uint8Array([...commandComplete, ...ready("I")])), true);
  assert.equal(endsIdle(new Uint8Array(ready("I"))), true);
  assert.equal(endsIdle(new Uint8Array(ready("T"))), false, "in a transaction");
  assert.equal(endsIdle(new Uint8Array(ready("E"))), false, "in a failed transaction");
  assert.equal(endsIdle(new Uint8Array(ready("I").slice(1))), false, "split message");
  assert.equal(endsIdle(new Uint8Array(commandComplete)), false);
  assert.equal(endsIdle(new Uint8Array([])), false);
  assert.deepEqual([...TERMINATE], [0x58, 0, 0, 0, 4]);
});

test("Gate.withdraw() takes a waiter out of the queue without granting or failing it", async () => {
  const gate = new Gate(1, 0);
  assert.ok(gate.tryAcquire());
  const order: string[] = [];
  const a = gate.wait(() => order.push("a"), (r) => order.push(`a:${r}`));
  gate.wait(() => order.push("b"), (r) => order.push(`b:${r}`));
  assert.equal(gate.withdraw(a), true);
  assert.equal(gate.withdraw(a), false, "already withdrawn");
  assert.equal(gate.queued, 1);
  gate.release();
  assert.deepEqual(order, ["b"]);
  const idle = gate.idle();
  gate.release();
  await idle;
  assert.equal(gate.busy, 0);
  assert.equal(gate.queued, 0);
});

test("parseDatabaseUrl() accepts libpq's sslmode values and refuses any other without quoting the URL", () => {
  for (const mode of ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]) {
    assert.equal(parseDatabaseUrl(`postgres://u:pw@h/d?sslmode=${mode}`).sslmode, mode);
  }
  assert.throws(
    () => parseDatabaseUrl("postgres://u:hunter2@h/d?sslmode=verify_full"),
    (error: Error) =>
      error instanceof TypeError && /"sslmode" must be one of/.test(error.message) &&
      !error.message.includes("hunter2") && error.cause === undefined,
  );
});
