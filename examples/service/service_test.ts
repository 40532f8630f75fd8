// The reference service end to end, in-process, over a real port, against the real PostgreSQL
// and NATS JetStream (each test its own schema and stream): the scripted tour, tenant isolation
// on every route, the budget under 50 concurrent requests, and a streamed completion cancelled
// by the client. Runs on Deno, Node 24, Node 20 and Bun.
import { test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { createLogger } from "@plinth/logging";
import { databaseUrl, freePort, natsUrl, uniqueName, waitFor } from "@plinth/testing";
import { needNats, needNatsServer, TestNatsServer } from "@plinth/testing/nats";
import { needPostgres } from "@plinth/testing/postgres";
import { loadSettings } from "./settings.ts";
import { type Service, startService } from "./service.ts";
import { runTour } from "./tour.ts";

interface Started {
  service: Service;
  lines: Record<string, unknown>[];
  sql: postgres.Sql;
  schema: string;
  stream: string;
}

async function start(env: Record<string, string> = {}): Promise<Started> {
  const schema = uniqueName("svc").toLowerCase().replaceAll(/[^a-z0-9_]/g, "_");
  const suffix = schema.slice(-10);
  const stream = `SVC_${suffix.toUpperCase()}`;
  const config = await loadSettings({
    env: {
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: schema,
      DATABASE_POOL_MAX: "12",
      NATS_URL: natsUrl,
      EVENTS_STREAM: stream,
      EVENTS_SUBJECT_PREFIX: `svc_${suffix}`,
      JWT_SECRET: "a-test-secret-of-at-least-thirty-two-bytes",
      PORT: "0",
      FAKE_UPSTREAM_DELAY_MS: "1",
      ...env,
    },
  });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "svc-test",
    level: "info",
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  const service = await startService(config.values, { logger });
  const sql = postgres(databaseUrl, {
    max: 1,
    onnotice: () => {},
    connection: { search_path: schema },
  });
  return { service, lines, sql, schema, stream };
}

async function stop(s: Started, servers = natsUrl): Promise<void> {
  await s.service.close(5000);
  await s.sql.unsafe(`drop schema if exists ${s.schema} cascade`).catch(() => {});
  await s.sql.end();
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(s.stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

async function json(
  base: string,
  method: string,
  path: string,
  init: { token?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<{ status: number; body: Record<string, unknown>; type: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  });
  const text = await res.text();
  const sse = res.headers.get("content-type")?.includes("event-stream") === true;
  return {
    status: res.status,
    body: text === "" ? {} : sse ? { sse: text } : JSON.parse(text),
    type: res.headers.get("content-type") ?? "",
  };
}

/** An organisation with an admin (token) and a user API key. */
async function tenant(base: string, adminToken: string, name: string, budget: number) {
  const org = await json(base, "POST", "/v1/organizations", {
    token: adminToken,
    body: { name, display_name: name, budget_tokens_monthly: budget },
  });
  assert.equal(org.status, 201, JSON.stringify(org.body));
  const orgId = org.body.id as string;
  const email = `${name}-admin@example.com`;
  const user = await json(base, "POST", `/v1/organizations/${orgId}/users`, {
    token: adminToken,
    body: { email, name: "Admin", role: "org_admin" },
  });
  assert.equal(user.status, 201);
  const signIn = await json(base, "POST", "/auth/sign-in", { body: { email } });
  const token = signIn.body.access_token as string;
  const key = await json(base, "POST", `/v1/organizations/${orgId}/api-keys`, {
    token,
    body: { name: "k", role: "org_user" },
  });
  assert.equal(key.status, 201);
  return {
    orgId,
    userId: user.body.id as string,
    token,
    key: key.body.key as string,
    keyId: (key.body.api_key as { id: string }).id,
  };
}

async function signInAdmin(base: string): Promise<string> {
  const admin = await json(base, "POST", "/auth/sign-in", {
    body: { email: "admin@plinth.local" },
  });
  assert.equal(admin.status, 200);
  return admin.body.access_token as string;
}

async function servers(t: { skip(message?: string): void }): Promise<boolean> {
  return (await needPostgres(t)) && (await needNats(t));
}

test("the tour runs green against PostgreSQL and NATS, with one trace end to end", {
  timeout: 60_000,
}, async (t) => {
  if (!(await servers(t))) return;
  const s = await start();
  try {
    assert.equal(s.service.embedded.database, false);
    assert.equal(s.service.embedded.bus, false);
    const tour = await runTour(s.service.url, { budget: 500 });
    assert.ok(tour.charged.length >= 5, `several completions (${tour.charged.length})`);
    assert.equal(tour.refused.status, 429);
    assert.equal(tour.refused.code, "budget_exceeded");
    assert.ok(Number(tour.refused.retryAfter) > 0);
    assert.ok(tour.used <= tour.budget, `used ${tour.used} ≤ budget ${tour.budget}`);
    const charged = tour.charged.reduce((a, b) => a + b, 0);
    assert.equal(tour.used, charged, "the counter holds exactly the real usage");
    assert.deepEqual(tour.analytics, { requests: tour.charged.length, total_tokens: charged });
    for (const status of tour.crossOrg) assert.ok(status === 403 || status === 404, `${status}`);
    assert.deepEqual(tour.replay, { status: 401, code: "refresh_token_reused" });
    assert.equal(tour.problemType, "application/problem+json");

    // One trace: the access line, the upstream call (the fake upstream continued the trace it
    // was sent) and the analytics handler of the event the outbox relayed.
    await waitFor(
      () => s.lines.some((l) => l.trace_id === tour.traceId && l.message === "usage counted"),
      10_000,
      "the analytics line of the traced request",
    );
    const traced = s.lines.filter((l) => l.trace_id === tour.traceId);
    const messages = new Set(traced.map((l) => l.message));
    assert.ok(messages.has("Request completed"), "access line");
    assert.ok(messages.has("fake upstream: chat completion"), "upstream line");
    assert.ok(messages.has("usage counted"), "analytics line");
    assert.equal(new Set(traced.map((l) => l.span_id)).size, traced.length, "a span each");
    // The upstream received a W3C traceparent with every call.
    assert.match(
      s.service.fakeUpstream?.lastTraceparent ?? "",
      /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/,
    );

    // Probes and metrics.
    const ready = await json(s.service.url, "GET", "/readyz");
    assert.equal(ready.status, 200);
    assert.equal((ready.body.checks as Record<string, { ok: boolean }>).events?.ok, true);
    const page = await (await fetch(`${s.service.url}/metrics`)).text();
    assert.match(page, /tokens_charged_total\{model="fake-small",service="plinth-service"\} \d+/);
    assert.match(page, /http_requests_total\{[^}]*route="\/v1\/chat\/completions"/);
    assert.match(page, /db_query_duration_seconds_count\{/);
  } finally {
    await stop(s);
  }
});

test("tenant isolation: every cross-organisation request is refused and changes nothing", {
  timeout: 60_000,
}, async (t) => {
  if (!(await servers(t))) return;
  const s = await start();
  try {
    const base = s.service.url;
    const admin = await signInAdmin(base);
    const a = await tenant(base, admin, "iso-a", 1000);
    const b = await tenant(base, admin, "iso-b", 1000);
    const requests: [string, string, unknown?][] = [
      ["GET", `/v1/organizations/${b.orgId}`],
      ["GET", `/v1/organizations/${b.orgId}/users`],
      ["POST", `/v1/organizations/${b.orgId}/users`, {
        email: "intruder@example.com",
        name: "I",
        role: "org_admin",
      }],
      ["GET", `/v1/users/${b.userId}`],
      ["GET", `/v1/organizations/${b.orgId}/api-keys`],
      ["POST", `/v1/organizations/${b.orgId}/api-keys`, { name: "stolen" }],
      ["DELETE", `/v1/api-keys/${b.keyId}`],
      ["GET", `/v1/organizations/${b.orgId}/usage`],
      ["GET", "/v1/organizations"],
      ["POST", "/v1/organizations", { name: "iso-c", display_name: "C" }],
    ];
    for (const credential of [a.token, a.key]) {
      for (const [method, path, body] of requests) {
        const res = await json(base, method, path, { token: credential, body });
        assert.ok(
          res.status === 403 || res.status === 404,
          `${method} ${path} as ${credential === a.key ? "API key" : "admin"}: ${res.status}`,
        );
        assert.equal(res.type, "application/problem+json");
      }
    }
    // Nothing changed in B: its key still works, no user was added.
    const users = await json(base, "GET", `/v1/organizations/${b.orgId}/users`, { token: b.token });
    assert.equal((users.body.items as unknown[]).length, 1);
    const chat = await json(base, "POST", "/v1/chat/completions", {
      token: b.key,
      body: { model: "fake-small", messages: [{ role: "user", content: "hi" }], max_tokens: 5 },
    });
    assert.equal(chat.status, 200);
    // And A reaches its own organisation.
    assert.equal(
      (await json(base, "GET", `/v1/organizations/${a.orgId}`, { token: a.key })).status,
      200,
    );
    // A's admin revokes A's key: listed as revoked, refused from then on.
    const keys = await json(base, "GET", `/v1/organizations/${a.orgId}/api-keys`, {
      token: a.token,
    });
    const listed = keys.body.items as Record<string, unknown>[];
    assert.equal(listed.length, 1);
    assert.equal("key_hash" in listed[0]!, false, "the hash is never served");
    const revoked = await json(base, "DELETE", `/v1/api-keys/${a.keyId}`, { token: a.token });
    assert.equal(revoked.status, 200);
    assert.notEqual(revoked.body.revoked_at, null);
    const refused = await json(base, "GET", `/v1/organizations/${a.orgId}`, { token: a.key });
    assert.equal(refused.status, 401);
    // Without credentials: 401 with a challenge.
    const anonymous = await fetch(`${base}/v1/organizations/${a.orgId}`);
    assert.equal(anonymous.status, 401);
    assert.ok(anonymous.headers.get("www-authenticate")?.startsWith("Bearer"));
    await anonymous.body?.cancel();
  } finally {
    await stop(s);
  }
});

test("50 concurrent completions never overspend the budget", { timeout: 60_000 }, async (t) => {
  if (!(await servers(t))) return;
  const s = await start({ FAKE_UPSTREAM_DELAY_MS: "2" });
  try {
    const base = s.service.url;
    const admin = await signInAdmin(base);
    const budget = 1200;
    const org = await tenant(base, admin, "budget", budget);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        json(base, "POST", "/v1/chat/completions", {
          token: org.key,
          body: {
            model: "fake-small",
            messages: [{ role: "user", content: `request ${i}` }],
            max_tokens: 30,
            stream: i % 2 === 0,
            stream_options: { include_usage: true },
          },
        })),
    );
    const answered = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    assert.equal(
      answered.length + refused.length,
      50,
      JSON.stringify(results.map((r) => r.status)),
    );
    for (const r of refused) assert.equal(r.body.code, "budget_exceeded");
    // Count from the database: what was charged and recorded.
    await waitFor(
      async () => {
        const [row] = await s
          .sql`select count(*)::int as n from plinth_outbox where published_at is null`;
        return row?.n === 0;
      },
      10_000,
      "outbox drained",
    );
    const [org$] = await s
      .sql`select tokens_used_current_month::int as used, budget_tokens_monthly::int as budget
      from organizations where id = ${org.orgId}`;
    const [usage] = await s
      .sql`select count(*)::int as n, coalesce(sum(total_tokens), 0)::int as total
      from usage_records where org_id = ${org.orgId}`;
    assert.ok(org$!.used <= budget, `used ${org$!.used} ≤ ${budget}`);
    assert.equal(org$!.used, usage!.total, "every charged token has its usage row");
    assert.equal(usage!.n, answered.length, "one usage row per answer");
    assert.ok(
      answered.length >= 10 && refused.length > 0,
      `${answered.length} answered, ${refused.length} refused`,
    );
  } finally {
    await stop(s);
  }
});

test("a streamed completion cancelled by the client stops the upstream and charges what was used", {
  timeout: 60_000,
}, async (t) => {
  if (!(await servers(t))) return;
  const s = await start({ FAKE_UPSTREAM_DELAY_MS: "40" });
  try {
    const base = s.service.url;
    const admin = await signInAdmin(base);
    const org = await tenant(base, admin, "cancel", 10_000);
    const controller = new AbortController();
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${org.key}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "fake-small",
        messages: [{ role: "user", content: "a long answer please" }],
        max_tokens: 40,
        stream: true,
      }),
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while ((text.match(/"content"/g) ?? []).length < 5) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    controller.abort();
    await reader.cancel().catch(() => {});
    const stats = s.service.fakeUpstream!;
    await waitFor(() => stats.cancelled === 1, 10_000, "the upstream request stopped");
    await waitFor(
      async () => {
        const [row] = await s
          .sql`select count(*)::int as n from usage_records where org_id = ${org.orgId}`;
        return row?.n === 1;
      },
      10_000,
      "the usage recorded",
    );
    const [usage] = await s.sql`select prompt_tokens, completion_tokens, total_tokens
      from usage_records where org_id = ${org.orgId}`;
    assert.ok(
      usage!.completion_tokens >= 5,
      `at least what was received (${usage!.completion_tokens})`,
    );
    assert.ok(
      usage!.completion_tokens < 40,
      `not the whole reservation (${usage!.completion_tokens})`,
    );
    assert.ok(stats.streamedTokens < 40, `the upstream stopped early (${stats.streamedTokens})`);
    const [org$] = await s.sql`select tokens_used_current_month::int as used from organizations
      where id = ${org.orgId}`;
    assert.equal(org$!.used, usage!.total_tokens, "the unused reservation went back");
    await waitFor(
      () => s.lines.some((l) => l.message === "Request completed" && l.status === 200),
      5000,
      "access line",
    );
  } finally {
    await stop(s);
  }
});

test(
  "/readyz answers 503 while NATS is down and 200 once it is back",
  { timeout: 60_000 },
  async (t) => {
    if (!(await needPostgres(t)) || !(await needNatsServer(t))) return;
    const nats = new TestNatsServer(await freePort());
    await nats.start();
    let s: Started | undefined;
    try {
      s = await start({ NATS_URL: nats.url });
      const ready = () => json(s!.service.url, "GET", "/readyz");
      assert.equal((await ready()).status, 200);
      await nats.stop();
      let down = await ready();
      await waitFor(async () => (down = await ready()).status === 503, 10_000, "503 while down");
      const checks = down.body.checks as Record<string, { ok: boolean }>;
      assert.equal(checks.events?.ok, false);
      assert.equal(checks.database?.ok, true);
      assert.equal(down.type, "application/json");
      await nats.start();
      await waitFor(async () => (await ready()).status === 200, 20_000, "200 once NATS is back");
      // Liveness never depended on NATS.
      assert.equal((await json(s.service.url, "GET", "/healthz")).status, 200);
    } finally {
      if (s !== undefined) await stop(s, nats.url);
      await nats.dispose();
    }
  },
);

test(
  "a stream without include_usage ends with [DONE], shows no usage, and is charged the real usage",
  {
    timeout: 60_000,
  },
  async (t) => {
    if (!(await servers(t))) return;
    const s = await start();
    try {
      const base = s.service.url;
      const admin = await signInAdmin(base);
      const org = await tenant(base, admin, "nousage", 10_000);
      const res = await json(base, "POST", "/v1/chat/completions", {
        token: org.key,
        body: {
          model: "fake-small",
          messages: [{ role: "user", content: "hi" }],
          max_tokens: 7,
          stream: true,
        },
      });
      assert.equal(res.status, 200);
      const events = String(res.body.sse).split("\n\n").filter((e) => e.startsWith("data: "));
      assert.equal(events.at(-1), "data: [DONE]");
      assert.equal(
        events.some((e) => e.includes('"usage"')),
        false,
        "the client did not ask for it",
      );
      const contents = events.filter((e) => e.includes('"content"')).length;
      assert.equal(contents, 7);
      const [row] = await s.sql`select completion_tokens, total_tokens from usage_records
      where org_id = ${org.orgId}`;
      assert.equal(row!.completion_tokens, 7, "the upstream's usage, read although not shown");
      const [org$] = await s.sql`select tokens_used_current_month::int as used from organizations
      where id = ${org.orgId}`;
      assert.equal(org$!.used, row!.total_tokens);
    } finally {
      await stop(s);
    }
  },
);
