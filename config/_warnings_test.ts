import { test } from "node:test";
import assert from "node:assert/strict";
import { warningSink } from "./_warnings.ts";

const warning = {
  source: ".env:3",
  message: 'A references ${B}, which is not set; it expands to ""',
};
const now = (): number => Date.UTC(2026, 10, 22, 1, 2, 3, 456);

test("warningSink() writes the exact line @plinth/logging would, when flushed", () => {
  const lines: string[] = [];
  const sink = warningSink(undefined, undefined, (line) => lines.push(line), now);
  sink.add(warning);
  assert.deepEqual(lines, [], "nothing before the load ends");
  sink.flush((name) => ({ SERVICE_NAME: "user-svc", LOG_LEVEL: "Warn" })[name]);
  assert.deepEqual(lines, [
    '{"timestamp":"2026-11-22T01:02:03.456Z","level":"warn","service_name":"user-svc",' +
    '"message":"A references ${B}, which is not set; it expands to \\"\\"","config_source":".env:3"}',
  ]);
  sink.flush(() => undefined);
  assert.equal(lines.length, 1, "each warning is written once");
});

test("warningSink() passes warnings on at once to a hook and a logger, and writes no line", () => {
  const lines: string[] = [];
  const seen: unknown[] = [];
  const sink = warningSink(
    (w) => seen.push(["hook", w]),
    { warn: (message, fields) => seen.push(["logger", message, fields]) },
    (line) => lines.push(line),
    now,
  );
  sink.add(warning);
  sink.flush(() => undefined);
  assert.deepEqual(seen, [
    ["hook", warning],
    ["logger", warning.message, { config_source: ".env:3" }],
  ]);
  assert.deepEqual(lines, []);
});
