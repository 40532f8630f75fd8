import { test } from "node:test";
import assert from "node:assert/strict";
import { describeIssue, invalidConfigMessage } from "./_issues.ts";

test("describeIssue() says missing for a required key and names key, source and rule otherwise", () => {
  assert.equal(
    describeIssue({ key: "DATABASE_URL", source: "unset", rule: "required" }),
    "Missing required config: DATABASE_URL",
  );
  assert.equal(
    describeIssue({ key: "PORT", source: ".env:3", rule: "must be an integer" }),
    "Invalid config PORT (from .env:3): must be an integer",
  );
  assert.equal(
    describeIssue({ key: "MODE", source: "unset", rule: "invalid option" }),
    "Invalid config MODE: invalid option",
  );
});

test("invalidConfigMessage() counts the problems and lists one per line", () => {
  assert.equal(
    invalidConfigMessage([
      { key: "DATABASE_URL", source: "unset", rule: "required" },
      { key: "PORT", source: ".env:3", rule: "must be an integer" },
      { key: "MODE", source: "unset", rule: "invalid option" },
    ]),
    "Invalid configuration (3 problems):\n  - Missing required config: DATABASE_URL\n  - Invalid config PORT (from .env:3): must be an integer\n  - Invalid config MODE: invalid option",
  );
  assert.match(
    invalidConfigMessage([{ key: "A", source: "env", rule: "required" }]),
    /^Invalid configuration \(1 problem\):\n {2}- Missing required config: A$/,
  );
});
