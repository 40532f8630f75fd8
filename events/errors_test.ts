import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { AppError, isAppError } from "@plinth/errors";
import { EVENT_ERROR_CODES, EventError, type EventErrorCode } from "./errors.ts";
import { createMemoryBus } from "./memory_bus.ts";

test("EventError carries code, subject, issues and cause", () => {
  const cause = new Error("inner");
  const error = new EventError("Cannot publish event", {
    code: "schema_violation",
    subject: "a.b",
    issues: ["org: expected string"],
    cause,
  });
  assert.equal(error.name, "EventError");
  assert.equal(error.code, "schema_violation");
  assert.equal(error.subject, "a.b");
  assert.deepEqual(error.issues, ["org: expected string"]);
  assert.equal(error.cause, cause);
  assert.ok(Object.isFrozen(error.issues));
  assert.equal("cause" in new EventError("x", { code: "bus_closed" }), false);
});

test("EventError is an AppError with the status of its code", () => {
  const expected: Record<EventErrorCode, number> = {
    invalid_subject: 400,
    invalid_header: 400,
    invalid_payload: 422,
    schema_violation: 422,
    payload_too_large: 413,
    no_stream: 500,
    durable_conflict: 500,
    stream_setup_failed: 503,
    bus_closed: 503,
    connect_failed: 503,
    event_publish_failed: 503,
  };
  for (const code of EVENT_ERROR_CODES) {
    const error = new EventError("Cannot publish event", { code });
    assert.ok(error instanceof AppError, code);
    assert.equal(error.status, expected[code], code);
    assert.equal(error.toProblem().code, code);
  }
  assert.deepEqual([...EVENT_ERROR_CODES].sort(), Object.keys(expected).sort());
  assert.ok(Object.isFrozen(EVENT_ERROR_CODES));
});

test("EVENT_ERROR_CODES gives every code a status from 400 to 599", () => {
  assert.ok(EVENT_ERROR_CODES.length > 0);
  for (const code of EVENT_ERROR_CODES) {
    const status = new EventError("x", { code }).status;
    assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: ${status}`);
  }
});

test("EventError refuses a code outside EVENT_ERROR_CODES with a TypeError", () => {
  assert.throws(
    () => new EventError("x", { code: "nope" as EventErrorCode }),
    (error: unknown) => error instanceof TypeError && /unknown code/.test(error.message),
  );
  assert.throws(() => new EventError("x", { code: "toString" as EventErrorCode }), TypeError);
  assert.throws(() => new EventError("x", undefined as never), TypeError);
});

test("EVENT_ERROR_CODES lists every code the package's source throws, and each is used", () => {
  const dir = fileURLToPath(new URL(".", import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith("_test.ts"));
  assert.ok(files.includes("connect_events.ts"), `source files found: ${files.join(", ")}`);
  const used = new Set<string>();
  for (const file of files) {
    const text = readFileSync(`${dir}/${file}`, "utf8");
    for (const match of text.matchAll(/code: "([a-z_]+)"/g)) {
      used.add(match[1]!);
      assert.ok(
        (EVENT_ERROR_CODES as readonly string[]).includes(match[1]!),
        `${file} uses code "${match[1]}", which EVENT_ERROR_CODES does not list`,
      );
    }
  }
  for (const code of EVENT_ERROR_CODES) assert.ok(used.has(code), `code "${code}" is never used`);
});

test("isAppError() accepts an EventError thrown by the bus, and its 5xx extensions stay private", async () => {
  const bus = createMemoryBus();
  await bus.close();
  const error = await bus.publish("a.b", {}).then(
    () => assert.fail("a closed bus published"),
    (error: unknown) => error,
  );
  assert.equal(isAppError(error), true);
  assert.ok(error instanceof EventError);
  assert.equal(error.code, "bus_closed");
  assert.equal(error.status, 503);
  const failed = new EventError("Cannot publish event", {
    code: "event_publish_failed",
    subject: "user.created",
    eventId: "e1",
  });
  assert.deepEqual(failed.extensions, { subject: "user.created", event_id: "e1" });
  assert.equal(failed.eventId, "e1");
  assert.equal(failed.toProblem()["subject"], undefined);
  assert.equal(failed.toProblem()["event_id"], undefined);
  assert.doesNotMatch(failed.toProblem().detail ?? "", /user\.created/);
});
