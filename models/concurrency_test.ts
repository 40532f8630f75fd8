// Two pools on one PostgreSQL schema stand for two replicas of a service: the budget never
// overspends, a refresh token's first use is recorded once, and the monthly reset happens once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createTokenIssuer, type TokenStore } from "@plinth/auth";
import { databaseUrl, needServer } from "@plinth/testing";
import { slug } from "./_behaviour.ts";
import { quiet, testSchema } from "./_test_db.ts";
import {
  consumeTokens,
  createApiKey,
  createOrganization,
  createPostgresTokenStore,
  getOrganization,
  resetMonthlyUsage,
} from "./mod.ts";

const LONG = { timeout: 60_000 };

test(
  "consumeTokens(): 200 charges from two replicas over a budget for 150 → exactly 150",
  LONG,
  async (t) => {
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
    const schema = await testSchema("models_budget");
    try {
      const [a, b] = [await schema.pool(10), await schema.pool(10)];
      const org = await createOrganization(a.sql, {
        name: slug(),
        display_name: "Race",
        budget_tokens_monthly: 150,
      });
      const { api_key } = await createApiKey(a.sql, {
        org_id: org.id,
        name: "k",
        role: "org_user",
      });
      const results = await Promise.allSettled(
        Array.from(
          { length: 200 },
          (_, i) =>
            consumeTokens(i % 2 === 0 ? a.sql : b.sql, org.id, 1, {
              usage: {
                api_key_id: api_key.public_id,
                model: "m",
                prompt_tokens: 1,
                completion_tokens: 0,
                request_id: `r${i}`,
              },
            }),
        ),
      );
      const ok = results.filter((r) => r.status === "fulfilled");
      const refused = results.filter((r) => r.status === "rejected");
      assert.equal(ok.length, 150);
      assert.equal(refused.length, 50);
      for (const r of refused) {
        assert.equal((r as PromiseRejectedResult).reason.code, "budget_exceeded");
        assert.equal((r as PromiseRejectedResult).reason.status, 429);
      }
      // every `used` a success saw is distinct: each charge was applied to the previous one's result
      const seen = ok.map((r) => (r as PromiseFulfilledResult<{ used: number }>).value.used);
      assert.deepEqual(
        [...seen].sort((x, y) => x - y),
        Array.from({ length: 150 }, (_, i) => i + 1),
      );
      assert.equal((await getOrganization(b.sql, org.id)).tokens_used_current_month, 150);
      const [row] = await a.sql`select count(*)::int as n, sum(total_tokens)::int as total
      from usage_records where org_id = ${org.id}`;
      assert.deepEqual({ n: row?.n, total: row?.total }, { n: 150, total: 150 });
    } finally {
      await schema.drop();
    }
  },
);

test(
  "consumeTokens(): charges of mixed sizes from two replicas never pass the budget",
  LONG,
  async (t) => {
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
    const schema = await testSchema("models_budget_mixed");
    try {
      const [a, b] = [await schema.pool(10), await schema.pool(10)];
      const org = await createOrganization(a.sql, {
        name: slug(),
        display_name: "Mixed",
        budget_tokens_monthly: 1000,
      });
      const sizes = Array.from({ length: 120 }, (_, i) => 1 + ((i * 37) % 23));
      const results = await Promise.allSettled(
        sizes.map((n, i) => consumeTokens(i % 2 === 0 ? a.sql : b.sql, org.id, n)),
      );
      const charged = sizes.filter((_, i) => results[i]?.status === "fulfilled").reduce(
        (s, n) => s + n,
        0,
      );
      const used = (await getOrganization(a.sql, org.id)).tokens_used_current_month;
      assert.equal(used, charged);
      assert.ok(used <= 1000);
      assert.ok(sizes.reduce((s, n) => s + n, 0) > 1000, "the charges together exceed the budget");
      // whatever was refused did not fit at the moment it ran
      for (const [i, r] of results.entries()) {
        if (r.status === "rejected") {
          assert.equal(r.reason.code, "budget_exceeded");
          assert.ok((r.reason.toProblem().used_tokens as number) + (sizes[i] as number) > 1000);
        }
      }
    } finally {
      await schema.drop();
    }
  },
);

test(
  "resetMonthlyUsage(): run on two replicas at once, each organisation is reset once",
  LONG,
  async (t) => {
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
    const schema = await testSchema("models_reset");
    try {
      const [a, b] = [await schema.pool(4), await schema.pool(4)];
      const orgs = [];
      for (let i = 0; i < 20; i++) {
        const org = await createOrganization(a.sql, {
          name: slug(),
          display_name: "R",
          budget_tokens_monthly: 100,
        });
        await consumeTokens(a.sql, org.id, 10 + i);
        orgs.push(org);
      }
      const next = () => Date.UTC(new Date().getUTCFullYear() + 1, 0, 1, 0, 0, 5);
      const [x, y] = await Promise.all([
        resetMonthlyUsage(a.sql, { now: next }),
        resetMonthlyUsage(b.sql, { now: next }),
      ]);
      assert.equal(x.reset + y.reset, 20);
      assert.equal(x.period, y.period);
      for (const org of orgs) {
        const now = await getOrganization(b.sql, org.id);
        assert.equal(now.tokens_used_current_month, 0);
        assert.equal(now.usage_period, x.period);
      }
      // charges of the new month are kept by a late third run
      await consumeTokens(b.sql, orgs[0]!.id, 7);
      assert.equal((await resetMonthlyUsage(a.sql, { now: next })).reset, 0);
      assert.equal((await getOrganization(a.sql, orgs[0]!.id)).tokens_used_current_month, 7);
    } finally {
      await schema.drop();
    }
  },
);

test(
  "createPostgresTokenStore(): replicas racing on one refresh token see one first use",
  LONG,
  async (t) => {
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
    const schema = await testSchema("models_tokens");
    try {
      const [a, b] = [await schema.pool(10), await schema.pool(10)];
      const stores = [createPostgresTokenStore(a.sql), createPostgresTokenStore(b.sql)];
      for (let round = 0; round < 5; round++) {
        const jti = crypto.randomUUID();
        const expiresAt = Date.now() + 60_000;
        const answers = await Promise.all(
          Array.from(
            { length: 20 },
            (_, i) => stores[i % 2]!.useRefreshToken(jti, expiresAt, 1_000 + i),
          ),
        );
        const first = answers.findIndex((x) => x === undefined);
        assert.equal(
          answers.filter((x) => x === undefined).length,
          1,
          `round ${round}: ${answers}`,
        );
        // every other call reports the winner's time
        assert.deepEqual(
          answers.filter((x) => x !== undefined),
          Array(19).fill(1_000 + first),
        );
      }
    } finally {
      await schema.drop();
    }
  },
);

test(
  "rotateRefreshToken() on two replicas: one first use, reuse after the grace revokes the family everywhere",
  LONG,
  async (t) => {
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
    const schema = await testSchema("models_rotate");
    try {
      const [a, b] = [await schema.pool(4), await schema.pool(4)];
      let now = Date.now();
      const firstUses: string[] = [];
      // A spy on each replica's store: which replica recorded the first use.
      const spied = (store: TokenStore, name: string): TokenStore => ({
        async useRefreshToken(jti, expiresAt, at) {
          const result = await store.useRefreshToken(jti, expiresAt, at);
          if (result === undefined) firstUses.push(name);
          return result;
        },
        revoke: (id, expiresAt) => store.revoke(id, expiresAt),
        isRevoked: (id) => store.isRevoked(id),
      });
      const issuer = (store: TokenStore) =>
        createTokenIssuer({
          secret: "a-secret-of-at-least-thirty-two-bytes!!",
          kid: "k1",
          issuer: "https://auth.example.com",
          audience: "api",
          now: () => now,
          store,
          logger: quiet,
        });
      const replicaA = issuer(spied(createPostgresTokenStore(a.sql, { now: () => now }), "a"));
      const replicaB = issuer(spied(createPostgresTokenStore(b.sql, { now: () => now }), "b"));
      const pair = await replicaA.generateTokenPair({
        userId: "u1",
        orgId: "acme",
        role: "org_user",
      });

      const [fromA, fromB] = await Promise.all([
        replicaA.rotateRefreshToken(pair.refreshToken),
        replicaB.rotateRefreshToken(pair.refreshToken),
      ]);
      assert.equal(firstUses.length, 1, "exactly one replica recorded the first use");
      // The other one is a concurrent retry within reuseGrace (auth's rule): it gets a pair too.
      assert.notEqual(fromA.refreshToken, fromB.refreshToken);

      now += 11_000; // past the default 10 s grace: presenting the used token again is a replay
      const replay = firstUses[0] === "a" ? replicaB : replicaA;
      await assert.rejects(replay.rotateRefreshToken(pair.refreshToken), {
        code: "refresh_token_reused",
      });
      // the family is revoked for both replicas: neither new refresh token rotates any more
      await assert.rejects(replicaA.rotateRefreshToken(fromB.refreshToken), {
        code: "token_revoked",
      });
      await assert.rejects(replicaB.rotateRefreshToken(fromA.refreshToken), {
        code: "token_revoked",
      });
      assert.equal(firstUses.length, 1);
    } finally {
      await schema.drop();
    }
  },
);

test(
  "rotateRefreshToken() on two replicas at once with reuseGrace 0: one succeeds, the other is reuse, the family is revoked",
  LONG,
  async (t) => {
    if (!(await needServer(t, "PostgreSQL", databaseUrl, 5432))) return;
    const schema = await testSchema("models_rotate0");
    try {
      const [a, b] = [await schema.pool(4), await schema.pool(4)];
      const now = Date.now();
      const issuer = (sql: typeof a.sql) =>
        createTokenIssuer({
          secret: "a-secret-of-at-least-thirty-two-bytes!!",
          kid: "k1",
          issuer: "https://auth.example.com",
          audience: "api",
          now: () => now,
          reuseGrace: 0,
          store: createPostgresTokenStore(sql, { now: () => now }),
          logger: quiet,
        });
      const [replicaA, replicaB] = [issuer(a.sql), issuer(b.sql)];
      const pair = await replicaA.generateTokenPair({
        userId: "u1",
        orgId: "acme",
        role: "org_user",
      });
      const results = await Promise.allSettled([
        replicaA.rotateRefreshToken(pair.refreshToken),
        replicaB.rotateRefreshToken(pair.refreshToken),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      assert.equal(won.length, 1, "exactly one replica rotates");
      assert.equal(lost.length, 1);
      assert.equal((lost[0]!.reason as { code?: string }).code, "refresh_token_reused");
      // The winner's new refresh token belongs to the revoked family: refused on both replicas.
      const fresh = (won[0] as PromiseFulfilledResult<{ refreshToken: string }>).value;
      for (const replica of [replicaA, replicaB]) {
        await assert.rejects(replica.rotateRefreshToken(fresh.refreshToken), {
          code: "token_revoked",
        });
      }
    } finally {
      await schema.drop();
    }
  },
);
