import { test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { z } from "zod";
import { problemHandler } from "./middleware.ts";
import { validate } from "./validate.ts";

const Org = z.object({
  name: z.string().min(1),
  seats: z.number().int().default(5),
});

function app(): Hono {
  const app = new Hono();
  app.onError(problemHandler({ onError: () => {} }));
  app.post("/orgs", validate("json", Org), (c) => {
    const org = c.req.valid("json");
    const seats: number = org.seats; // the output type: the default is applied
    // @ts-expect-error c.req.valid() is typed, not `any`: seats is a number
    const wrong: string = org.seats;
    assert.equal(typeof wrong, "number");
    return c.json({ name: org.name, seats }, 201);
  });
  app.get(
    "/orgs/:id",
    validate("param", z.object({ id: z.string().regex(/^o_[a-z]+$/) })),
    validate("query", z.object({ page: z.coerce.number().int().min(1) })),
    validate("header", z.object({ "x-api-version": z.enum(["1", "2"]) })),
    (c) => {
      const page: number = c.req.valid("query").page;
      return c.json({
        id: c.req.valid("param").id,
        page,
        version: c.req.valid("header")["x-api-version"],
      });
    },
  );
  app.post("/throws-later", validate("json", z.object({})), () => {
    throw new SyntaxError("application bug");
  });
  return app;
}

function post(path: string, body: string, type = "application/json"): Promise<Response> {
  return Promise.resolve(
    app().request(path, { method: "POST", headers: { "content-type": type }, body }),
  );
}

test("validate() passes the schema's output to c.req.valid()", async () => {
  const res = await post("/orgs", '{"name":"acme","extra":1}');
  assert.equal(res.status, 201);
  assert.deepEqual(await res.json(), { name: "acme", seats: 5 });
  const get = await app().request("/orgs/o_acme?page=3", { headers: { "x-api-version": "2" } });
  assert.equal(get.status, 200);
  assert.deepEqual(await get.json(), { id: "o_acme", page: 3, version: "2" });
});

test("validate() keeps the app's own context variables typed", async () => {
  const typed = new Hono<{ Variables: { user: string } }>();
  typed.use(async (c, next) => {
    c.set("user", "u-1");
    await next();
  });
  typed.get("/me", validate("query", z.object({ verbose: z.enum(["0", "1"]) })), (c) => {
    const user: string = c.var.user;
    return c.json({ user, verbose: c.req.valid("query").verbose });
  });
  const res = await typed.request("/me?verbose=1");
  assert.deepEqual(await res.json(), { user: "u-1", verbose: "1" });
});

test("validate() answers an invalid JSON body with 422 validation_failed and field pointers", async () => {
  const res = await post("/orgs", '{"name":"","seats":"zebra"}');
  assert.equal(res.status, 422);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = await res.json();
  assert.equal(body.code, "validation_failed");
  assert.deepEqual(body.errors, [
    { pointer: "/name", detail: "Must not be empty" },
    { pointer: "/seats", detail: "Must be a number" },
  ]);
  assert.ok(!JSON.stringify(body).includes("zebra"), "the rejected input is not echoed");
});

test("validate() answers an unparsable JSON body with 400 invalid_json", async () => {
  for (
    const [body, detail] of [
      ['{"name":', "The request body is not valid JSON"],
      ["name=acme", "The request body is not valid JSON"],
      ["", "The request body is empty; expected JSON"],
    ]
  ) {
    const res = await post("/orgs", body!, "application/vnd.api+json");
    assert.equal(res.status, 400, body);
    const problem = await res.json();
    assert.equal(problem.code, "invalid_json", body);
    assert.equal(problem.detail, detail, body);
  }
});

test("validate() checks the query, path parameters and headers with prefixed pointers", async () => {
  const res = await app().request("/orgs/ACME?page=0", { headers: { "x-api-version": "9" } });
  assert.equal(res.status, 422);
  const body = await res.json();
  assert.deepEqual(body.errors, [{
    pointer: "/param/id",
    detail: "Does not match the required pattern",
  }]);
  const query = await app().request("/orgs/o_acme?page=0", { headers: { "x-api-version": "1" } });
  assert.deepEqual((await query.json()).errors, [{
    pointer: "/query/page",
    detail: "Must be at least 1",
  }]);
  const header = await app().request("/orgs/o_acme?page=1", { headers: { "x-api-version": "9" } });
  assert.deepEqual((await header.json()).errors, [
    { pointer: "/header/x-api-version", detail: 'Must be one of: "1", "2"' },
  ]);
});

test("validate() leaves errors thrown after validation alone", async () => {
  const res = await post("/throws-later", "{}");
  assert.equal(res.status, 500);
  assert.equal((await res.json()).code, "internal_error");
});

test("validate() checks its arguments when created", () => {
  assert.throws(() => validate("form" as never, Org), /Invalid validate target/);
  assert.throws(() => validate("json", {} as never), TypeError);
  assert.throws(() => validate("json", null as never), /safeParseAsync/);
});
