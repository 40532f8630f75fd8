import { test } from "node:test";
import assert from "node:assert/strict";
import { EventError } from "./errors.ts";

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
