import { test } from "node:test";
import assert from "node:assert/strict";
import { LOG_LEVELS, parseLogLevel } from "./level.ts";

test("parseLogLevel() reads every level in any case and with spaces", () => {
  for (const level of LOG_LEVELS) {
    assert.equal(parseLogLevel(level.toUpperCase()), level);
    assert.equal(parseLogLevel(` ${level} `), level);
  }
});

test("parseLogLevel() rejects unknown names and non-strings", () => {
  assert.equal(parseLogLevel("verbose"), undefined);
  assert.equal(parseLogLevel(""), undefined);
  assert.equal(parseLogLevel(3), undefined);
  assert.equal(parseLogLevel(undefined), undefined);
});

test("LOG_LEVELS is frozen and ordered by severity", () => {
  assert.ok(Object.isFrozen(LOG_LEVELS));
  assert.equal(LOG_LEVELS.indexOf("debug"), 0);
  assert.equal(LOG_LEVELS.at(-1), "silent");
});
