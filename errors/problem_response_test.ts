import { test } from "node:test";
import assert from "node:assert/strict";
import { requestIdOf, toProblemResponse } from "./problem_response.ts";
import { validationFailed } from "./http_errors.ts";
import { AppError } from "./app_error.ts";

test("toProblemResponse() renders an AppError with the request's path and id", async () => {
  const request = new Request("http://localhost/orgs?x=1", {
    headers: { "x-request-id": "abc-1" },
  });
  const res = toProblemResponse(
    validationFailed("Invalid", { errors: [{ pointer: "/name", detail: "Is required" }] }),
    { request, typeBase: "https://errors.example.com/" },
  );
  assert.equal(res.status, 422);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.deepEqual(await res.json(), {
    type: "https://errors.example.com/validation_failed",
    title: "Unprocessable Content",
    status: 422,
    detail: "Invalid",
    instance: "/orgs",
    code: "validation_failed",
    request_id: "abc-1",
    errors: [{ pointer: "/name", detail: "Is required" }],
  });
});

test("toProblemResponse() turns any thrown value into a generic 500", async () => {
  for (const value of [new Error("secret"), "secret", null, undefined, { message: "secret" }]) {
    const res = toProblemResponse(value);
    assert.equal(res.status, 500);
    const body = await res.json();
    assert.equal(body.detail, "An unexpected error occurred");
    assert.ok(!JSON.stringify(body).includes("secret"));
  }
});

test("toProblemResponse() prefers an explicit request id", async () => {
  const request = new Request("http://localhost/", { headers: { "x-request-id": "from-header" } });
  const body = await toProblemResponse(null, { request, requestId: "explicit" }).json();
  assert.equal(body.request_id, "explicit");
});

test("requestIdOf() ignores ids that are not safe tokens", () => {
  const of = (id: string): string | undefined =>
    requestIdOf(new Request("http://x/", { headers: { "x-request-id": id } }));
  assert.equal(of("req_1.2:3-4"), "req_1.2:3-4");
  assert.equal(of("<script>"), undefined);
  assert.equal(of("a".repeat(129)), undefined);
  assert.equal(requestIdOf(new Request("http://x/")), undefined);
});

test("toProblemResponse() never throws on hostile values: it answers a generic 500", async () => {
  const revoked = Proxy.revocable(new Error("secret"), {});
  revoked.revoke();
  const throwing = (): never => {
    throw new Error("trap secret");
  };
  const brand = Symbol.for("plinth.AppError");
  const corpus: [string, unknown][] = [
    ["revoked proxy", revoked.proxy],
    ["every trap throws", new Proxy({}, { get: throwing, ownKeys: throwing, has: throwing })],
    ["getPrototypeOf throws", new Proxy(new Error("x"), { getPrototypeOf: throwing })],
    [
      "passes for an AppError, then throws",
      new Proxy({}, { get: (_t, key) => (key === brand ? true : throwing()) }),
    ],
    [
      "AppError whose getResponse throws",
      Object.assign(new AppError("x"), {
        getResponse: throwing,
      }),
    ],
  ];
  const request = new Request("http://localhost/orgs", { headers: { "x-request-id": "r-h" } });
  for (const [label, value] of corpus) {
    let res: Response | undefined;
    assert.doesNotThrow(() => {
      res = toProblemResponse(value, { request });
    }, label);
    assert.equal(res?.status, 500, label);
    assert.equal(res?.headers.get("content-type"), "application/problem+json", label);
    const body = await res!.json();
    assert.equal(body.code, "internal_error", label);
    assert.equal(body.detail, "An unexpected error occurred", label);
    assert.equal(body.request_id, "r-h", label);
    assert.ok(!JSON.stringify(body).includes("secret"), label);
  }
  const hostileRequest = Proxy.revocable(request, {});
  hostileRequest.revoke();
  const res = toProblemResponse(new Error("x"), { request: hostileRequest.proxy });
  assert.equal(res.status, 500);
  assert.equal((await res.json()).request_id, undefined);
});
