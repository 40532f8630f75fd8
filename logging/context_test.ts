import { test } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { getContext, registerContextSource, runWithContext, withRequestId } from "./context.ts";
import { resetContextStorage } from "./_context_store.ts";
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

/** A source backed by its own AsyncLocalStorage, as another library's context would be. */
function otherLibrary() {
  const als = new AsyncLocalStorage<Readonly<Record<string, unknown>>>();
  return {
    source: () => als.getStore(),
    run: <T>(fields: Readonly<Record<string, unknown>>, fn: () => T): T =>
      als.run(Object.freeze(fields), fn),
  };
}

test("registerContextSource() puts a source's fields on every line, across awaits, nested", async () => {
  const { lines, logger } = capture();
  const other = otherLibrary();
  const unregister = registerContextSource(other.source);
  try {
    await withRequestId("r-1", () =>
      other.run({ trace_id: "t1", span_id: "outer" }, async () => {
        logger.info("outer");
        await other.run({ trace_id: "t1", span_id: "inner" }, async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          logger.info("inner");
          assert.deepEqual(getContext(), { request_id: "r-1", trace_id: "t1", span_id: "inner" });
        });
        await Promise.resolve();
        logger.info("after");
      }));
    logger.info("outside");
  } finally {
    unregister();
  }
  assert.deepEqual(lines.map((l) => [l.message, l.request_id, l.trace_id, l.span_id]), [
    ["outer", "r-1", "t1", "outer"],
    ["inner", "r-1", "t1", "inner"],
    ["after", "r-1", "t1", "outer"],
    ["outside", undefined, undefined, undefined],
  ]);
  // Ids keep their fixed place before the other fields.
  const raw: string[] = [];
  const rawLogger = createLogger({ service: "svc", destination: { write: (l) => raw.push(l) } });
  const off = registerContextSource(() => ({ span_id: "s", tenant: "acme", skipped: undefined }));
  try {
    runWithContext({ request_id: "r", trace_id: "t" }, () => rawLogger.info("m"));
  } finally {
    off();
  }
  assert.match(raw[0]!, /"request_id":"r","trace_id":"t","span_id":"s","tenant":"acme"/);
  assert.doesNotMatch(raw[0]!, /skipped/);
});

test("registerContextSource(): a source's fields win; runWithContext() does not copy them", () => {
  let current: Readonly<Record<string, unknown>> | undefined = Object.freeze({ span_id: "a" });
  const unregister = registerContextSource(() => current);
  try {
    runWithContext({ span_id: "stored", tenant: "acme" }, () => {
      assert.equal(getContext()?.span_id, "a");
      // Same source object, same context object: logging caches by identity.
      assert.equal(getContext(), getContext());
      assert.ok(Object.isFrozen(getContext()));
      runWithContext({ user: "u1" }, () => {
        current = undefined;
        assert.deepEqual(getContext(), { span_id: "stored", tenant: "acme", user: "u1" });
      });
    });
    // Outside any stored context the source alone makes one.
    current = Object.freeze({ span_id: "b" });
    assert.deepEqual(getContext(), { span_id: "b" });
  } finally {
    unregister();
  }
  assert.equal(getContext(), undefined);
});

test("registerContextSource(): later sources win, a throwing or non-object source is skipped", () => {
  const { lines, logger } = capture();
  const offs = [
    registerContextSource(() => ({ a: 1, b: 1 })),
    registerContextSource(() => {
      throw new Error("broken source");
    }),
    registerContextSource(() => "nonsense" as never),
    registerContextSource(() => ({ b: 2 })),
  ];
  try {
    logger.info("line");
    assert.deepEqual(getContext(), { a: 1, b: 2 });
  } finally {
    for (const off of offs) off();
  }
  assert.equal(lines[0]!.a, 1);
  assert.equal(lines[0]!.b, 2);
  assert.equal(getContext(), undefined);
});

test("registerContextSource() unregisters once and refuses a non-function", () => {
  const source = () => ({ x: 1 });
  const first = registerContextSource(source);
  const second = registerContextSource(source);
  first();
  first(); // a second call does not remove the other registration
  assert.deepEqual(getContext(), { x: 1 });
  second();
  assert.equal(getContext(), undefined);
  for (const bad of [undefined, null, "fn", {}]) {
    assert.throws(
      () => registerContextSource(bad as never),
      (error) =>
        error instanceof TypeError &&
        error.message === "Cannot register context source: source must be a function",
    );
  }
});

test("registerContextSource() without AsyncLocalStorage: the source still reaches the lines", () => {
  resetContextStorage({});
  const { lines, logger } = capture();
  let current: Readonly<Record<string, unknown>> | undefined;
  const unregister = registerContextSource(() => current);
  try {
    withRequestId("r-9", () => {
      current = Object.freeze({ span_id: "sync" });
      logger.info("inside");
      current = undefined;
    });
  } finally {
    unregister();
    resetContextStorage();
  }
  assert.deepEqual([lines[0]!.request_id, lines[0]!.span_id], ["r-9", "sync"]);
});
