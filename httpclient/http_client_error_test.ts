import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { isAppError } from "@plinth/errors";
import {
  HTTP_CLIENT_ERROR_CODES,
  HttpClientError,
  type HttpClientErrorCode,
} from "./http_client_error.ts";

test("HttpClientError() carries its status, code, upstream details and cause", () => {
  const cause = new Error("reset");
  const error = new HttpClientError("Cannot GET a.test/x: no response", {
    code: "upstream_timeout",
    upstream: "a.test",
    upstreamStatus: 408,
    upstreamCode: "slow",
    attempts: 2,
    cause,
  });
  assert.equal(error.name, "HttpClientError");
  assert.equal(error.status, 504);
  assert.equal(error.cause, cause);
  assert.equal(isAppError(error), true);
  assert.deepEqual(
    [error.upstream, error.upstreamStatus, error.upstreamCode, error.attempts],
    ["a.test", 408, "slow", 2],
  );
  // A 5xx keeps its extensions in the logs, out of the client's problem.
  assert.equal(error.toProblem()["upstream"], undefined);
  const statuses = Object.fromEntries(
    HTTP_CLIENT_ERROR_CODES.map((code) => [code, new HttpClientError("x", { code }).status]),
  );
  assert.deepEqual(statuses, {
    upstream_timeout: 504,
    upstream_unreachable: 502,
    upstream_error: 502,
    upstream_rejected: 502,
    upstream_rate_limited: 503,
    upstream_quota_exceeded: 503,
    upstream_response_too_large: 502,
    upstream_invalid_response: 502,
  });
});

test("HttpClientError() refuses an unknown code, a missing options bag and a non-string message", () => {
  assert.throws(() => new HttpClientError("x", { code: "nope" as never }), {
    name: "TypeError",
    message: /HTTP_CLIENT_ERROR_CODES/,
  });
  assert.throws(() => new HttpClientError("x", { code: "toString" as never }), TypeError);
  assert.throws(() => new HttpClientError("x", undefined as never), /options must be an object/);
  assert.throws(() => new HttpClientError(1 as never, { code: "upstream_error" }), /message/);
});

test("HTTP_CLIENT_ERROR_CODES is frozen, unique, and lists every code the package's source uses", () => {
  assert.ok(Object.isFrozen(HTTP_CLIENT_ERROR_CODES));
  assert.equal(new Set(HTTP_CLIENT_ERROR_CODES).size, HTTP_CLIENT_ERROR_CODES.length);
  const dir = new URL("./", import.meta.url);
  const known = new Set<string>(HTTP_CLIENT_ERROR_CODES);
  const used = new Map<string, string>();
  const files = readdirSync(dir).filter((f) =>
    f.endsWith(".ts") && !f.endsWith("_test.ts") && !f.startsWith("_test") &&
    !f.startsWith("_openai_test")
  );
  assert.ok(files.includes("http_client.ts"));
  for (const file of files) {
    const text = readFileSync(new URL(file, dir), "utf8");
    const code = text.split("\n").filter((line) => !/^\s*(\*|\/\/)/.test(line)).join("\n");
    for (const match of code.matchAll(/\bcode(?::| =) "([a-z_]+)"/g)) {
      used.set(match[1] as string, file);
    }
  }
  for (const code of HTTP_CLIENT_ERROR_CODES) {
    if (
      code === "upstream_rate_limited" || code === "upstream_quota_exceeded" ||
      code === "upstream_rejected"
    ) continue; // chosen by status
    assert.ok(used.has(code), `expected to find code: "${code}" in the source`);
  }
  for (const [code, file] of used) {
    assert.ok(known.has(code), `${file} uses code "${code}", which HTTP_CLIENT_ERROR_CODES lacks`);
  }
  const typed: readonly HttpClientErrorCode[] = HTTP_CLIENT_ERROR_CODES;
  assert.equal(typed.length, 8);
});
