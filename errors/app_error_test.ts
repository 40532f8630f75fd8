import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { APP_ERROR_CODES, AppError, isAppError } from "./app_error.ts";
import { codeStatus } from "./_status.ts";

test("AppError defaults to a 500 whose message stays out of the problem", () => {
  const error = new AppError("database password rejected for user admin");
  assert.equal(error.status, 500);
  assert.equal(error.code, "internal_error");
  assert.equal(error.name, "AppError");
  assert.equal(error.expose, false);
  assert.ok(error instanceof Error);
  const problem = error.toProblem();
  assert.equal(problem.detail, "An unexpected error occurred");
  assert.ok(!JSON.stringify(problem).includes("password"));
});

test("AppError exposes a 4xx message as detail unless told not to", () => {
  assert.equal(new AppError("No such user", { status: 404 }).detail, "No such user");
  const hidden = new AppError("User 42 is banned", { status: 403, expose: false });
  assert.equal(hidden.expose, false);
  assert.equal(hidden.toProblem().detail, "The request failed: forbidden");
});

test("AppError never exposes a 5xx message, even when asked to", () => {
  const error = new AppError("internal host db-7", { status: 503, expose: true });
  assert.equal(error.expose, false);
  assert.equal(error.detail, "The service is temporarily unavailable; try again later");
  const explicit = new AppError("internal host db-7", {
    status: 503,
    detail: "Maintenance until 04:00 UTC",
  });
  assert.equal(explicit.toProblem().detail, "Maintenance until 04:00 UTC");
});

test("AppError keeps the ES2022 cause only when one is given", () => {
  const cause = new Error("inner");
  assert.equal(new AppError("outer", { cause }).cause, cause);
  assert.equal("cause" in new AppError("outer"), false);
  assert.equal(new AppError("outer", { cause: null }).cause, null);
});

test("AppError.toProblem() orders standard members and adds extensions after them", () => {
  const error = new AppError("Seats exhausted", {
    status: 409,
    code: "seats_exhausted",
    instance: "/orgs/acme/seats",
    extensions: { seats: 10, type: "ignored", status: 200, code: "ignored", request_id: "x" },
  });
  const problem = error.toProblem({ requestId: "req-1", instance: "/other" });
  assert.deepEqual(Object.keys(problem), [
    "type",
    "title",
    "status",
    "detail",
    "instance",
    "code",
    "request_id",
    "seats",
  ]);
  assert.equal(problem.type, "about:blank");
  assert.equal(problem.status, 409);
  assert.equal(problem.code, "seats_exhausted");
  assert.equal(problem.instance, "/orgs/acme/seats");
  assert.equal(problem.request_id, "req-1");
});

test("AppError.toProblem() builds the type from typeBase only for about:blank", () => {
  const base = "https://errors.example.com/";
  assert.equal(
    new AppError("x", { status: 404 }).toProblem({ typeBase: base }).type,
    `${base}not_found`,
  );
  const typed = new AppError("x", { status: 404, type: "https://other.example/gone" });
  assert.equal(typed.toProblem({ typeBase: base }).type, "https://other.example/gone");
});

test("AppError.toProblem() renders field errors and caps how many", () => {
  const errors = Array.from(
    { length: 150 },
    (_, i) => ({ pointer: `/items/${i}`, detail: "Is invalid" }),
  );
  const problem = new AppError("Invalid", { status: 422, errors }).toProblem();
  assert.equal(problem.errors?.length, 100);
  assert.equal(problem["errors_truncated"], true);
  assert.deepEqual(problem.errors?.[3], { pointer: "/items/3", detail: "Is invalid" });
  assert.equal(
    new AppError("Invalid", { status: 422, errors }).toProblem({ maxErrors: 200 }).errors?.length,
    150,
  );
});

test("AppError cuts a 50 MB detail to a bounded, well-formed problem", async () => {
  const huge = "x".repeat(50 * 1024 * 1024);
  const error = new AppError(huge, { status: 400 });
  const res = error.getResponse();
  const body = await res.json();
  assert.equal(res.status, 400);
  assert.equal(body.detail.length, 4096);
  assert.ok(body.detail.endsWith("…"));
  assert.equal(
    new AppError(huge, { status: 400 }).toProblem({ maxDetailLength: 10 }).detail,
    "xxxxxxxxx…",
  );
});

test("AppError cuts a detail without splitting a surrogate pair", () => {
  const detail = `${"a".repeat(8)}😀😀😀`;
  const cut = new AppError("x", { status: 400, detail }).toProblem({ maxDetailLength: 10 }).detail;
  assert.equal(cut, "aaaaaaaa…");
});

test("AppError adds WWW-Authenticate to a 401 and Retry-After (whole seconds) when retryAfter (ms) is set", () => {
  assert.equal(new AppError("x", { status: 401 }).headers["www-authenticate"], "Bearer");
  const custom = new AppError("x", { status: 401, wwwAuthenticate: 'Bearer realm="api"' });
  assert.equal(custom.headers["www-authenticate"], 'Bearer realm="api"');
  const limited = new AppError("x", { status: 429, retryAfter: 2_100 });
  assert.equal(limited.headers["retry-after"], "3");
  assert.equal(limited.retryAfter, 2_100);
  assert.equal(new AppError("x", { status: 503, retryAfter: 1 }).headers["retry-after"], "1");
  assert.equal(new AppError("x", { status: 503, retryAfter: 0 }).headers["retry-after"], "0");
  assert.equal(new AppError("x", { status: 404 }).headers["www-authenticate"], undefined);
});

test("AppError.getResponse() sends problem+json with the error's headers", async () => {
  const res = new AppError("Slow down", {
    status: 503,
    retryAfter: 5_000,
    headers: { "X-Limit": "10" },
  }).getResponse({ requestId: "r-1" });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.equal(res.headers.get("retry-after"), "5");
  assert.equal(res.headers.get("x-limit"), "10");
  assert.equal((await res.json()).request_id, "r-1");
});

test("AppError.getResponse() survives extensions that JSON cannot hold", async () => {
  const cyclic: Record<string, unknown> = {};
  cyclic["self"] = cyclic;
  const res = new AppError("x", { status: 400, extensions: { cyclic } }).getResponse();
  const body = await res.json();
  assert.equal(body.status, 400);
  assert.equal(body.cyclic, undefined);
  const big = await new AppError("x", { status: 400, extensions: { n: 2n ** 70n } }).getResponse()
    .json();
  assert.equal(big.n, "1180591620717411303424");
});

test("AppError.toProblem() leaves a 5xx's extensions and errors out unless exposeExtensions is set", async () => {
  const error = new AppError("Pool exhausted on db-7", {
    status: 503,
    code: "database_busy",
    extensions: { pool: { open: 25, max: 25 }, host: "db-7" },
    errors: [{ pointer: "/x", detail: "internal" }],
  });
  assert.equal(error.exposeExtensions, false);
  const body = await error.getResponse({ requestId: "r-5", instance: "/q" }).json();
  assert.deepEqual(body, {
    type: "about:blank",
    title: "Service Unavailable",
    status: 503,
    detail: "The service is temporarily unavailable; try again later",
    instance: "/q",
    code: "database_busy",
    request_id: "r-5",
  });
  assert.deepEqual(error.extensions["pool"], { open: 25, max: 25 }, "kept for the logs");
  assert.ok(!JSON.stringify(error).includes("db-7"), "toJSON() hides them too");

  const shown = new AppError("Maintenance", {
    status: 503,
    extensions: { until: "04:00Z" },
    exposeExtensions: true,
  });
  assert.equal(shown.toProblem()["until"], "04:00Z");
  const hidden4xx = new AppError("Conflict", {
    status: 409,
    extensions: { holder: "u-1" },
    exposeExtensions: false,
  });
  assert.equal(hidden4xx.toProblem()["holder"], undefined);
  assert.equal(new AppError("x", { status: 409, extensions: { a: 1 } }).toProblem()["a"], 1);
});

test("AppError.toJSON() is the client's view, not the message", () => {
  const json = JSON.parse(JSON.stringify(new AppError("secret internal thing")));
  assert.equal(json.status, 500);
  assert.equal(json.detail, "An unexpected error occurred");
});

test("AppError rejects bad arguments with TypeError and RangeError", () => {
  assert.throws(() => new AppError("x", { status: 200 }), RangeError);
  assert.throws(() => new AppError("x", { status: 404.5 }), RangeError);
  assert.throws(
    () => new AppError("x", { status: 600 }),
    /status must be an integer from 400 to 599/,
  );
  assert.throws(() => new AppError("x", { code: "Not Found" }), TypeError);
  assert.throws(() => new AppError("x", { retryAfter: -1 }), RangeError);
  assert.throws(() => new AppError("x", { retryAfter: Number.NaN }), RangeError);
  assert.throws(
    () => new AppError("x", { headers: { "x-a": "a\r\nSet-Cookie: b" } }),
    /header "x-a"/,
  );
});

test("isAppError() recognises AppErrors, also from another copy of the package", () => {
  assert.equal(isAppError(new AppError("x")), true);
  assert.equal(isAppError(new Error("x")), false);
  assert.equal(isAppError(null), false);
  assert.equal(isAppError("x"), false);
  const foreign = { [Symbol.for("plinth.AppError")]: true };
  assert.equal(isAppError(foreign), true);
  const hostile = new Proxy({}, {
    get() {
      throw new Error("trap");
    },
  });
  assert.equal(isAppError(hostile), false);
});

test("APP_ERROR_CODES gives every code a status and holds the code of every status from 400 to 599", () => {
  assert.ok(Object.isFrozen(APP_ERROR_CODES));
  assert.equal(new Set(APP_ERROR_CODES).size, APP_ERROR_CODES.length, "no code twice");
  for (const code of APP_ERROR_CODES) {
    const status = codeStatus(code);
    assert.ok(status !== undefined && status >= 400 && status <= 599, `status of ${code}`);
  }
  const known = new Set<string>(APP_ERROR_CODES);
  for (let status = 400; status <= 599; status++) {
    const code = new AppError("x", { status }).code;
    assert.ok(known.has(code), `code ${code} of status ${status} is listed`);
    assert.equal(codeStatus(code), status);
  }
  assert.equal(codeStatus("http_404"), undefined, "a named status has no http_ code");
  assert.equal(codeStatus("org_suspended"), undefined);
});

test("APP_ERROR_CODES holds every code literal in the package's source", () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const known = new Set<string>(APP_ERROR_CODES);
  const found = new Set<string>();
  for (const file of readdirSync(here)) {
    if (!file.endsWith(".ts") || file.endsWith("_test.ts")) continue;
    const source = readFileSync(join(here, file), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "") // JSDoc examples use codes of their own
      .replace(/^\s*\/\/.*$/gm, "");
    for (const match of source.matchAll(/\bcode\s*(?::|\?\?)\s*"([a-z0-9_.]+)"/g)) {
      found.add(match[1]!);
    }
  }
  assert.ok(found.has("budget_exceeded") && found.has("invalid_json"), "the scan finds codes");
  for (const code of found) assert.ok(known.has(code), `code "${code}" is in APP_ERROR_CODES`);
});

test("isAppError() recognises an AppError from a separately loaded copy of the class, and subclasses", async () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const copy = mkdtempSync(join(tmpdir(), "plinth-errors-copy-"));
  for (const file of ["app_error.ts", "_json.ts", "_status.ts"]) {
    copyFileSync(join(here, file), join(copy, file));
  }
  const other = await import(pathToFileURL(join(copy, "app_error.ts")).href) as {
    AppError: typeof AppError;
    isAppError: typeof isAppError;
  };
  assert.notEqual(other.AppError, AppError, "a second copy of the class");
  const foreign = new other.AppError("No org", { status: 404 });
  assert.equal(foreign instanceof AppError, false);
  assert.equal(isAppError(foreign), true);
  assert.equal(other.isAppError(new AppError("x")), true);

  class QuotaError extends AppError {
    constructor(message: string) {
      super(message, { status: 429, code: "quota_exceeded" });
      this.name = "QuotaError";
    }
  }
  class ForeignQuotaError extends other.AppError {}
  assert.equal(isAppError(new QuotaError("Over quota")), true);
  assert.equal(isAppError(new ForeignQuotaError("Over quota", { status: 429 })), true);
  assert.equal(other.isAppError(new QuotaError("Over quota")), true);
});
