import { test } from "node:test";
import assert from "node:assert/strict";
// A second, older copy of Hono installed beside the pinned one (npm alias `hono-4-6`): what a
// service on another Hono version loads. Its classes are not the ones plinth imports.
import { Hono as OtherHono } from "hono-4-6";
import { HTTPException as OtherHTTPException } from "hono-4-6/http-exception";
import { bodyLimit as otherBodyLimit } from "hono-4-6/body-limit";
import { HTTPException } from "hono/http-exception";
import { Hono } from "hono";
import { problemHandler } from "./middleware.ts";
import { AppError } from "./app_error.ts";
import { fromHttpException, isHttpExceptionLike } from "./_http_exception.ts";

function otherApp(): { app: OtherHono; errors: unknown[] } {
  const errors: unknown[] = [];
  const app = new OtherHono();
  // The runtime contract is under test here; the handler's Hono types are the pinned copy's,
  // which another Hono version's `onError` does not accept without a cast.
  const handler = problemHandler({ onError: (error) => errors.push(error) });
  app.onError(handler as unknown as Parameters<OtherHono["onError"]>[0]);
  return { app, errors };
}

test("problemHandler() renders a 403 HTTPException from another copy of Hono", async () => {
  assert.notEqual(OtherHTTPException, HTTPException, "the test needs two copies of Hono");
  const { app, errors } = otherApp();
  app.get("/orgs/:id", () => {
    throw new OtherHTTPException(403, {
      message: "Not a member of this organisation",
      res: new Response("Forbidden", {
        headers: { "x-denied-by": "membership", "content-type": "text/plain" },
      }),
    });
  });
  const res = await app.request("/orgs/acme");
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.equal(res.headers.get("x-denied-by"), "membership");
  const body = await res.json();
  assert.equal(body.code, "forbidden");
  assert.equal(body.title, "Forbidden");
  assert.equal(body.detail, "Not a member of this organisation");
  assert.equal(body.instance, "/orgs/acme");
  assert.ok(errors[0] instanceof OtherHTTPException, "onError sees the thrown exception");
});

test("problemHandler() keeps WWW-Authenticate of a 401 from another copy of Hono", async () => {
  const { app } = otherApp();
  app.get("/", () => {
    throw new OtherHTTPException(401, {
      message: "Token expired",
      res: new Response(null, { headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } }),
    });
  });
  const res = await app.request("/");
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), 'Bearer error="invalid_token"');
  const body = await res.json();
  assert.equal(body.code, "unauthorized");
  assert.equal(body.detail, "Token expired");
});

test("problemHandler() renders another Hono's bodyLimit() 413 (Content-Length) as a problem", async () => {
  const { app } = otherApp();
  app.post("/upload", otherBodyLimit({ maxSize: 8 }), (c) => c.text("ok"));
  const res = await app.request("/upload", {
    method: "POST",
    headers: { "content-length": "64" },
    body: "x".repeat(64),
  });
  assert.equal(res.status, 413);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = await res.json();
  assert.equal(body.code, "content_too_large");
  assert.equal(body.title, "Content Too Large");
  assert.equal(body.detail, "Request body is too large");
});

test("problemHandler() renders another Hono's bodyLimit() 413 (streamed body) as a problem", async () => {
  const { app } = otherApp();
  app.post("/upload", otherBodyLimit({ maxSize: 8 }), async (c) => c.text(await c.req.text()));
  const res = await app.request("/upload", { method: "POST", body: "x".repeat(64) });
  assert.equal(res.status, 413);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = await res.json();
  assert.equal(body.code, "content_too_large");
  assert.equal(body.detail, "Request body is too large");
});

test("problemHandler() handles an AppError as an AppError before the HTTPException shape", async () => {
  const app = new Hono();
  app.onError(problemHandler({ onError: () => {} }));
  app.get("/", () => {
    throw new AppError("Organisation acme exists", {
      status: 409,
      code: "org_exists",
      extensions: { org: "acme" },
    });
  });
  const res = await app.request("/");
  assert.equal(res.status, 409);
  const body = await res.json();
  assert.equal(body.code, "org_exists");
  assert.equal(body.org, "acme");
});

test("problemHandler() does not take an Error with a status but no getResponse() for an HTTPException", async () => {
  const app = new Hono();
  app.onError(problemHandler({ onError: () => {} }));
  app.get("/", () => {
    throw Object.assign(new Error("db said 404 on /internal/10.0.0.3"), { status: 404 });
  });
  const res = await app.request("/");
  assert.equal(res.status, 500);
  const body = await res.json();
  assert.equal(body.code, "internal_error");
  assert.ok(!JSON.stringify(body).includes("10.0.0.3"));
});

test("isHttpExceptionLike() needs an Error, an integer 4xx/5xx status and getResponse()", () => {
  const getResponse = (): Response => new Response(null);
  assert.equal(isHttpExceptionLike(new HTTPException(404)), true);
  assert.equal(isHttpExceptionLike(new OtherHTTPException(413)), true);
  assert.equal(
    isHttpExceptionLike(Object.assign(new Error("x"), { status: 418, getResponse })),
    true,
  );
  assert.equal(
    isHttpExceptionLike({ status: 403, message: "x", getResponse }),
    false,
    "not an Error",
  );
  assert.equal(isHttpExceptionLike(Object.assign(new Error("x"), { status: 403 })), false);
  assert.equal(
    isHttpExceptionLike(Object.assign(new Error("x"), { status: 403, getResponse: "no" })),
    false,
  );
  for (const status of [200, 302, 399, 600, 403.5, Number.NaN, "403"]) {
    assert.equal(
      isHttpExceptionLike(Object.assign(new Error("x"), { status, getResponse })),
      false,
      `status ${String(status)}`,
    );
  }
  assert.equal(isHttpExceptionLike(null), false);
  assert.equal(isHttpExceptionLike("403"), false);
  const revoked = Proxy.revocable(new OtherHTTPException(403), {});
  revoked.revoke();
  assert.equal(isHttpExceptionLike(revoked.proxy), false);
  const throwing = new Proxy(new OtherHTTPException(403), {
    get: () => {
      throw new Error("trap");
    },
  });
  assert.equal(isHttpExceptionLike(throwing), false);
});

test("fromHttpException() survives a res whose headers cannot be read", () => {
  const error = new OtherHTTPException(429, { message: "Slow down" });
  Object.defineProperty(error, "res", {
    get: () => {
      throw new Error("trap");
    },
  });
  const appError = fromHttpException(error);
  assert.equal(appError.status, 429);
  assert.equal(appError.detail, "Slow down");
  assert.deepEqual({ ...appError.headers }, {});
});
