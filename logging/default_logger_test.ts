import { test } from "node:test";
import assert from "node:assert/strict";
import { getLogger, log, setLogger } from "./default_logger.ts";
import { createLogger } from "./logger.ts";

test("getLogger() works before any set-up and returns the same logger", () => {
  const first = getLogger();
  assert.equal(getLogger(), first);
  assert.equal(typeof first.info, "function");
  assert.ok(["debug", "info", "warn", "error", "fatal", "silent"].includes(first.level));
});

test("setLogger() replaces the default and returns the previous one", () => {
  const lines: string[] = [];
  const mine = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
  const previous = setLogger(mine);
  try {
    assert.equal(getLogger(), mine);
    assert.notEqual(previous, mine);
  } finally {
    assert.equal(setLogger(previous), mine);
  }
  assert.throws(() => setLogger({} as never), TypeError);
  assert.throws(() => setLogger(null as never), TypeError);
});

test("log forwards every method to the current default logger", async () => {
  const lines: Record<string, unknown>[] = [];
  let flushed = 0;
  const previous = setLogger(createLogger({
    service: "svc",
    destination: { write: (l) => lines.push(JSON.parse(l)), flush: () => flushed++ },
  }));
  try {
    log.level = "debug";
    assert.equal(log.level, "debug");
    assert.equal(log.isLevelEnabled("debug"), true);
    log.debug("d");
    log.info("i", { a: 1 });
    log.warn("w");
    log.error("e", new Error("boom"));
    log.fatal("f", { b: 2 });
    log.child({ c: 3 }).info("child");
    await log.flush();
  } finally {
    setLogger(previous);
  }
  assert.deepEqual(lines.map((l) => l.level), ["debug", "info", "warn", "error", "fatal", "info"]);
  assert.equal((lines[3]?.err as { message: string }).message, "boom");
  assert.equal(lines[4]?.b, 2);
  assert.equal(lines[5]?.c, 3);
  assert.equal(flushed, 2);
  assert.ok(Object.isFrozen(log));
});
