import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "@plinth/logging";
import { createApp } from "./app.ts";

function app(): { app: ReturnType<typeof createApp>; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "orgs-test",
    destination: { write: (line) => void logs.push(JSON.parse(line)) },
  });
  return { app: createApp({ logger }), logs };
}

/** The 5xx lines problemHandler() wrote (the access lines are the others). */
function errorsOf(logs: Record<string, unknown>[]): Record<string, unknown>[] {
  return logs.filter((line) => line["message"] === "Request failed");
}

test("example service answers a found organisation with 200 and logs one access line", async () => {
  const { app: service, logs } = app();
  const res = await service.request("/orgs/globex", { headers: { "x-request-id": "req-1" } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-request-id"), "req-1");
  assert.equal((await res.json()).name, "Globex");
  await new Promise((resolve) => setTimeout(resolve, 10));
  const access = logs.find((line) => line["request_id"] === "req-1");
  assert.equal(access?.["status"], 200);
  assert.equal(access?.["service_name"], "orgs-test");
});

test("example service answers a missing organisation and an unknown route with 404 problems", async () => {
  const { app: service } = app();
  const missing = await service.request("/orgs/initech", { headers: { "x-request-id": "r1" } });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), {
    type: "https://errors.plinth.dev/not_found",
    title: "Not Found",
    status: 404,
    detail: 'No organisation "initech"',
    instance: "/orgs/initech",
    code: "not_found",
    request_id: "r1",
  });
  const route = await service.request("/nope");
  assert.equal(route.status, 404);
  assert.equal(route.headers.get("content-type"), "application/problem+json");
});

test("example service answers invalid input with 422 field errors", async () => {
  const res = await app().app.request("/orgs", {
    method: "POST",
    body: JSON.stringify({ id: "X", name: "", budgetTokens: "lots" }),
  });
  assert.equal(res.status, 422);
  const body = await res.json();
  assert.equal(body.detail, "The organisation is invalid");
  assert.deepEqual(body.errors.map((e: { pointer: string }) => e.pointer), [
    "/id",
    "/name",
    "/budgetTokens",
  ]);
  const notJson = await app().app.request("/orgs", { method: "POST", body: "{" });
  assert.equal(notJson.status, 422);
});

test("example service creates an organisation once, then answers 409", async () => {
  const { app: service } = app();
  const init = {
    method: "POST",
    body: JSON.stringify({ id: "initech", name: "Initech", budgetTokens: 5 }),
  };
  assert.equal((await service.request("/orgs", init)).status, 201);
  const again = await service.request("/orgs", init);
  assert.equal(again.status, 409);
  assert.equal((await again.json()).code, "org_exists");
});

test("example service answers a spent budget with 429 budget_exceeded", async () => {
  const { app: service } = app();
  const res = await service.request("/orgs/acme/completions", { method: "POST" });
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("retry-after"), "3600");
  const body = await res.json();
  assert.equal(body.code, "budget_exceeded");
  assert.equal(body.used_tokens, 1_000_250);
  assert.equal((await service.request("/orgs/globex/completions", { method: "POST" })).status, 200);
});

test("example service hides unexpected throws from clients and logs their chains", async () => {
  const { app: service, logs } = app();
  const res = await service.request("/reports/usage");
  assert.equal(res.status, 500);
  const body = await res.json();
  assert.equal(body.detail, "An unexpected error occurred");
  assert.ok(!JSON.stringify(body).includes("10.0.0.7"));
  const err = errorsOf(logs)[0]?.["err"] as { message: string; cause: { code: string } };
  assert.equal(err.message, "Cannot build the usage report");
  assert.equal(err.cause.code, "ECONNREFUSED");

  const legacy = await service.request("/legacy");
  assert.equal(legacy.status, 500);
  assert.equal((await legacy.json()).code, "internal_error");
  const legacyErr = errorsOf(logs)[1]?.["err"] as { cause: { message: string } };
  assert.equal(legacyErr.cause.message, "legacy failure");
  assert.equal(errorsOf(logs)[1]?.["request_id"], legacy.headers.get("x-request-id"));
});
