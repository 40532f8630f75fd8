import { test } from "node:test";
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import {
  findAsyncLocalStorage,
  resetContextStorage,
  SyncContextStorage,
} from "./_context_store.ts";
import { getContext, runWithContext } from "./context.ts";
import { createLogger } from "./logger.ts";

test("findAsyncLocalStorage() prefers a global AsyncLocalStorage", () => {
  class Global {}
  const scope = {
    AsyncLocalStorage: Global,
    process: { getBuiltinModule: () => ({ AsyncLocalStorage }) },
  };
  assert.equal(findAsyncLocalStorage(scope), Global);
});

test("findAsyncLocalStorage() loads node:async_hooks through process.getBuiltinModule", () => {
  const asked: string[] = [];
  const scope = {
    process: {
      getBuiltinModule: (name: string) => {
        asked.push(name);
        return { AsyncLocalStorage };
      },
    },
  };
  assert.equal(findAsyncLocalStorage(scope), AsyncLocalStorage);
  assert.deepEqual(asked, ["node:async_hooks"]);
});

test("findAsyncLocalStorage() is undefined without a global, a process or a usable built-in", () => {
  assert.equal(findAsyncLocalStorage({}), undefined);
  assert.equal(findAsyncLocalStorage({ process: {} }), undefined);
  assert.equal(
    findAsyncLocalStorage({ process: { getBuiltinModule: () => undefined } }),
    undefined,
  );
  const throwing = () => {
    throw new Error("No such built-in module");
  };
  assert.equal(findAsyncLocalStorage({ process: { getBuiltinModule: throwing } }), undefined);
});

test("findAsyncLocalStorage() finds one on this runtime (process.getBuiltinModule works here)", () => {
  assert.equal(typeof findAsyncLocalStorage(), "function");
});

test("SyncContextStorage.run() restores the outer store when fn returns or throws", () => {
  const storage = new SyncContextStorage<string>();
  const seen = storage.run(
    "outer",
    () => [storage.run("inner", () => storage.getStore()), storage.getStore()],
  );
  assert.deepEqual(seen, ["inner", "outer"]);
  assert.throws(() => storage.run("x", () => assert.fail("boom")), /boom/);
  assert.equal(storage.getStore(), undefined);
});

test("runWithContext() without AsyncLocalStorage: fields until the first await, then none, never leaked", async () => {
  resetContextStorage({});
  try {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      service: "svc",
      destination: { write: (line) => lines.push(JSON.parse(line)) },
    });
    const result = runWithContext({ request_id: "r-1" }, async () => {
      logger.info("before await");
      assert.deepEqual(runWithContext({ tenant: "acme" }, getContext), {
        request_id: "r-1",
        tenant: "acme",
      });
      await Promise.resolve();
      logger.info("after await");
      return 42;
    });
    logger.info("outside");
    assert.equal(await result, 42);
    assert.deepEqual(lines.map((l) => [l.message, l.request_id]), [
      ["before await", "r-1"],
      ["outside", undefined],
      ["after await", undefined],
    ]);
  } finally {
    resetContextStorage();
  }
  assert.equal(
    await runWithContext({ request_id: "r-2" }, async () => {
      await Promise.resolve();
      return getContext()?.request_id;
    }),
    "r-2",
  );
});
