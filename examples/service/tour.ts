/**
 * The scripted tour of the service, over real HTTP: what `npm run demo` shows and what the
 * end-to-end tests check on each runtime. It signs in as the seeded administrator, creates an
 * organisation with a small budget and its admin, who creates an API key; chats with that key
 * (whole and streamed) until the budget is spent; shows that another organisation is out of
 * reach; rotates a refresh token and replays the old one; and waits until the analytics
 * consumer has counted every charge.
 *
 * @module
 */

/** One step as a person reads it. */
export type Print = (line: string) => void;

/** What the tour saw (the tests assert on it). */
export interface TourResult {
  orgId: string;
  otherOrgId: string;
  budget: number;
  /** Completions answered, and the tokens each was charged. */
  charged: number[];
  /** The status and code of the request refused for the budget. */
  refused: { status: number; code: string; retryAfter: string | null };
  /** Status codes of the cross-organisation requests (all 403 or 404). */
  crossOrg: number[];
  /** The used counter after the tour, and the analytics consumer's total for today. */
  used: number;
  analytics: { requests: number; total_tokens: number };
  /** The trace id the tour sent with one completion. */
  traceId: string;
  /** The refresh token: rotated once, then the replay's status and code. */
  replay: { status: number; code: string };
  /** Problem responses' content type. */
  problemType: string;
}

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/**
 * Runs the tour against `base`.
 *
 * @param base The service's URL.
 * @param options The administrator's e-mail, the organisation's budget, where lines go.
 */
export async function runTour(
  base: string,
  options: { adminEmail?: string; budget?: number; print?: Print } = {},
): Promise<TourResult> {
  const print = options.print ?? (() => {});
  const budget = options.budget ?? 600;
  const suffix = crypto.randomUUID().slice(0, 6);
  let n = 0;
  async function call(
    method: string,
    path: string,
    init: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        "x-request-id": `tour-${suffix}-${++n}`,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    if (text !== "" && !res.headers.get("content-type")?.includes("event-stream")) {
      body = JSON.parse(text);
    } else if (text !== "") body = { sse: text };
    return { status: res.status, headers: res.headers, body };
  }
  function expect(reply: Reply, status: number, what: string): Reply {
    if (reply.status !== status) {
      throw new Error(
        `Tour: ${what} answered ${reply.status}, not ${status}: ${JSON.stringify(reply.body)}`,
      );
    }
    return reply;
  }

  expect(await call("GET", "/healthz"), 200, "GET /healthz");
  const admin = expect(
    await call("POST", "/auth/sign-in", {
      body: { email: options.adminEmail ?? "admin@plinth.local" },
    }),
    200,
    "the administrator's sign-in",
  ).body;
  print(`signed in as the system administrator (a ${admin.expires_in} s access token)`);

  const org = expect(
    await call("POST", "/v1/organizations", {
      token: admin.access_token as string,
      body: { name: `acme-${suffix}`, display_name: "Acme", budget_tokens_monthly: budget },
    }),
    201,
    "creating an organisation",
  ).body;
  const other = expect(
    await call("POST", "/v1/organizations", {
      token: admin.access_token as string,
      body: { name: `globex-${suffix}`, display_name: "Globex", budget_tokens_monthly: budget },
    }),
    201,
    "creating a second organisation",
  ).body;
  print(`created organisations ${org.name} and ${other.name}, each with ${budget} tokens a month`);

  const aliceEmail = `alice-${suffix}@acme.example`;
  expect(
    await call("POST", `/v1/organizations/${org.id}/users`, {
      token: admin.access_token as string,
      body: { email: aliceEmail, name: "Alice", role: "org_admin" },
    }),
    201,
    "creating the organisation's admin",
  );
  const alice = expect(
    await call("POST", "/auth/sign-in", { body: { email: aliceEmail } }),
    200,
    "Alice's sign-in",
  ).body;
  const created = expect(
    await call("POST", `/v1/organizations/${org.id}/api-keys`, {
      token: alice.access_token as string,
      body: { name: "router", role: "org_user" },
    }),
    201,
    "creating an API key",
  ).body;
  const key = created.key as string;
  print(
    `Alice (org_admin of ${org.name}) created API key ${
      (created.api_key as { public_id: string }).public_id
    } (the key is shown once)`,
  );

  // Another organisation is out of reach, however it is asked for.
  const crossOrg = [
    (await call("GET", `/v1/organizations/${other.id}`, { token: alice.access_token as string }))
      .status,
    (await call("GET", `/v1/organizations/${other.id}/users`, { token: key })).status,
    (await call("POST", `/v1/organizations/${other.id}/api-keys`, {
      token: alice.access_token as string,
      body: { name: "sneaky" },
    })).status,
    (await call("GET", `/v1/organizations`, { token: alice.access_token as string })).status,
  ];
  const denied = await call("GET", `/v1/organizations/${other.id}`, {
    token: alice.access_token as string,
  });
  print(
    `Alice asks for ${other.name}: ${denied.status} ${denied.body.code} (${
      denied.headers.get("content-type")
    })`,
  );

  // Chat until the budget is spent: whole answers and streams, with the API key.
  const traceId = crypto.randomUUID().replaceAll("-", "");
  const charged: number[] = [];
  let refused: TourResult["refused"] | undefined;
  for (let i = 0; refused === undefined && i < 100; i++) {
    const stream = i % 2 === 1;
    const reply = await call("POST", "/v1/chat/completions", {
      token: key,
      body: {
        model: "fake-small",
        messages: [{ role: "user", content: `Tell me about plinth (${i + 1})` }],
        max_tokens: 40,
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
      },
      headers: i === 0 ? { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } : {},
    });
    if (reply.status === 429) {
      refused = {
        status: reply.status,
        code: reply.body.code as string,
        retryAfter: reply.headers.get("retry-after"),
      };
      print(
        `chat ${
          i + 1
        }: 429 ${reply.body.code} — ${reply.body.detail} (Retry-After ${refused.retryAfter} s)`,
      );
      break;
    }
    expect(reply, 200, `chat completion ${i + 1}`);
    let usage: { total_tokens: number; prompt_tokens: number; completion_tokens: number };
    let text: string;
    if (stream) {
      const events = String(reply.body.sse).split("\n\n").filter((e) => e.startsWith("data: "))
        .map((e) => e.slice(6)).filter((d) => d !== "[DONE]").map((d) => JSON.parse(d));
      text = events.map((e) => e.choices?.[0]?.delta?.content ?? "").join("");
      usage = events.find((e) => e.usage !== undefined && e.usage !== null)?.usage;
    } else {
      const choices = reply.body.choices as { message: { content: string } }[];
      text = choices[0]!.message.content;
      usage = reply.body.usage as typeof usage;
    }
    charged.push(usage.total_tokens);
    print(
      `chat ${i + 1} (${stream ? "streamed" : "whole"}): "${
        text.slice(0, 40)
      }…" — ${usage.prompt_tokens} + ${usage.completion_tokens} = ${usage.total_tokens} tokens charged`,
    );
  }
  if (refused === undefined) throw new Error("Tour: the budget was never spent");

  // Refresh rotation, and a replay of the old refresh token.
  const rotated = expect(
    await call("POST", "/auth/refresh", { body: { refresh_token: alice.refresh_token } }),
    200,
    "rotating Alice's refresh token",
  ).body;
  const replayed = await call("POST", "/auth/refresh", {
    body: { refresh_token: alice.refresh_token },
  });
  print(
    `refresh token rotated; the old one replayed: ${replayed.status} ${replayed.body.code} (the family is revoked)`,
  );
  const afterReplay = await call("GET", `/v1/organizations/${org.id}`, {
    token: rotated.access_token as string,
  });
  print(
    `the rotated access token after the replay: ${afterReplay.status} ${afterReplay.body.code}`,
  );

  // The analytics consumer counts every charge, once (events go through the outbox relay).
  const expected = charged.reduce((a, b) => a + b, 0);
  let analytics = { requests: 0, total_tokens: 0 };
  let used = 0;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const usage = expect(
      await call("GET", `/v1/organizations/${org.id}/usage`, {
        token: admin.access_token as string,
      }),
      200,
      "reading the usage",
    ).body;
    used = usage.tokens_used_current_month as number;
    const days = usage.daily as { requests: number; total_tokens: number }[];
    analytics = {
      requests: days.reduce((a, d) => a + d.requests, 0),
      total_tokens: days.reduce((a, d) => a + d.total_tokens, 0),
    };
    if (analytics.requests >= charged.length && analytics.total_tokens >= expected) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  print(
    `usage: ${used} of ${budget} tokens used; the analytics consumer counted ${analytics.requests} requests, ${analytics.total_tokens} tokens`,
  );
  return {
    orgId: org.id as string,
    otherOrgId: other.id as string,
    budget,
    charged,
    refused,
    crossOrg,
    used,
    analytics,
    traceId,
    replay: { status: replayed.status, code: replayed.body.code as string },
    problemType: denied.headers.get("content-type") ?? "",
  };
}
