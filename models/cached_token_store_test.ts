// createCachedTokenStore() on the real PostgreSQL: each test has a throwaway schema, and a second
// pool on it stands for another replica writing through the plain PostgreSQL token store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createTokenIssuer, createTokenVerifier } from "@plinth/auth";
import { connectDatabase, type Database } from "@plinth/database";
import { captureLogger, childCommand, databaseUrl, uniqueName, waitFor } from "@plinth/testing";
import { needPostgres } from "@plinth/testing/postgres";
import { quiet, type TestSchema, testSchema } from "./_test_db.ts";
import { type CachedTokenStore, createCachedTokenStore, createPostgresTokenStore } from "./mod.ts";

const LONG = { timeout: 60_000 };
/** Far above every wait of these tests: only a notification (or a reload they trigger) can bring a revocation in time. */
const NEVER = 600_000;
const never = (() => {
  throw new Error("no query may run");
}) as never;

/** A pool on `schema` whose connections carry `application_name`, to find them in pg_stat_activity. */
function namedPool(schema: TestSchema, name: string): Promise<Database> {
  return connectDatabase(databaseUrl, {
    max: 2,
    prewarm: false,
    logger: quiet,
    connectTimeout: 1_000, // how long a replaced driver instance may take to end
    connection: { search_path: schema.name, application_name: name },
  });
}

/** Backends of `name` whose last statement was a LISTEN. */
async function listeners(admin: Database, name: string): Promise<number> {
  const [row] = await admin.sql`select count(*)::int as n from pg_stat_activity
    where application_name = ${name} and query ilike 'listen %'`;
  return row?.n as number;
}

test("createCachedTokenStore() checks its arguments before any query", async () => {
  const fake = Object.assign(() => {
    throw new Error("no query may run");
  }, { listen: never }) as never;
  await assert.rejects(createCachedTokenStore({} as never), { name: "TypeError", message: /sql/ });
  await assert.rejects(createCachedTokenStore(never), {
    name: "TypeError",
    message: /listen needs a pool's sql/,
  });
  await assert.rejects(createCachedTokenStore(fake, { listen: "yes" as never }), {
    name: "TypeError",
    message: /listen must be a boolean/,
  });
  for (const refreshInterval of [0, -1, Number.NaN, Infinity, 2 ** 31, "1000" as never]) {
    await assert.rejects(createCachedTokenStore(fake, { refreshInterval }), {
      name: "RangeError",
      message: /refreshInterval/,
    });
  }
  await assert.rejects(createCachedTokenStore(fake, { now: 5 as never }), {
    name: "TypeError",
    message: /now must be a function/,
  });
  await assert.rejects(createCachedTokenStore(fake, { logger: {} as never }), {
    name: "TypeError",
    message: /logger must have a warn method/,
  });
});

test(
  "createCachedTokenStore(): another replica's revocation arrives by NOTIFY within 2 s; isRevoked() is a boolean",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_notify");
    try {
      const [mine, other] = [await schema.pool(2), await schema.pool(2)];
      let later = 0;
      await using store = await createCachedTokenStore(mine.sql, {
        refreshInterval: NEVER,
        now: () => Date.now() + later,
      });
      const loadedAt = store.loadedAt;
      const family = crypto.randomUUID();
      const answer: unknown = store.isRevoked(family);
      assert.ok(!(answer instanceof Promise), "answered synchronously");
      assert.equal(answer, false);

      const plain = createPostgresTokenStore(other.sql);
      const started = performance.now();
      await plain.revoke(family, Date.now() + 60_000);
      const committed = performance.now();
      // Polled every millisecond (waitFor's 20 ms would hide the latency).
      while (!store.isRevoked(family) && performance.now() - started < 2_000) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const elapsed = performance.now() - started;
      assert.equal(store.isRevoked(family), true, `not notified within ${elapsed} ms`);
      assert.equal(typeof store.isRevoked(family), "boolean");
      assert.equal(store.loadedAt, loadedAt, "no reload brought it");
      assert.equal(store.size, 1);
      console.log(
        `revocation seen by the other replica ${elapsed.toFixed(1)} ms after revoke() began, ` +
          `${(performance.now() - committed).toFixed(1)} ms at most after it resolved`,
      );

      // The notification carries the expiry kept (the later): an earlier one never shortens it.
      await plain.revoke(family, Date.now() + 3_600_000);
      await plain.revoke(family, Date.now() + 1_000);
      const marker = crypto.randomUUID();
      await plain.revoke(marker, Date.now() + 60_000); // sent after both: once it is here, they are too
      await waitFor(() => store.isRevoked(marker), 2_000, "the marker");
      later = 120_000; // past the marker's expiry and the shorter one, before the longer one
      assert.equal(store.isRevoked(marker), false);
      assert.equal(store.isRevoked(family), true);
      assert.equal(await store.reload(), 1);
      assert.equal(store.isRevoked(family), true);
    } finally {
      await schema.drop();
    }
  },
);

test(
  "createPostgresTokenStore(): revoke() in a transaction notifies on commit, never on rollback",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_tx");
    try {
      const [mine, other] = [await schema.pool(2), await schema.pool(2)];
      await using store = await createCachedTokenStore(mine.sql, { refreshInterval: NEVER });
      await assert.rejects(
        other.sql.begin(async (tx) => {
          await createPostgresTokenStore(tx).revoke("rolled-back", Date.now() + 60_000);
          throw new Error("roll back");
        }),
        /roll back/,
      );
      await other.sql.begin(async (tx) => {
        await createPostgresTokenStore(tx).revoke("committed", Date.now() + 60_000);
      });
      await waitFor(() => store.isRevoked("committed"), 2_000, "the committed revocation");
      assert.equal(store.isRevoked("rolled-back"), false);
      assert.equal(store.size, 1);
    } finally {
      await schema.drop();
    }
  },
);

test(
  "createCachedTokenStore(): revocations made before it are loaded, expired ones answer false and are dropped",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_load");
    try {
      const db = await schema.pool(2);
      let now = Date.now();
      const clock = () => now;
      const plain = createPostgresTokenStore(db.sql, { now: clock });
      await plain.revoke("live", now + 10_000);
      await plain.revoke("later", now + 60_000);
      await plain.revoke("gone", now - 1);
      await using store = await createCachedTokenStore(db.sql, {
        refreshInterval: NEVER,
        now: clock,
      });
      assert.equal(store.size, 2, "the expired one is not loaded");
      assert.equal(store.loadedAt, now);
      assert.equal(store.isRevoked("live"), true);
      assert.equal(store.isRevoked("later"), true);
      assert.equal(store.isRevoked("gone"), false);
      assert.equal(store.isRevoked("never-revoked"), false);

      now += 10_000; // "live" expires exactly now
      assert.equal(store.isRevoked("live"), false);
      assert.equal(store.size, 1, "dropped when asked for");
      assert.equal(store.isRevoked("later"), true);

      // Its own revocations are held at once, and an expiry already passed is not held at all.
      await store.revoke("mine", now + 5_000);
      assert.equal(store.isRevoked("mine"), true);
      await store.revoke("stale", now - 5_000);
      assert.equal(store.isRevoked("stale"), false);
      await assert.rejects(store.revoke("", now + 5_000), TypeError);

      now += 60_000;
      assert.equal(store.size, 2, "not swept until asked for");
      assert.equal(await store.deleteExpired(), 5, "every row has expired by now");
      assert.equal(store.size, 0);
      assert.equal(await store.reload(), 0);
    } finally {
      await schema.drop();
    }
  },
);

test(
  "createCachedTokenStore() with listen: false: the reload interval picks another replica's revocation up, and a row deleted by hand goes",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_poll");
    try {
      const [mine, other] = [await schema.pool(2), await schema.pool(2)];
      await using store = await createCachedTokenStore(mine.sql, {
        listen: false,
        refreshInterval: 50,
      });
      const first = store.loadedAt;
      const family = crypto.randomUUID();
      await createPostgresTokenStore(other.sql).revoke(family, Date.now() + 60_000);
      await waitFor(() => store.isRevoked(family), 2_000, "a reload to bring the revocation");
      assert.ok(store.loadedAt > first, "a reload brought it");

      await other.sql`delete from token_revocations where id = ${family}`;
      await waitFor(() => !store.isRevoked(family), 2_000, "a reload to forget the deleted row");
    } finally {
      await schema.drop();
    }
  },
);

test(
  "createCachedTokenStore(): a failed reload is logged, isRevoked() keeps answering, the next reload recovers",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_fail");
    try {
      const [mine, admin] = [await schema.pool(2), await schema.pool(1)];
      const logger = captureLogger();
      await using store = await createCachedTokenStore(mine.sql, {
        listen: false,
        refreshInterval: 30,
        logger,
      });
      await store.revoke("before", Date.now() + 60_000);

      await admin.sql`alter table token_revocations rename to token_revocations_away`;
      try {
        await waitFor(() => logger.lines.length >= 2, 5_000, "two failed reloads to be logged");
        assert.equal(store.isRevoked("before"), true, "the last snapshot answers");
        assert.equal(store.isRevoked("other"), false);
        await assert.rejects(store.reload(), /token_revocations/);
        const line = logger.lines[0]!;
        assert.equal(line.level, "warn");
        assert.match(line.message, /^Cannot reload token revocations; .* retrying in 30 ms$/);
        assert.match(String(line.fields.error), /token_revocations/);
        assert.equal(line.fields.revocations, 1);
        assert.equal(typeof line.fields.loaded_at, "string");
        // Written meanwhile, with no notification: only a reload can bring it.
        await admin.sql`insert into token_revocations_away (id, expires_at)
          values ('during', now() + interval '1 minute')`;
      } finally {
        await admin.sql`alter table token_revocations_away rename to token_revocations`;
      }
      await waitFor(() => store.isRevoked("during"), 5_000, "a reload to succeed again");
      assert.equal(store.isRevoked("before"), true);
    } finally {
      await schema.drop();
    }
  },
);

test(
  "createCachedTokenStore(): a notification that arrives while a reload runs is kept",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_race");
    try {
      const [mine, locker, other] = [
        await schema.pool(2),
        await schema.pool(1),
        await schema.pool(1),
      ];
      await using store = await createCachedTokenStore(mine.sql, { refreshInterval: NEVER });
      const [row] = await other.sql`select 'token_revocations'::regclass::oid::int8 as oid`;
      const oid = Number(row?.oid);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holding = locker.sql.begin(async (tx) => {
        await tx`lock table token_revocations in access exclusive mode`;
        locked();
        await held;
      });
      await isLocked;
      const reloading = store.reload(); // blocks on the lock: its snapshot will not have "racer"
      await waitFor(
        async () => {
          const [row] = await other.sql`select count(*)::int as n from pg_locks
          where relation = ${oid}::oid and not granted`;
          return (row?.n as number) > 0;
        },
        5_000,
        "the reload to wait for the lock",
      );
      const payload = JSON.stringify({ table: oid, id: "racer", expires_at: Date.now() + 60_000 });
      await other.sql`select pg_notify('plinth_token_revocations', ${payload})`;
      await waitFor(() => store.isRevoked("racer"), 2_000, "the notification");
      release();
      await holding;
      assert.equal(await reloading, 1, "the reload kept what arrived meanwhile");
      assert.equal(store.isRevoked("racer"), true);
    } finally {
      await schema.drop();
    }
  },
);

test(
  "createCachedTokenStore(): revocations of a token_revocations table on another schema are ignored",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const [a, b] = [await testSchema("models_cache_a"), await testSchema("models_cache_b")];
    try {
      const [mine, sameSchema, otherSchema] = [await a.pool(2), await a.pool(1), await b.pool(1)];
      await using store = await createCachedTokenStore(mine.sql, { refreshInterval: NEVER });
      await createPostgresTokenStore(otherSchema.sql).revoke("elsewhere", Date.now() + 60_000);
      // Committed after it, delivered after it on the same listening connection.
      await createPostgresTokenStore(sameSchema.sql).revoke("here", Date.now() + 60_000);
      await waitFor(() => store.isRevoked("here"), 2_000, "the revocation on this schema");
      assert.equal(store.isRevoked("elsewhere"), false);
      assert.equal(store.size, 1);
    } finally {
      await a.drop();
      await b.drop();
    }
  },
);

test(
  "createCachedTokenStore(): when its LISTEN connection drops, postgres.js listens again and the store reloads",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_relisten");
    const name = uniqueName("cache_relisten");
    const mine = await namedPool(schema, name);
    try {
      const [admin, other] = [await schema.pool(1), await schema.pool(1)];
      await using store = await createCachedTokenStore(mine.sql, { refreshInterval: NEVER });
      assert.equal(await listeners(admin, name), 1);
      const loadedAt = store.loadedAt;
      await admin.sql`select pg_terminate_backend(pid) from pg_stat_activity
        where application_name = ${name} and query ilike 'listen %'`;
      // Possibly before the LISTEN is back: then only the reload that follows it brings this.
      await createPostgresTokenStore(other.sql).revoke("gap", Date.now() + 60_000);
      await waitFor(() => store.isRevoked("gap"), 5_000, "the revocation made in the gap");
      await waitFor(() => store.loadedAt > loadedAt, 5_000, "the reload after listening again");
      await createPostgresTokenStore(other.sql).revoke("after", Date.now() + 60_000);
      await waitFor(() => store.isRevoked("after"), 2_000, "a notification after the reconnect");
    } finally {
      await mine.close();
      await schema.drop();
    }
  },
);

test(
  "createCachedTokenStore(): when the pool replaces its connections, the LISTEN moves with them and the store reloads",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_replaced");
    const name = uniqueName("cache_replaced");
    const mine = await namedPool(schema, name);
    try {
      const [admin, other] = [await schema.pool(1), await schema.pool(1)];
      const logger = captureLogger();
      // No periodic reload: only the LISTEN (and the reload after it listens again) brings news.
      await using store = await createCachedTokenStore(mine.sql, {
        refreshInterval: NEVER,
        logger,
      });
      assert.equal(await listeners(admin, name), 1);
      const loadedAt = store.loadedAt;
      // A connection lost under a running query: @plinth/database replaces the driver instance;
      // the old instance's listening connection ends with it, and the pool listens again.
      const sleeping = mine.sql`select pg_sleep(30)`.catch(() => {});
      await waitFor(
        async () => {
          const [row] = await admin.sql`select count(*)::int as n from pg_stat_activity
          where application_name = ${name} and query ilike '%pg_sleep%'`;
          return (row?.n as number) > 0;
        },
        5_000,
        "the sleeping query",
      );
      await admin.sql`select pg_terminate_backend(pid) from pg_stat_activity
        where application_name = ${name} and query ilike '%pg_sleep%'`;
      await sleeping;
      await waitFor(() => store.loadedAt > loadedAt, 5_000, "the reload after listening again");
      await waitFor(async () => (await listeners(admin, name)) === 1, 5_000, "one LISTEN");
      await createPostgresTokenStore(other.sql).revoke("after", Date.now() + 60_000);
      await waitFor(() => store.isRevoked("after"), 2_000, "a notification after the replacement");
      assert.ok(!logger.lines.some((l) => l.message.startsWith("Lost LISTEN")));
    } finally {
      await mine.close();
      await schema.drop();
    }
  },
);

test(
  "createCachedTokenStore(): a LISTEN that stops delivering is noticed by the heartbeat, which listens again",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_heartbeat");
    const name = uniqueName("cache_heartbeat");
    const mine = await namedPool(schema, name);
    try {
      const [other] = [await schema.pool(1)];
      const logger = captureLogger();
      // Each listen() of the store through a switch the test can turn off: a LISTEN that is set
      // up but delivers nothing, the failure no reconnect reports.
      const subscriptions: { dead: boolean }[] = [];
      const sql = new Proxy(mine.sql, {
        get(target, key, receiver) {
          if (key !== "listen") return Reflect.get(target, key, receiver);
          return (channel: string, onnotify: (payload: string) => void, onlisten?: () => void) => {
            const subscription = { dead: false };
            subscriptions.push(subscription);
            return target.listen(channel, (payload) => {
              if (!subscription.dead) onnotify(payload);
            }, onlisten);
          };
        },
      });
      await using store = await createCachedTokenStore(sql, { refreshInterval: 200, logger });
      assert.equal(subscriptions.length, 1);
      subscriptions[0]!.dead = true;
      await waitFor(
        () => logger.lines.some((l) => l.message.startsWith("Lost LISTEN")),
        5_000,
        "the heartbeat to notice the lost LISTEN",
      );
      await waitFor(() => subscriptions.length === 2, 5_000, "a LISTEN again");
      await createPostgresTokenStore(other.sql).revoke("after", Date.now() + 60_000);
      await waitFor(() => store.isRevoked("after"), 2_000, "the revocation after the recovery");
    } finally {
      await mine.close();
      await schema.drop();
    }
  },
);

test(
  "createCachedTokenStore(): close() unlistens and stops the timer; isRevoked() answers from the last snapshot",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_close");
    const name = uniqueName("cache_close");
    const mine = await namedPool(schema, name);
    try {
      const [admin, other] = [await schema.pool(1), await schema.pool(1)];
      const closing: CachedTokenStore = await createCachedTokenStore(mine.sql, {
        refreshInterval: 20,
      });
      // A second store on the same pool shares the listening connection: once it has a later
      // notification, the first would have had the earlier one.
      await using witness = await createCachedTokenStore(mine.sql, { refreshInterval: NEVER });
      const plain = createPostgresTokenStore(other.sql);
      await plain.revoke("before-close", Date.now() + 60_000);
      await waitFor(() => closing.isRevoked("before-close"), 2_000, "the first revocation");

      await closing.close();
      await closing.close(); // twice is fine
      const loadedAt = closing.loadedAt;
      await plain.revoke("after-close", Date.now() + 60_000);
      await plain.revoke("marker", Date.now() + 60_000);
      await waitFor(() => witness.isRevoked("marker"), 2_000, "the marker at the witness");
      assert.equal(closing.isRevoked("after-close"), false, "nothing arrives after close()");
      assert.equal(closing.isRevoked("before-close"), true, "the snapshot still answers");
      assert.equal(closing.loadedAt, loadedAt, "no reload after close()");
      await assert.rejects(closing.reload(), { message: /the store is closed/ });
      assert.equal(await listeners(admin, name), 1, "the witness still listens");
      await witness.close();
      await waitFor(async () => (await listeners(admin, name)) === 0, 2_000, "UNLISTEN");
    } finally {
      await mine.close();
      await schema.drop();
    }
  },
);

/** Runs `_cached_store_child.ts`; rejects when it has not exited on its own within 20 s. */
function runChild(schema: string, mode: "store" | "pool"): Promise<{ code: number; out: string }> {
  const script = fileURLToPath(new URL("./_cached_store_child.ts", import.meta.url));
  const [command, argv] = childCommand(script);
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...argv, databaseUrl, schema, mode], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (out += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the ${mode} child did not exit within 20 s: ${out}`));
    }, 20_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

test(
  "createCachedTokenStore(): a process exits on its own after close(), and when only the pool is closed",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_exit");
    try {
      for (const mode of ["store", "pool"] as const) {
        const { code, out } = await runChild(schema.name, mode);
        assert.equal(code, 0, out);
        assert.deepEqual(JSON.parse(out.trim().split("\n").pop()!), { revoked: true, size: 1 });
      }
    } finally {
      await schema.drop();
    }
  },
);

test(
  "createCachedTokenStore() with createTokenVerifier(): a family revoked here or on another replica is refused on the next verify",
  LONG,
  async (t) => {
    if (!(await needPostgres(t))) return;
    const schema = await testSchema("models_cache_auth");
    try {
      const [mine, other] = [await schema.pool(2), await schema.pool(2)];
      await using store = await createCachedTokenStore(mine.sql, { refreshInterval: NEVER });
      const settings = {
        secret: "a-secret-of-at-least-thirty-two-bytes!!",
        issuer: "https://auth.example.com",
        audience: "api",
        kid: "hs-test",
      };
      const issuerHere = createTokenIssuer({ ...settings, store });
      const issuerThere = createTokenIssuer({
        ...settings,
        store: createPostgresTokenStore(other.sql),
      });
      const verifier = createTokenVerifier({ ...settings, store });
      const subject = { userId: "u1", orgId: "o1", role: "org_user" };

      // Revoked on this replica: refused on the very next verify (cached claims included).
      const here = await issuerHere.generateTokenPair(subject);
      assert.equal((await verifier.verifyAccessToken(here.accessToken)).sub, "u1");
      await issuerHere.revokeRefreshToken(here.refreshToken);
      await assert.rejects(verifier.verifyAccessToken(here.accessToken), { code: "token_revoked" });

      // Signed out on another replica: refused as soon as the notification is in.
      const there = await issuerThere.generateTokenPair(subject);
      const claims = await verifier.verifyAccessToken(there.accessToken);
      assert.equal(verifier.cached >= 1, true, "the claims are cached");
      await issuerThere.revokeRefreshToken(there.refreshToken);
      await waitFor(() => store.isRevoked(claims.fam!), 2_000, "the family's revocation");
      await assert.rejects(verifier.verifyAccessToken(there.accessToken), {
        code: "token_revoked",
      });
    } finally {
      await schema.drop();
    }
  },
);
