import { test } from "node:test";
import assert from "node:assert/strict";
import { getContext, runWithContext, withRequestId } from "./context.ts";
import { createLogger } from "./logger.ts";

function capture(): { lines: Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "svc",
    destination: { write: (line) => lines.push(JSON.parse(line)) },
  });
  return { lines, logger };
}

test("runWithContext() puts its fields on every line across awaits and timers", async () => {
  const { lines, logger } = capture();
  await runWithContext({ request_id: "r-1", tenant: "acme" }, async () => {
    logger.info("before");
    await new Promise((resolve) => setTimeout(resolve, 5));
    logger.info("after timer");
    await Promise.resolve();
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        logger.info("in callback");
        resolve();
      }, 0)
    );
  });
  logger.info("outside");
  assert.deepEqual(lines.map((l) => [l.message, l.request_id, l.tenant]), [
    ["before", "r-1", "acme"],
    ["after timer", "r-1", "acme"],
    ["in callback", "r-1", "acme"],
    ["outside", undefined, undefined],
  ]);
});

test("runWithContext() keeps concurrent requests apart", async () => {
  const { lines, logger } = capture();
  const handle = (id: string, delay: number): Promise<void> =>
    withRequestId(id, async () => {
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        logger.info("step", { id });
      }
    });
  await Promise.all([handle("a", 1), handle("b", 2), handle("c", 0)]);
  assert.equal(lines.length, 15);
  for (const line of lines) assert.equal(line.request_id, line.id);
});

test("runWithContext() nests: inner fields override, outer ones stay", () => {
  const { lines, logger } = capture();
  runWithContext({ request_id: "outer", user: "u1" }, () => {
    runWithContext({ trace_id: "t1", user: "u2", skipped: undefined }, () => {
      assert.deepEqual(getContext(), { request_id: "outer", user: "u2", trace_id: "t1" });
      logger.info("inner");
    });
    logger.info("outer");
  });
  assert.equal(lines[0]?.user, "u2");
  assert.equal(lines[0]?.trace_id, "t1");
  assert.equal(lines[1]?.user, "u1");
  assert.equal(lines[1]?.trace_id, undefined);
  assert.ok(!("skipped" in (lines[0] ?? {})));
});

test("runWithContext() writes ids in fixed order before other context fields", () => {
  const lines: string[] = [];
  const logger = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
  runWithContext(
    { user: "u", span_id: "s", trace_id: "t", request_id: "r" },
    () => logger.info("m"),
  );
  const keys = Object.keys(JSON.parse(lines[0]!));
  assert.deepEqual(keys.slice(3), ["message", "request_id", "trace_id", "span_id", "user"]);
});

test("runWithContext() returns what fn returns and rejects bad arguments", async () => {
  assert.equal(runWithContext({}, () => 7), 7);
  assert.equal(await runWithContext({}, () => Promise.resolve(8)), 8);
  assert.throws(() => runWithContext(null as never, () => 1), TypeError);
  assert.throws(() => runWithContext([] as never, () => 1), TypeError);
  assert.throws(() => runWithContext({}, 5 as never), TypeError);
  assert.throws(() => withRequestId("", () => 1), TypeError);
  assert.throws(
    () =>
      runWithContext({}, () => {
        throw new RangeError("inner");
      }),
    RangeError,
  );
});

test("runWithContext() refuses unreadable fields with its own TypeError", () => {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const trapped = new Proxy({}, {
    ownKeys: () => {
      throw new Error("trap");
    },
  });
  const getter = Object.defineProperty({}, "request_id", {
    enumerable: true,
    get: () => {
      throw new Error("getter");
    },
  });
  for (
    const [label, fields] of [["revoked", revoked.proxy], ["ownKeys", trapped], ["getter", getter]]
  ) {
    assert.throws(
      () => runWithContext(fields as never, () => 1),
      (error: unknown) =>
        error instanceof TypeError && /^Cannot run with context: fields /.test(error.message),
      label as string,
    );
  }
});

test("getContext() is undefined outside and frozen inside", () => {
  assert.equal(getContext(), undefined);
  withRequestId("r-2", () => {
    const ctx = getContext();
    assert.equal(ctx?.request_id, "r-2");
    assert.ok(Object.isFrozen(ctx));
  });
});
