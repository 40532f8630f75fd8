// Test-only (publish.exclude): the cases contract_test.ts runs on PostgreSQL and on PGlite.
// Each case makes its own rows with unique names, so cases can share one database.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { authenticate } from "@plinth/auth/hono";
import type { AuthVariables } from "@plinth/auth";
import { uniqueName } from "@plinth/testing";
import { quiet } from "./_test_db.ts";
import type postgres from "postgres";
import {
  ApiKeySchema,
  consumeTokens,
  createApiKey,
  createCachedTokenStore,
  createLastUsedTracker,
  createOrganization,
  createPostgresTokenStore,
  createUser,
  findUserByEmail,
  getOrganization,
  getUser,
  listApiKeys,
  listOrganizations,
  listUsers,
  lookupApiKey,
  OrganizationSchema,
  recordUsage,
  resetMonthlyUsage,
  revokeApiKey,
  type Sql,
  updateOrganization,
  updateOrganizationStatus,
  updateUser,
  updateUserStatus,
  UsageSchema,
  UserSchema,
} from "./mod.ts";

export interface Case {
  readonly name: string;
  run(sql: Sql): Promise<void>;
}

/** A unique organisation slug. */
export function slug(prefix = "org"): string {
  return uniqueName(prefix).toLowerCase().replaceAll("_", "-").slice(0, 63);
}

async function org(sql: Sql, budget = 1000) {
  return await createOrganization(sql, {
    name: slug(),
    display_name: "Test org",
    budget_tokens_monthly: budget,
  });
}

/** Runs `fn` and returns the SQLSTATE it fails with. */
async function sqlState(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
  throw new Error("expected the database to refuse the statement");
}

export const CASES: Case[] = [
  {
    name:
      "organisations: create, get, keyset pages, status; updated_at moves only for real changes",
    async run(sql) {
      const a = await org(sql, 500);
      assert.equal(OrganizationSchema.safeParse(a).success, true, JSON.stringify(a));
      assert.equal(a.status, "active");
      assert.equal(a.tokens_used_current_month, 0);
      assert.match(a.usage_period, /^\d{4}-\d{2}$/);
      assert.deepEqual(await getOrganization(sql, a.id), a);
      await assert.rejects(
        createOrganization(sql, { name: a.name, display_name: "Again" }),
        { code: "organization_name_taken", status: 409 },
      );
      await assert.rejects(getOrganization(sql, crypto.randomUUID()), {
        code: "organization_not_found",
      });
      for (let i = 0; i < 4; i++) await org(sql);
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof listOrganizations>> = await listOrganizations(
          sql,
          { after, limit: 2 },
        );
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((o) => o.id));
        after = page.next;
      } while (after !== null);
      assert.deepEqual(seen, [...seen].sort());
      assert.equal(new Set(seen).size, seen.length);
      assert.ok(seen.includes(a.id));
      // a charge does not touch updated_at; a status change does (set by the database)
      await consumeTokens(sql, a.id, 5);
      assert.deepEqual((await getOrganization(sql, a.id)).updated_at, a.updated_at);
      await new Promise((r) => setTimeout(r, 5));
      const suspended = await updateOrganizationStatus(sql, a.id, "suspended");
      assert.equal(suspended.status, "suspended");
      assert.ok(suspended.updated_at.getTime() > a.updated_at.getTime());
      await assert.rejects(updateOrganizationStatus(sql, crypto.randomUUID(), "active"), {
        code: "organization_not_found",
      });
    },
  },
  {
    name:
      "users: create, e-mail unique without case, list by organisation, status, admin without org",
    async run(sql) {
      const o = await org(sql);
      const mail = `${slug("ann")}@Example.test`;
      const ann = await createUser(sql, {
        org_id: o.id,
        email: mail,
        name: "Ann",
        role: "org_admin",
      });
      assert.equal(UserSchema.safeParse(ann).success, true);
      assert.deepEqual(await getUser(sql, ann.id), ann);
      assert.deepEqual(await findUserByEmail(sql, mail.toUpperCase()), ann);
      assert.equal(await findUserByEmail(sql, `nobody-${mail}`), null);
      await assert.rejects(
        createUser(sql, {
          org_id: o.id,
          email: mail.toLowerCase(),
          name: "Ann 2",
          role: "org_user",
        }),
        { code: "email_taken", status: 409 },
      );
      await assert.rejects(
        createUser(sql, {
          org_id: crypto.randomUUID(),
          email: `x-${mail}`,
          name: "X",
          role: "org_user",
        }),
        { code: "organization_not_found" },
      );
      const admin = await createUser(sql, {
        email: `root-${mail}`,
        name: "Root",
        role: "system_admin",
      });
      assert.equal(admin.org_id, null);
      for (let i = 0; i < 3; i++) {
        await createUser(sql, {
          org_id: o.id,
          email: `u${i}-${mail}`,
          name: `U${i}`,
          role: "org_user",
        });
      }
      const first = await listUsers(sql, o.id, { limit: 3 });
      assert.equal(first.items.length, 3);
      assert.notEqual(first.next, null);
      const second = await listUsers(sql, o.id, { limit: 3, after: first.next });
      assert.equal(second.items.length, 1);
      assert.equal(second.next, null);
      assert.ok(!first.items.some((u) => u.id === second.items[0]?.id));
      assert.ok([...first.items, ...second.items].every((u) => u.org_id === o.id));
      const off = await updateUserStatus(sql, ann.id, "suspended");
      assert.equal(off.status, "suspended");
      await assert.rejects(getUser(sql, crypto.randomUUID()), { code: "user_not_found" });
    },
  },
  {
    name:
      "updateOrganization()/updateUser(): only the given fields change, unique names and e-mails hold",
    async run(sql) {
      const o = await org(sql, 100);
      const taken = await org(sql);
      await consumeTokens(sql, o.id, 30);
      await new Promise((r) => setTimeout(r, 5));
      const raised = await updateOrganization(sql, o.id, { budget_tokens_monthly: 500 });
      assert.equal(raised.budget_tokens_monthly, 500);
      assert.equal(raised.tokens_used_current_month, 30);
      assert.equal(raised.display_name, o.display_name);
      assert.equal(raised.status, "active");
      assert.ok(raised.updated_at.getTime() > o.updated_at.getTime());
      const renamed = await updateOrganization(sql, o.id, {
        display_name: "Renamed",
        status: "suspended",
      });
      assert.deepEqual([renamed.display_name, renamed.status, renamed.budget_tokens_monthly], [
        "Renamed",
        "suspended",
        500,
      ]);
      await assert.rejects(updateOrganization(sql, o.id, { name: taken.name }), {
        code: "organization_name_taken",
        status: 409,
      });
      await assert.rejects(
        updateOrganization(sql, o.id, { budget_tokens_monthly: -1 }),
        { code: "validation_failed" },
      );
      await assert.rejects(
        updateOrganization(sql, o.id, { tokens_used_current_month: 0 } as never),
        { code: "validation_failed" },
      );
      await assert.rejects(updateOrganization(sql, crypto.randomUUID(), { display_name: "X" }), {
        code: "organization_not_found",
      });
      assert.deepEqual(await getOrganization(sql, o.id), renamed);

      const member = await org(sql);
      const mail = `${slug("upd")}@example.test`;
      const ann = await createUser(sql, {
        org_id: member.id,
        email: mail,
        name: "Ann",
        role: "org_user",
      });
      const bob = await createUser(sql, {
        org_id: member.id,
        email: `bob-${mail}`,
        name: "Bob",
        role: "org_user",
      });
      await new Promise((r) => setTimeout(r, 5));
      const promoted = await updateUser(sql, ann.id, { role: "org_admin", name: "Ann A." });
      assert.ok(promoted.updated_at.getTime() > ann.updated_at.getTime(), "updated_at moved");
      assert.deepEqual([promoted.role, promoted.name, promoted.email, promoted.org_id], [
        "org_admin",
        "Ann A.",
        mail,
        member.id,
      ]);
      await assert.rejects(updateUser(sql, bob.id, { email: mail.toUpperCase() }), {
        code: "email_taken",
        status: 409,
      });
      assert.equal((await getUser(sql, bob.id)).email, `bob-${mail}`);
      const root = await createUser(sql, {
        email: `root-${mail}`,
        name: "Root",
        role: "system_admin",
      });
      await assert.rejects(updateUser(sql, root.id, { role: "org_user" }), {
        code: "validation_failed",
        status: 422,
      });
      assert.equal((await updateUser(sql, root.id, { status: "suspended" })).role, "system_admin");
      await assert.rejects(updateUser(sql, ann.id, { org_id: taken.id } as never), {
        code: "validation_failed",
      });
      await assert.rejects(updateUser(sql, crypto.randomUUID(), { name: "X" }), {
        code: "user_not_found",
      });
    },
  },
  {
    name:
      "the database refuses bad rows on its own (CHECKs, case-insensitive unique e-mail, UUIDs)",
    async run(sql) {
      const q = sql as postgres.Sql;
      const o = await org(sql);
      assert.equal(
        await sqlState(() =>
          q`insert into organizations (name, display_name, budget_tokens_monthly) values (${slug()}, 'X', -1)`
        ),
        "23514",
      );
      assert.equal(
        await sqlState(() =>
          q`update organizations set tokens_used_current_month = -5 where id = ${o.id}`
        ),
        "23514",
      );
      assert.equal(
        await sqlState(() => q`update organizations set status = 'deleted' where id = ${o.id}`),
        "23514",
      );
      const mail = `${slug("dup")}@example.test`;
      await q`insert into users (org_id, email, name, role) values (${o.id}, ${mail}, 'A', 'org_user')`;
      assert.equal(
        await sqlState(() =>
          q`insert into users (org_id, email, name, role) values (${o.id}, ${mail.toUpperCase()}, 'B', 'org_user')`
        ),
        "23505",
      );
      assert.equal(
        await sqlState(() =>
          q`insert into users (org_id, email, name, role) values (${o.id}, ${`r-${mail}`}, 'C', 'root')`
        ),
        "23514",
      );
      assert.equal(
        await sqlState(() =>
          q`insert into users (org_id, email, name, role) values (${o.id}, ${`s-${mail}`}, 'D', 'system_admin')`
        ),
        "23514",
      );
      assert.equal(
        await sqlState(() =>
          q`insert into users (org_id, email, name, role) values (null, ${`n-${mail}`}, 'E', 'org_user')`
        ),
        "23514",
      );
      // a malformed UUID, written as text so that only the database's uuid type judges it
      assert.equal(
        await sqlState(() =>
          q`insert into users (org_id, email, name, role)
            values (${"acme"}::text::uuid, ${`u-${mail}`}, 'F', 'org_user')`
        ),
        "22P02",
      );
      assert.equal(
        await sqlState(() => q`select * from organizations where id = ${"not-a-uuid"}::uuid`),
        "22P02",
      );
      // a negative budget set later, and an unknown API key role
      assert.equal(
        await sqlState(() =>
          q`update organizations set budget_tokens_monthly = -1 where id = ${o.id}`
        ),
        "23514",
      );
      assert.equal(
        await sqlState(() =>
          q`insert into api_keys (public_id, prefix, org_id, name, key_hash, role)
            values ('AbC123dEf456', 'plk', ${o.id}, 'k', ${"ab".repeat(32)}, 'owner')`
        ),
        "23514",
      );
      assert.equal(
        await sqlState(() =>
          q`insert into usage_records (org_id, user_id, model, prompt_tokens, completion_tokens, total_tokens)
            values (${o.id}, null, 'm', 1, 1, 2)`
        ),
        "23514",
      );
    },
  },
  {
    name:
      "consumeTokens() charges, records usage in the same statement, and refuses past the budget",
    async run(sql) {
      const o = await org(sql, 100);
      const member = await createUser(sql, {
        org_id: o.id,
        email: `${slug("m")}@example.test`,
        name: "M",
        role: "org_user",
      });
      const charge = await consumeTokens(sql, o.id, 60, {
        usage: {
          user_id: member.id,
          model: "m1",
          prompt_tokens: 20,
          completion_tokens: 40,
          request_id: "r1",
        },
      });
      assert.deepEqual({ ...charge, usage_id: typeof charge.usage_id }, {
        budget: 100,
        used: 60,
        remaining: 40,
        usage_id: "string",
      });
      const q = sql as postgres.Sql;
      const [row] = await q`select id::text, org_id::text, api_key_id, user_id::text, model,
        prompt_tokens, completion_tokens, total_tokens, request_id, created_at
        from usage_records where id = ${charge.usage_id as string}`;
      assert.equal(UsageSchema.safeParse(row).success, true);
      assert.equal(row?.total_tokens, 60);
      const at = Date.UTC(2027, 2, 31, 23, 0, 0);
      await assert.rejects(
        consumeTokens(sql, o.id, 41, {
          now: () => at,
          usage: { user_id: member.id, model: "m1", prompt_tokens: 41, completion_tokens: 0 },
        }),
        (
          error: {
            status: number;
            code: string;
            headers: Record<string, string>;
            toProblem(): Record<string, unknown>;
          },
        ) => {
          assert.equal(error.status, 429);
          assert.equal(error.code, "budget_exceeded");
          assert.equal(error.toProblem()["used_tokens"], 60);
          assert.equal(error.toProblem()["requested_tokens"], 41);
          assert.equal(error.headers["retry-after"], "3600");
          return true;
        },
      );
      // the refused charge recorded nothing
      const [{ n }] =
        (await q`select count(*)::int as n from usage_records where org_id = ${o.id}`) as unknown as [
          { n: number },
        ];
      assert.equal(n, 1);
      // a usage row that cannot be inserted takes the charge back with it
      await assert.rejects(
        consumeTokens(sql, o.id, 1, {
          usage: {
            user_id: crypto.randomUUID(),
            model: "m",
            prompt_tokens: 1,
            completion_tokens: 0,
          },
        }),
        { code: "user_not_found" },
      );
      assert.equal((await getOrganization(sql, o.id)).tokens_used_current_month, 60);
      await assert.rejects(
        consumeTokens(sql, o.id, 2, {
          usage: { user_id: member.id, model: "m", prompt_tokens: 1, completion_tokens: 0 },
        }),
        RangeError,
      );
      assert.equal((await consumeTokens(sql, o.id, 40)).remaining, 0);
      assert.equal((await consumeTokens(sql, o.id, 0)).remaining, 0);
      await assert.rejects(consumeTokens(sql, crypto.randomUUID(), 1), {
        code: "organization_not_found",
      });
      await assert.rejects(consumeTokens(sql, o.id, -1), RangeError);
      await assert.rejects(consumeTokens(sql, o.id, 1.5), RangeError);
      await updateOrganizationStatus(sql, o.id, "suspended");
      await assert.rejects(consumeTokens(sql, o.id, 0), {
        code: "organization_inactive",
        status: 403,
      });
      const used = await recordUsage(sql, {
        org_id: o.id,
        user_id: member.id,
        model: "m2",
        prompt_tokens: 1,
        completion_tokens: 2,
      });
      assert.equal(used.total_tokens, 3);
      await assert.rejects(
        recordUsage(sql, {
          org_id: crypto.randomUUID(),
          user_id: member.id,
          model: "m",
          prompt_tokens: 1,
          completion_tokens: 1,
        }),
        { code: "organization_not_found" },
      );
    },
  },
  {
    // The Proof's races on whatever one pool allows (PGlite serves one connection, so there they
    // run one after another); concurrency_test.ts runs them on two pools of a real server.
    name:
      "the Proof's races on one pool: 20 charges for a budget of 15, two resets, two first uses",
    async run(sql) {
      const o = await org(sql, 15);
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => consumeTokens(sql, o.id, 1)),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 15);
      for (const r of results) {
        if (r.status === "rejected") assert.equal(r.reason.code, "budget_exceeded");
      }
      assert.equal((await getOrganization(sql, o.id)).tokens_used_current_month, 15);

      // Each organisation is reset by exactly one of two runs at once (the runs may share them).
      const q = sql as postgres.Sql;
      const [{ due }] = (await q`select count(*)::int as due from organizations
        where usage_period < '3000-01-01'`) as unknown as [{ due: number }];
      const far = () => Date.UTC(3000, 0, 1);
      const [x, y] = await Promise.all([
        resetMonthlyUsage(sql, { now: far }),
        resetMonthlyUsage(sql, { now: far }),
      ]);
      assert.equal(x.reset + y.reset, due);
      assert.ok(due >= 1);
      assert.equal((await getOrganization(sql, o.id)).tokens_used_current_month, 0);

      const store = createPostgresTokenStore(sql);
      const jti = crypto.randomUUID();
      const answers = await Promise.all([
        store.useRefreshToken(jti, Date.now() + 60_000, 1_000),
        store.useRefreshToken(jti, Date.now() + 60_000, 2_000),
      ]);
      assert.equal(answers.filter((a) => a === undefined).length, 1, String(answers));
    },
  },
  {
    name: "resetMonthlyUsage() starts a new month once and leaves the current month alone",
    async run(sql) {
      const o = await org(sql, 100);
      await consumeTokens(sql, o.id, 30);
      const thisMonth = await resetMonthlyUsage(sql);
      assert.equal(thisMonth.reset, 0);
      assert.equal((await getOrganization(sql, o.id)).tokens_used_current_month, 30);
      const far = () => Date.UTC(2999, 11, 15);
      const first = await resetMonthlyUsage(sql, { now: far });
      assert.equal(first.period, "2999-12");
      assert.ok(first.reset >= 1);
      const again = await resetMonthlyUsage(sql, { now: far });
      assert.equal(again.reset, 0);
      const after = await getOrganization(sql, o.id);
      assert.equal(after.tokens_used_current_month, 0);
      assert.equal(after.usage_period, "2999-12");
    },
  },
  {
    name:
      "API keys: the key once, only the hash stored, lookupApiKey() serves authenticate(), revoke",
    async run(sql) {
      const o = await org(sql);
      const creator = await createUser(sql, {
        org_id: o.id,
        email: `${slug("k")}@example.test`,
        name: "K",
        role: "org_admin",
      });
      const { key, api_key } = await createApiKey(sql, {
        org_id: o.id,
        name: "CI",
        role: "org_user",
        scopes: ["usage:read"],
        created_by: creator.id,
      });
      assert.ok(key.startsWith(`plk_${api_key.public_id}_`));
      assert.equal("key_hash" in api_key, false);
      const q = sql as postgres.Sql;
      const [stored] =
        await q`select id::text, public_id, prefix, org_id::text, name, key_hash, scopes,
        role, created_by::text, last_used_at, expires_at, revoked_at, created_at, updated_at
        from api_keys where id = ${api_key.id}`;
      assert.equal(ApiKeySchema.safeParse(stored).success, true);
      assert.ok(
        !JSON.stringify(stored).includes(key.split("_")[2] as string),
        "the secret is stored",
      );
      const record = await lookupApiKey(sql, api_key.public_id);
      assert.deepEqual(record, {
        hash: stored?.key_hash,
        orgId: o.id,
        role: "org_user",
        scopes: ["usage:read"],
        revokedAt: null,
        expiresAt: null,
      });
      assert.equal(await lookupApiKey(sql, "ZZZZZZZZZZZZ"), null);
      assert.equal((await listApiKeys(sql, o.id)).items.length, 1);
      assert.equal((await listApiKeys(sql, o.id)).next, null);

      const app = new Hono<{ Variables: AuthVariables }>();
      app.use(authenticate({ lookupApiKey: (id) => lookupApiKey(sql, id), logger: quiet }));
      app.get("/", (c) => c.json(c.var.auth));
      const ok = await app.request("/", { headers: { "x-api-key": key } });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), {
        kind: "api_key",
        keyId: api_key.public_id,
        orgId: o.id,
        role: "org_user",
        scopes: ["usage:read"],
      });
      await new Promise((r) => setTimeout(r, 5));
      const revoked = await revokeApiKey(sql, api_key.id);
      assert.ok(revoked.revoked_at instanceof Date);
      assert.ok(revoked.updated_at.getTime() > api_key.updated_at.getTime(), "updated_at moved");
      assert.deepEqual((await revokeApiKey(sql, api_key.id)).revoked_at, revoked.revoked_at);
      const refused = await app.request("/", { headers: { "x-api-key": key } });
      assert.equal(refused.status, 401);
      assert.equal((await refused.json()).code, "api_key_revoked");
      await assert.rejects(revokeApiKey(sql, crypto.randomUUID()), { code: "api_key_not_found" });

      // a suspended organisation's keys are not found
      const other = await createApiKey(sql, { org_id: o.id, name: "Other", role: "org_admin" });
      const third = await createApiKey(sql, { org_id: o.id, name: "Third", role: "org_user" });
      const firstPage = await listApiKeys(sql, o.id, { limit: 2 });
      const lastPage = await listApiKeys(sql, o.id, { limit: 2, after: firstPage.next });
      assert.equal(lastPage.next, null);
      const listed = [...firstPage.items, ...lastPage.items].map((k) => k.id);
      assert.deepEqual(listed, [api_key.id, other.api_key.id, third.api_key.id].sort());
      assert.ok([...firstPage.items, ...lastPage.items].every((k) => !("key_hash" in k)));
      assert.notEqual(await lookupApiKey(sql, other.api_key.public_id), null);
      await updateOrganizationStatus(sql, o.id, "suspended");
      assert.equal(await lookupApiKey(sql, other.api_key.public_id), null);
      await assert.rejects(
        createApiKey(sql, { org_id: crypto.randomUUID(), name: "X", role: "org_user" }),
        { code: "organization_not_found" },
      );
    },
  },
  {
    name:
      "createLastUsedTracker() writes last_used_at in one batch, only forward, without updated_at",
    async run(sql) {
      const o = await org(sql);
      const a = await createApiKey(sql, { org_id: o.id, name: "A", role: "org_user" });
      const b = await createApiKey(sql, { org_id: o.id, name: "B", role: "org_user" });
      let now = Date.UTC(2030, 0, 1);
      await using tracker = createLastUsedTracker(sql, { flushInterval: 0, now: () => now });
      for (let i = 0; i < 100; i++) tracker.touch(a.api_key.public_id);
      tracker.touch(b.api_key.public_id);
      assert.equal(tracker.pending, 2);
      assert.equal(await tracker.flush(), 2);
      assert.equal(tracker.pending, 0);
      assert.equal(await tracker.flush(), 0);
      const q = sql as postgres.Sql;
      const read = async (id: string) =>
        (await q`select last_used_at, updated_at from api_keys where id = ${id}`)[0] as {
          last_used_at: Date;
          updated_at: Date;
        };
      const ra = await read(a.api_key.id);
      assert.equal(ra.last_used_at.getTime(), now);
      assert.deepEqual(ra.updated_at, a.api_key.updated_at);
      now -= 60_000; // an older time (another replica's late flush) never moves it back
      tracker.touch(a.api_key.public_id);
      assert.equal(await tracker.flush(), 0);
      assert.equal((await read(a.api_key.id)).last_used_at.getTime(), now + 60_000);
    },
  },
  {
    name:
      "createPostgresTokenStore(): first use once, reuse answered with its time, revocations, clean-up",
    async run(sql) {
      let now = Date.now();
      const store = createPostgresTokenStore(sql, { now: () => now });
      const jti = crypto.randomUUID();
      const family = crypto.randomUUID();
      assert.equal(await store.useRefreshToken(jti, now + 10_000, now), undefined);
      assert.equal(await store.useRefreshToken(jti, now + 10_000, now + 5), now);
      assert.equal(await store.isRevoked(family), false);
      await store.revoke(family, now + 20_000);
      await store.revoke(family, now + 1_000); // never shortened
      assert.equal(await store.isRevoked(family), true);
      now += 15_000;
      assert.equal(await store.isRevoked(family), true);
      // the used entry expired: the contract lets the store forget it
      assert.equal(await store.useRefreshToken(jti, now + 10_000, now), undefined);
      now += 30_000;
      assert.equal(await store.isRevoked(family), false);
      assert.ok((await store.deleteExpired()) >= 2);
      await assert.rejects(store.useRefreshToken("", 1, 1), TypeError);
      await assert.rejects(store.revoke(family, Number.NaN), TypeError);
      assert.equal(await store.isRevoked(""), false);
    },
  },
  {
    name:
      "createCachedTokenStore() without LISTEN: loads, answers synchronously, holds its own revocations, reloads the others'",
    async run(sql) {
      let now = Date.now();
      const clock = () => now;
      const plain = createPostgresTokenStore(sql, { now: clock });
      const [before, mine, theirs] = [
        crypto.randomUUID(),
        crypto.randomUUID(),
        crypto.randomUUID(),
      ];
      await plain.revoke(before, now + 60_000);
      await using store = await createCachedTokenStore(sql, {
        listen: false,
        refreshInterval: 600_000,
        now: clock,
      });
      assert.equal(store.isRevoked(before), true);
      assert.equal(store.isRevoked(mine), false);
      await store.revoke(mine, now + 10_000);
      assert.equal(store.isRevoked(mine), true, "held at once");
      assert.equal(await plain.isRevoked(mine), true, "and written");
      await plain.revoke(theirs, now + 60_000);
      assert.equal(store.isRevoked(theirs), false, "not before a reload (no LISTEN)");
      assert.ok((await store.reload()) >= 3);
      assert.equal(store.isRevoked(theirs), true);
      now += 10_000;
      assert.equal(store.isRevoked(mine), false, "expired");
      assert.equal(store.isRevoked(theirs), true);
      const first = crypto.randomUUID();
      assert.equal(await store.useRefreshToken(first, now + 10_000, now), undefined);
      assert.equal(await store.useRefreshToken(first, now + 10_000, now + 5), now);
    },
  },
];
