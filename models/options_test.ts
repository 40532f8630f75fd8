// Argument checks that run before any query (a stand-in `sql` that fails if it is called).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  consumeTokens,
  createPostgresTokenStore,
  getOrganization,
  getUser,
  listApiKeys,
  listOrganizations,
  listUsers,
  lookupApiKey,
  resetMonthlyUsage,
  updateUserStatus,
} from "./mod.ts";

const never = (() => {
  throw new Error("no query may run");
}) as never;
const ORG = "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c";

test("listings check limit and cursor before querying", async () => {
  await assert.rejects(listOrganizations(never, { limit: 0 }), {
    name: "RangeError",
    message: /limit/,
  });
  await assert.rejects(listOrganizations(never, { limit: 1001 }), RangeError);
  await assert.rejects(listOrganizations(never, { limit: 2.5 }), RangeError);
  await assert.rejects(listOrganizations(never, { after: "page-2" }), {
    name: "TypeError",
    message: /after/,
  });
  await assert.rejects(listUsers(never, ORG, { after: 5 as never }), TypeError);
  await assert.rejects(listApiKeys(never, ORG, { limit: -1 }), RangeError);
  await assert.rejects(listApiKeys(never, "acme"), { name: "TypeError", message: /orgId/ });
});

test("reads of a malformed id answer not found without querying", async () => {
  await assert.rejects(getOrganization(never, "acme"), { code: "organization_not_found" });
  await assert.rejects(getUser(never, ""), { code: "user_not_found" });
  await assert.rejects(updateUserStatus(never, "x", "active"), { code: "user_not_found" });
  await assert.rejects(consumeTokens(never, "acme", 1), { code: "organization_not_found" });
  assert.equal(await lookupApiKey(never, "short"), null);
  assert.equal(await lookupApiKey(never, 42 as never), null);
});

test("consumeTokens(), resetMonthlyUsage() and createPostgresTokenStore() check their options", async () => {
  await assert.rejects(consumeTokens(never, ORG, Number.MAX_SAFE_INTEGER + 1), RangeError);
  await assert.rejects(consumeTokens(never, ORG, "5" as never), RangeError);
  await assert.rejects(consumeTokens(never, ORG, 1, { now: 5 as never }), TypeError);
  await assert.rejects(
    consumeTokens(never, ORG, 1, { usage: { model: "m", prompt_tokens: 1, completion_tokens: 0 } }),
    { code: "validation_failed", status: 422 },
  );
  await assert.rejects(resetMonthlyUsage(never, { now: "now" as never }), TypeError);
  assert.throws(() => createPostgresTokenStore(never, { now: 1 as never }), TypeError);
});
