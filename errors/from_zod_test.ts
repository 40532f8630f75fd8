import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { fromZod } from "./from_zod.ts";

function failure(schema: z.ZodType, input: unknown): z.ZodError {
  const result = schema.safeParse(input);
  assert.equal(result.success, false);
  return result.error as z.ZodError;
}

test("fromZod() gives a 422 with one entry per issue and a JSON Pointer each", () => {
  const schema = z.object({
    name: z.string().min(1),
    seats: z.number().int().max(100),
    email: z.email(),
    role: z.enum(["owner", "member"]),
    tags: z.array(z.string()).max(2),
    owner: z.object({ id: z.uuid() }),
  });
  const error = fromZod(failure(schema, {
    name: "",
    seats: 101,
    email: "not-an-email",
    role: "root",
    tags: ["a", "b", "c"],
    owner: {},
  }));
  assert.equal(error.status, 422);
  assert.equal(error.code, "validation_failed");
  assert.deepEqual(error.toProblem().errors, [
    { pointer: "/name", detail: "Must not be empty" },
    { pointer: "/seats", detail: "Must be at most 100" },
    { pointer: "/email", detail: "Must be a valid email" },
    { pointer: "/role", detail: 'Must be one of: "owner", "member"' },
    { pointer: "/tags", detail: "Must have at most 2 items" },
    { pointer: "/owner/id", detail: "Is required" },
  ]);
});

test("fromZod() never repeats the rejected input", () => {
  const secret = "sk-live-THIS-MUST-NOT-LEAK";
  const schema = z.object({ key: z.number(), mode: z.literal("x"), size: z.string().max(3) });
  const error = fromZod(failure(schema, { key: secret, mode: secret, size: secret }));
  assert.ok(!JSON.stringify(error.toProblem()).includes("THIS-MUST-NOT-LEAK"));
  const entries = error.toProblem().errors ?? [];
  assert.deepEqual(entries, [
    { pointer: "/key", detail: "Must be a number" },
    { pointer: "/mode", detail: 'Must be one of: "x"' },
    { pointer: "/size", detail: "Must have at most 3 characters" },
  ]);
});

test("fromZod() escapes pointer segments and supports a prefix and array indexes", () => {
  const schema = z.object({ "a/b": z.object({ "c~d": z.array(z.number()) }) });
  const error = fromZod(failure(schema, { "a/b": { "c~d": [1, "x"] } }), {
    pointerPrefix: "/body",
  });
  assert.deepEqual(error.toProblem().errors, [{
    pointer: "/body/a~1b/c~0d/1",
    detail: "Must be a number",
  }]);
});

test("fromZod() can answer 400 with its own message and code", () => {
  const error = fromZod(failure(z.object({ page: z.number() }), {}), {
    status: 400,
    message: "Invalid query",
    code: "invalid_query",
  });
  assert.equal(error.status, 400);
  assert.equal(error.code, "invalid_query");
  assert.equal(error.detail, "Invalid query");
});

test("fromZod() words the other rules from the schema, not zod's text", () => {
  const cases: [z.ZodType, unknown, string][] = [
    [z.number().gt(5), 5, "Must be greater than 5"],
    [z.number().lt(5), 5, "Must be less than 5"],
    [z.number().min(3), 1, "Must be at least 3"],
    [z.string().min(3), "a", "Must have at least 3 characters"],
    [z.string().max(2), "abc", "Must have at most 2 characters"],
    [z.number().multipleOf(5), 7, "Must be a multiple of 5"],
    [z.union([z.string(), z.number()]), true, "Does not match any allowed form"],
    [z.string().refine(() => false, "custom text with input"), "a", "Is invalid"],
    [z.object({}).strict(), { extra: 1 }, 'Unknown keys: "extra"'],
    [
      z.date().min(new Date("2026-01-01T00:00:00Z")),
      new Date("2025-01-01T00:00:00Z"),
      "Must be on or after 2026-01-01T00:00:00.000Z",
    ],
    [z.record(z.string().min(2), z.number()), { a: 1 }, "Has an invalid key"],
    [z.map(z.string(), z.number()), new Map([["a", "b"]]), "Must be a number"],
    [z.string(), null, "Must be a string"],
    [z.string().regex(/^a+$/), "b", "Does not match the required pattern"],
    [z.string().startsWith("sk_"), "pk_1", 'Must start with "sk_"'],
    [z.string().endsWith(".json"), "a.yaml", 'Must end with ".json"'],
    [z.string().includes("@"), "ab", 'Must contain "@"'],
    [z.string().lowercase(), "AB", "Must be lowercase"],
    [z.iso.datetime(), "yesterday", "Must be a valid datetime"],
    [z.object({ x: z.object({}) }), { x: 1 }, "Must be an object"],
  ];
  for (const [schema, input, detail] of cases) {
    const [entry] = fromZod(failure(schema, input)).toProblem().errors ?? [];
    assert.equal(entry?.detail, detail, detail);
  }
});

test("fromZod() takes a formatIssue hook and falls back to its own wording", () => {
  const error = fromZod(failure(z.object({ a: z.string(), b: z.number() }), {}), {
    formatIssue: (issue) => (issue.path[0] === "a" ? "Give an a" : undefined),
  });
  assert.deepEqual(error.toProblem().errors, [
    { pointer: "/a", detail: "Give an a" },
    { pointer: "/b", detail: "Is required" },
  ]);
});

test("fromZod() rejects values without issues", () => {
  assert.throws(() => fromZod({} as never), TypeError);
  assert.throws(() => fromZod(null as never), /expected a ZodError/);
});
