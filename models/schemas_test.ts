// The schemas carry every field of the spec under its JSON (snake_case) name, refuse what a
// client must not set, and refuse bad input on their own (the database refuses it independently:
// contract_test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ROLES } from "@plinth/rbac";
import {
  ApiKeySchema,
  CreateApiKeySchema,
  CreateOrganizationSchema,
  CreateUserSchema,
  OrganizationSchema,
  RecordUsageSchema,
  RefreshTokenUseSchema,
  TokenRevocationSchema,
  UpdateOrganizationSchema,
  UpdateUserSchema,
  UsageSchema,
  UserSchema,
} from "./mod.ts";

const ORG = "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c";
const USER = "0b6c3c38-7d1e-4a43-9b0e-6a0f4d1c2e3f";
const AT = "2026-12-01T10:00:00.000Z";

const organization = {
  id: ORG,
  name: "acme",
  display_name: "Acme Inc.",
  budget_tokens_monthly: 1000,
  tokens_used_current_month: 10,
  usage_period: "2026-12",
  status: "active",
  created_at: AT,
  updated_at: AT,
};
const user = {
  id: USER,
  org_id: ORG,
  email: "ann@acme.test",
  name: "Ann",
  role: "org_admin",
  status: "active",
  created_at: AT,
  updated_at: AT,
};
const apiKey = {
  id: "3d5f8a2e-0c1b-4e6f-8a9d-7b2c4e6f8a1d",
  public_id: "AbC123dEf456",
  prefix: "plk",
  org_id: ORG,
  name: "CI",
  key_hash: "ab".repeat(32),
  scopes: ["usage:read"],
  role: "org_user",
  created_by: USER,
  last_used_at: null,
  expires_at: AT,
  revoked_at: null,
  created_at: AT,
  updated_at: AT,
};
const usage = {
  id: "9a4b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
  org_id: ORG,
  api_key_id: "AbC123dEf456",
  user_id: null,
  model: "gpt-4o-mini",
  prompt_tokens: 12,
  completion_tokens: 30,
  total_tokens: 42,
  request_id: "req-1",
  created_at: AT,
};

function keys(value: unknown): string[] {
  return Object.keys(value as object).sort();
}

test("schemas carry every spec field under its snake_case JSON name", () => {
  const org = OrganizationSchema.parse(organization);
  for (
    const field of [
      "name",
      "display_name",
      "budget_tokens_monthly",
      "tokens_used_current_month",
      "status",
    ]
  ) {
    assert.ok(field in org, field);
  }
  assert.deepEqual(keys(org), keys(organization));
  const u = UserSchema.parse(user);
  assert.ok("org_id" in u && "email" in u && "role" in u);
  assert.deepEqual(keys(u), keys(user));
  const k = ApiKeySchema.parse(apiKey);
  for (
    const field of [
      "public_id",
      "prefix",
      "name",
      "key_hash",
      "scopes",
      "role",
      "created_by",
      "last_used_at",
      "expires_at",
      "revoked_at",
    ]
  ) assert.ok(field in k, field);
  assert.equal("key" in k, false);
  const s = UsageSchema.parse(usage);
  for (
    const field of [
      "org_id",
      "api_key_id",
      "user_id",
      "model",
      "prompt_tokens",
      "completion_tokens",
      "total_tokens",
      "request_id",
      "created_at",
    ]
  ) assert.ok(field in s, field);
  assert.ok(RefreshTokenUseSchema.safeParse({ jti: "j", used_at: AT, expires_at: AT }).success);
  assert.ok(TokenRevocationSchema.safeParse({ id: "fam", expires_at: new Date() }).success);
});

test("schemas read JSON and rows alike, and JSON.stringify() writes the wire shape back", () => {
  const org = OrganizationSchema.parse(organization);
  assert.ok(org.created_at instanceof Date);
  const wire = JSON.parse(JSON.stringify(org));
  assert.deepEqual(wire, organization);
  assert.deepEqual(OrganizationSchema.parse(wire), org);
  assert.deepEqual(OrganizationSchema.parse({ ...organization, created_at: new Date(AT) }), org);
  assert.equal(
    OrganizationSchema.safeParse({ ...organization, created_at: "yesterday" }).success,
    false,
  );
  assert.equal(OrganizationSchema.safeParse({ ...organization, created_at: 0 }).success, false);
});

test("create schemas refuse what a client must not set", () => {
  const base = { name: "acme", display_name: "Acme" };
  assert.ok(CreateOrganizationSchema.safeParse(base).success);
  for (
    const extra of [{ id: ORG }, { created_at: AT }, { updated_at: AT }, {
      tokens_used_current_month: 0,
    }, { usage_period: "2026-12" }]
  ) {
    assert.equal(
      CreateOrganizationSchema.safeParse({ ...base, ...extra }).success,
      false,
      JSON.stringify(extra),
    );
  }
  const u = { org_id: ORG, email: "a@b.test", name: "A", role: "org_user" };
  assert.ok(CreateUserSchema.safeParse(u).success);
  assert.equal(CreateUserSchema.safeParse({ ...u, id: USER }).success, false);
  const k = { org_id: ORG, name: "CI", role: "org_user" };
  assert.ok(CreateApiKeySchema.safeParse(k).success);
  for (
    const extra of [{ id: ORG }, { key_hash: "ab".repeat(32) }, { public_id: "AbC123dEf456" }, {
      last_used_at: AT,
    }, { revoked_at: AT }]
  ) {
    assert.equal(
      CreateApiKeySchema.safeParse({ ...k, ...extra }).success,
      false,
      JSON.stringify(extra),
    );
  }
  const r = { org_id: ORG, user_id: USER, model: "m", prompt_tokens: 1, completion_tokens: 1 };
  assert.ok(RecordUsageSchema.safeParse(r).success);
  assert.equal(RecordUsageSchema.safeParse({ ...r, total_tokens: 2 }).success, false);
  assert.equal(RecordUsageSchema.safeParse({ ...r, api_key_id: "AbC123dEf456" }).success, false);
});

test("schemas refuse a negative budget, an unknown role, a malformed UUID and bad e-mails", () => {
  const bad: [string, () => boolean][] = [
    [
      "negative budget",
      () =>
        CreateOrganizationSchema.safeParse({
          name: "acme",
          display_name: "A",
          budget_tokens_monthly: -1,
        }).success,
    ],
    [
      "fractional budget",
      () =>
        CreateOrganizationSchema.safeParse({
          name: "acme",
          display_name: "A",
          budget_tokens_monthly: 1.5,
        }).success,
    ],
    [
      "negative counter",
      () =>
        OrganizationSchema.safeParse({ ...organization, tokens_used_current_month: -1 }).success,
    ],
    [
      "unknown status",
      () => OrganizationSchema.safeParse({ ...organization, status: "deleted" }).success,
    ],
    [
      "upper-case slug",
      () => CreateOrganizationSchema.safeParse({ name: "Acme", display_name: "A" }).success,
    ],
    [
      "unknown role",
      () =>
        CreateUserSchema.safeParse({ org_id: ORG, email: "a@b.test", name: "A", role: "root" })
          .success,
    ],
    [
      "malformed org_id",
      () =>
        CreateUserSchema.safeParse({
          org_id: "acme",
          email: "a@b.test",
          name: "A",
          role: "org_user",
        }).success,
    ],
    ["malformed id", () => UserSchema.safeParse({ ...user, id: "1234" }).success],
    [
      "bad e-mail",
      () =>
        CreateUserSchema.safeParse({
          org_id: ORG,
          email: "ann at acme",
          name: "A",
          role: "org_user",
        }).success,
    ],
    [
      "admin in an org",
      () =>
        CreateUserSchema.safeParse({
          org_id: ORG,
          email: "a@b.test",
          name: "A",
          role: "system_admin",
        }).success,
    ],
    [
      "member without org",
      () => CreateUserSchema.safeParse({ email: "a@b.test", name: "A", role: "org_user" }).success,
    ],
    [
      "system_admin key",
      () => CreateApiKeySchema.safeParse({ org_id: ORG, name: "k", role: "system_admin" }).success,
    ],
    ["bad hash", () => ApiKeySchema.safeParse({ ...apiKey, key_hash: "AB".repeat(32) }).success],
    ["total not the sum", () => UsageSchema.safeParse({ ...usage, total_tokens: 41 }).success],
    [
      "negative tokens",
      () => UsageSchema.safeParse({ ...usage, prompt_tokens: -1, total_tokens: 29 }).success,
    ],
  ];
  for (const [what, parse] of bad) assert.equal(parse(), false, what);
});

test("roles in the schemas are @plinth/rbac's ROLES", () => {
  for (const role of ROLES) {
    const u = {
      email: "a@b.test",
      name: "A",
      role,
      ...(role === "system_admin" ? {} : { org_id: ORG }),
    };
    assert.ok(CreateUserSchema.safeParse(u).success, role);
  }
  assert.equal(
    CreateUserSchema.safeParse({ email: "a@b.test", name: "A", role: "owner", org_id: ORG })
      .success,
    false,
  );
});

test("update schemas take only what a client may change, at least one field", () => {
  assert.ok(UpdateOrganizationSchema.safeParse({ budget_tokens_monthly: 0 }).success);
  assert.ok(UpdateOrganizationSchema.safeParse({ name: "acme-2", status: "suspended" }).success);
  assert.equal(UpdateOrganizationSchema.safeParse({}).success, false);
  for (
    const bad of [
      { id: ORG },
      { created_at: AT },
      { updated_at: AT },
      {
        tokens_used_current_month: 0,
      },
      { usage_period: "2026-12" },
      { budget_tokens_monthly: -1 },
      { status: "deleted" },
    ]
  ) {
    assert.equal(UpdateOrganizationSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
  assert.ok(UpdateUserSchema.safeParse({ role: "org_admin", email: "b@c.test" }).success);
  assert.equal(UpdateUserSchema.safeParse({}).success, false);
  for (
    const bad of [
      { id: USER },
      { org_id: ORG },
      { created_at: AT },
      { role: "system_admin" },
      {
        role: "root",
      },
      { email: "not an address" },
      { status: "banned" },
    ]
  ) {
    assert.equal(UpdateUserSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});
