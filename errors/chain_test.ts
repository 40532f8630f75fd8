import { test } from "node:test";
import assert from "node:assert/strict";
import { errorChain, rootCause, toAppError, wrap } from "./chain.ts";
import { AppError, isAppError } from "./app_error.ts";
import { notFound, unauthorized } from "./http_errors.ts";

test("errorChain() lists an error, its aggregated errors and its causes, depth first", () => {
  const a = new Error("a");
  const b = new Error("b", { cause: "b-cause" });
  const aggregate = new AggregateError([a, b], "several", { cause: new Error("agg-cause") });
  const top = new Error("top", { cause: aggregate });
  const chain = errorChain(top);
  assert.deepEqual(
    chain.map((e) => (e instanceof Error ? e.message : e)),
    ["top", "several", "a", "b", "b-cause", "agg-cause"],
  );
});

test("errorChain() terminates on circular causes and honours its limit", () => {
  const a = new Error("a");
  const b = new Error("b", { cause: a });
  (a as { cause?: unknown }).cause = b;
  assert.deepEqual(errorChain(a), [a, b]);
  let deep: Error = new Error("0");
  for (let i = 1; i < 500; i++) deep = new Error(String(i), { cause: deep });
  assert.equal(errorChain(deep).length, 100);
  assert.equal(errorChain(deep, { limit: 5 }).length, 5);
});

test("errorChain() handles non-Error values and throwing getters", () => {
  assert.deepEqual(errorChain("boom"), ["boom"]);
  assert.deepEqual(errorChain(null), [null]);
  const hostile = {
    get cause(): unknown {
      throw new Error("getter");
    },
  };
  assert.deepEqual(errorChain(hostile), [hostile]);
});

test("rootCause() follows cause to the end and stops at a cycle", () => {
  const root = new Error("root");
  assert.equal(rootCause(new Error("top", { cause: new Error("mid", { cause: root }) })), root);
  assert.equal(rootCause(root), root);
  assert.equal(rootCause("plain"), "plain");
  const a = new Error("a");
  const b = new Error("b", { cause: a });
  (a as { cause?: unknown }).cause = b;
  assert.equal(rootCause(a), b);
});

test("wrap() keeps an AppError's status, code, detail and headers", () => {
  const inner = unauthorized("Token expired", { wwwAuthenticate: 'Bearer error="invalid_token"' });
  const outer = wrap(inner, "Cannot list keys");
  assert.equal(outer.message, "Cannot list keys");
  assert.equal(outer.status, 401);
  assert.equal(outer.code, "unauthorized");
  assert.equal(outer.detail, "Token expired");
  assert.equal(outer.headers["www-authenticate"], 'Bearer error="invalid_token"');
  assert.equal(outer.cause, inner);
});

test("wrap() keeps retryAfter in milliseconds and the Retry-After header in seconds", () => {
  const inner = new AppError("Slow down", { status: 429, retryAfter: 2_500 });
  const outer = wrap(inner, "Cannot call billing");
  assert.equal(outer.retryAfter, 2_500);
  assert.equal(outer.headers["retry-after"], "3");
});

test("wrap() turns other errors into a 500 and accepts overrides", () => {
  const io = new Error("ECONNRESET");
  const wrapped = wrap(io, "Cannot reach billing");
  assert.equal(wrapped.status, 500);
  assert.equal(wrapped.cause, io);
  assert.equal(wrapped.toProblem().detail, "An unexpected error occurred");
  const overridden = wrap(notFound("No org"), "Lookup failed", {
    status: 502,
    code: "upstream_failed",
  });
  assert.equal(overridden.status, 502);
  assert.equal(overridden.code, "upstream_failed");
  assert.notEqual(overridden.detail, "No org");
});

test("wrap() hides a 4xx's extensions again when it overrides the status with a 5xx", () => {
  const inner = notFound("No org", { extensions: { org: "acme" } });
  assert.equal(wrap(inner, "Lookup failed").toProblem()["org"], "acme");
  const crash = wrap(inner, "Lookup failed", { status: 502 });
  assert.equal(crash.extensions["org"], "acme");
  assert.equal(crash.toProblem()["org"], undefined);
  const exposed = new AppError("Down", {
    status: 503,
    extensions: { until: "04:00Z" },
    exposeExtensions: true,
  });
  assert.equal(wrap(exposed, "Cannot serve").toProblem()["until"], "04:00Z");
});

test("toAppError() passes AppErrors through and wraps everything else in a 500", () => {
  const error = notFound();
  assert.equal(toAppError(error), error);
  for (const value of [new Error("x"), "x", null, undefined, 42, { message: "object" }]) {
    const converted = toAppError(value);
    assert.ok(converted instanceof AppError);
    assert.equal(converted.status, 500);
    assert.equal(converted.cause, value);
  }
});

test("isAppError(), toAppError() and wrap() accept proxies whose traps throw", () => {
  const revoked = Proxy.revocable(new Error("x"), {});
  revoked.revoke();
  const trapped = new Proxy(new Error("x"), {
    getPrototypeOf: () => {
      throw new Error("trap");
    },
  });
  for (const [label, value] of [["revoked", revoked.proxy], ["getPrototypeOf", trapped]]) {
    assert.equal(isAppError(value), false, label);
    const converted = toAppError(value);
    assert.equal(converted.status, 500, label);
    assert.equal(converted.message, "Unexpected non-error value thrown", label);
    assert.equal(converted.cause, value, label);
    const wrapped = wrap(value, "Cannot load orgs");
    assert.equal(wrapped.status, 500, label);
    assert.equal(wrapped.cause, value, label);
  }
});
