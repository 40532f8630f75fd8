import { test } from "node:test";
import assert from "node:assert/strict";
import { type SerializedError, serializeError } from "./serialize_error.ts";
import { conflict, notFound, serviceUnavailable } from "./http_errors.ts";
import { AppError } from "./app_error.ts";

test("serializeError() writes type, message, code, status, stack and the cause chain", () => {
  const root = Object.assign(new Error("duplicate key"), {
    code: "23505",
    detail: "Key (email)=(a@b.c)",
  });
  const error = conflict("Email taken", { cause: root });
  const out = serializeError(error);
  assert.equal(out.type, "AppError");
  assert.equal(out.message, "Email taken");
  assert.equal(out.code, "conflict");
  assert.equal(out.status, 409);
  assert.match(out.stack ?? "", /serialize_error_test/);
  assert.equal(typeof out.cause, "object");
  const cause = out.cause as { type: string; code: string };
  assert.equal(cause.code, "23505");
  assert.ok(!JSON.stringify(out).includes("a@b.c"), "row values never copied");
});

test("serializeError() includes AggregateError.errors", () => {
  const out = serializeError(new AggregateError([new TypeError("a"), "b"], "many"), {
    stack: false,
  });
  assert.deepEqual(out, {
    type: "AggregateError",
    message: "many",
    errors: [{ type: "TypeError", message: "a" }, { type: "string", message: "b" }],
  });
});

test("serializeError() terminates on circular causes", () => {
  const a = new Error("a");
  const b = new Error("b", { cause: a });
  (a as { cause?: unknown }).cause = b;
  const out = serializeError(a, { stack: false });
  assert.deepEqual(out, {
    type: "Error",
    message: "a",
    cause: { type: "Error", message: "b", cause: "[Circular]" },
  });
  assert.doesNotThrow(() => JSON.stringify(out));
});

test("serializeError() stops at maxDepth", () => {
  let deep: unknown = new Error("0");
  for (let i = 1; i < 50; i++) deep = new Error(String(i), { cause: deep });
  let node: unknown = serializeError(deep, { stack: false, maxDepth: 3 });
  let depth = 0;
  while (typeof node === "object" && node !== null && "cause" in node) {
    node = (node as { cause: unknown }).cause;
    depth++;
  }
  assert.equal(depth, 4);
  assert.equal(node, "[Truncated]");
});

test("serializeError() never throws on hostile or non-Error values", () => {
  const hostile = new Proxy(new Error("x"), {
    get() {
      throw new Error("trap");
    },
  });
  const getter = Object.defineProperty(new Error("visible"), "cause", {
    get() {
      throw new Error("boom");
    },
  });
  assert.equal(serializeError(hostile).type, "Object");
  assert.equal(serializeError(getter).message, "visible");
  assert.deepEqual(serializeError("thrown string"), { type: "string", message: "thrown string" });
  assert.deepEqual(serializeError(null), { type: "null", message: "null" });
  assert.deepEqual(serializeError(undefined), { type: "undefined", message: "undefined" });
  assert.deepEqual(serializeError(Symbol("s")), { type: "symbol", message: "Symbol(s)" });
  assert.deepEqual(serializeError({ nope: 1 }), { type: "Object", message: "" });
  assert.deepEqual(serializeError(Object.create(null)), { type: "Object", message: "" });
});

test("serializeError() cuts huge messages and stacks", () => {
  const out = serializeError(new Error("y".repeat(1_000_000)), { maxStringLength: 100 });
  assert.equal(out.message.length, 100);
  assert.ok((out.stack ?? "").length <= 100);
});

test("serializeError() keeps an AppError's extensions for the logs, a 5xx's included", () => {
  const hidden = serviceUnavailable("Pool exhausted", {
    extensions: { pool_max: 25, host: "db-1", big: 10n },
  });
  assert.equal(hidden.toProblem()["pool_max"], undefined, "not sent to the client");
  const out = serializeError(new Error("Cannot list orgs", { cause: hidden }), { stack: false });
  assert.deepEqual((out.cause as SerializedError).extensions, {
    pool_max: 25,
    host: "db-1",
    big: "10",
  });
  assert.equal(serializeError(notFound("x"), { stack: false }).extensions, undefined, "none");
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.equal(
    serializeError(new AppError("x", { extensions: { circular } })).extensions,
    "[Unserializable]",
  );
  assert.equal(
    serializeError(new AppError("x", { extensions: { long: "x".repeat(100) } }), {
      maxStringLength: 50,
    }).extensions,
    "[Truncated]",
  );
  const plain = Object.assign(new Error("row"), { extensions: { email: "a@b.example" } });
  assert.equal(serializeError(plain).extensions, undefined, "only AppErrors' extensions");
});
