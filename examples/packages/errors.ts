/**
 * `@plinth/errors` in a Hono app: thrown `AppError`s, a 422 from `validate()`, an unknown route
 * and an unexpected throw, each answered as RFC 9457 problem details. The requests go through
 * `app.request()`, so no port is opened. Prints one line per response.
 *
 * Permissions (README, "Deno permissions"): none.
 *
 * ```sh
 * deno run examples/packages/errors.ts
 * ```
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { notFound } from "@plinth/errors";
import { problemBoundary, problemHandler, problemNotFound, validate } from "@plinth/errors/hono";

const logged: string[] = [];
const app = new Hono();
app.use(problemBoundary());
app.onError(problemHandler({ logger: { error: (message) => void logged.push(message) } }));
app.notFound(problemNotFound());

app.get("/orgs/:id", (c) => {
  throw notFound(`No organisation ${c.req.param("id")}`);
});
app.post("/orgs", validate("json", z.object({ name: z.string().min(1) })), (c) => {
  return c.json({ name: c.req.valid("json").name }, 201);
});
app.get("/boom", () => {
  throw new Error("database password is hunter2");
});

const requests: [string, string, unknown?][] = [
  ["GET", "/orgs/acme"],
  ["POST", "/orgs", { name: "" }],
  ["POST", "/orgs", { name: "Acme" }],
  ["GET", "/no/such/route"],
  ["GET", "/boom"],
];
for (const [method, path, body] of requests) {
  const res = await app.request(path, {
    method,
    headers: { "content-type": "application/json", "x-request-id": "req-7" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json();
  const shown = json.code === undefined ? JSON.stringify(json) : `${json.code}: ${json.detail}`;
  console.log(`${method} ${path} -> ${res.status} ${res.headers.get("content-type")} ${shown}`);
}
console.log(`5xx logged server-side: ${logged.length}`);
