import { test } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { z } from "zod";
import {
  problemBoundary,
  type ProblemErrorInfo,
  problemHandler,
  type ProblemLogger,
  problemNotFound,
} from "./middleware.ts";
import { budgetExceeded, internalError, notFound, unauthorized } from "./http_errors.ts";
import { fromZod } from "./from_zod.ts";
import { AppError } from "./app_error.ts";

interface Captured {
  errors: { error: unknown; info: ProblemErrorInfo }[];
  logs: { message: string; fields: Record<string, unknown> | undefined }[];
}

function appWith(
  route: () => unknown,
  options: Parameters<typeof problemHandler>[0] = {},
): { app: Hono; captured: Captured } {
  const captured: Captured = { errors: [], logs: [] };
  const logger: ProblemLogger = {
    error: (message, fields) => captured.logs.push({ message, fields }),
  };
  const app = new Hono();
  app.use(problemBoundary());
  app.onError(problemHandler({
    logger,
    onError: (error, info) => captured.errors.push({ error, info }),
    ...options,
  }));
  app.notFound(problemNotFound());
  app.get("/boom", () => {
    route();
    return new Response("unreachable");
  });
  return { app, captured };
}

test("problemHandler() renders an AppError as its problem with instance and request_id", async () => {
  const { app, captured } = appWith(() => {
    throw budgetExceeded("Monthly budget spent", {
      retryAfter: 120_000,
      extensions: { used_tokens: 10 },
    });
  });
  const res = await app.request("/boom", { headers: { "x-request-id": "req-9" } });
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.equal(res.headers.get("retry-after"), "120");
  assert.deepEqual(await res.json(), {
    type: "about:blank",
    title: "Too Many Requests",
    status: 429,
    detail: "Monthly budget spent",
    instance: "/boom",
    code: "budget_exceeded",
    request_id: "req-9",
    used_tokens: 10,
  });
  assert.equal(captured.errors.length, 1, "onError sees 4xx too");
  assert.equal(captured.logs.length, 0, "4xx is not logged as an error");
});

test("problemHandler() answers an unexpected throw with a generic 500 and logs the chain", async () => {
  const root = new Error("password authentication failed for user svc");
  const { app, captured } = appWith(() => {
    throw new Error("Cannot load org", { cause: root });
  });
  const res = await app.request("/boom");
  assert.equal(res.status, 500);
  const body = await res.json();
  assert.equal(body.code, "internal_error");
  assert.equal(body.detail, "An unexpected error occurred");
  assert.ok(!JSON.stringify(body).includes("password"));
  const [logged] = captured.logs;
  assert.equal(logged?.message, "Request failed");
  const err = logged?.fields?.["err"] as { message: string; cause: { message: string } };
  assert.equal(err.message, "Cannot load org");
  assert.equal(err.cause.message, root.message);
  assert.equal(captured.errors[0]?.info.chain[1], root);
  assert.equal(captured.errors[0]?.info.problem.status, 500);
});

test("problemHandler() renders thrown non-Error values through problemBoundary()", async () => {
  const values: unknown[] = ["a string", null, undefined, 42, { no: "message" }, Symbol("s")];
  for (const value of values) {
    const { app, captured } = appWith(() => {
      throw value;
    });
    const res = await app.request("/boom");
    assert.equal(res.status, 500, String(typeof value));
    const body = await res.json();
    assert.equal(body.status, 500);
    assert.equal(body.code, "internal_error");
    const chain = captured.errors[0]?.info.chain ?? [];
    assert.equal(chain.length, value === undefined ? 1 : 2);
    if (value !== undefined) assert.equal(chain[1], value);
  }
});

test("problemHandler() survives an error whose cause is circular", async () => {
  const a = new Error("a");
  const b = new AppError("b", { status: 409, cause: a });
  (a as { cause?: unknown }).cause = b;
  const { app, captured } = appWith(() => {
    throw b;
  });
  const res = await app.request("/boom");
  assert.equal(res.status, 409);
  assert.equal((await res.json()).detail, "b");
  assert.equal(captured.errors[0]?.info.chain.length, 2);
});

test("problemHandler() sends a well-formed problem for a 50 MB detail", async () => {
  const { app } = appWith(() => {
    throw new AppError("z".repeat(50 * 1024 * 1024), { status: 400 });
  });
  const res = await app.request("/boom");
  const body = await res.json();
  assert.equal(res.status, 400);
  assert.equal(body.detail.length, 4096);
});

test("problemHandler() maps Hono's HTTPException and keeps its headers", async () => {
  const { app } = appWith(() => {
    throw new HTTPException(401, {
      message: "Bad credentials",
      res: new Response("Unauthorized", {
        headers: { "WWW-Authenticate": 'Basic realm="x"', "content-type": "text/plain" },
      }),
    });
  });
  const res = await app.request("/boom");
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), 'Basic realm="x"');
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = await res.json();
  assert.equal(body.code, "unauthorized");
  assert.equal(body.detail, "Bad credentials");

  const { app: app2 } = appWith(() => {
    throw new HTTPException(413);
  });
  const res2 = await app2.request("/boom");
  assert.equal(res2.status, 413);
  const body2 = await res2.json();
  assert.equal(body2.code, "content_too_large");
  assert.equal(body2.title, "Content Too Large");

  const { app: app3 } = appWith(() => {
    throw new HTTPException(502, { message: "upstream 10.0.0.3 refused" });
  });
  const body3 = await (await app3.request("/boom")).json();
  assert.equal(body3.code, "bad_gateway");
  assert.ok(!JSON.stringify(body3).includes("10.0.0.3"));
});

test("problemHandler() renders a zod failure as field errors", async () => {
  const app = new Hono();
  app.onError(problemHandler({ onError: () => {} }));
  app.post("/orgs", async (c) => {
    const parsed = z.object({ name: z.string().min(1) }).safeParse(await c.req.json());
    if (!parsed.success) throw fromZod(parsed.error);
    return c.json(parsed.data, 201);
  });
  const res = await app.request("/orgs", { method: "POST", body: JSON.stringify({ name: "" }) });
  assert.equal(res.status, 422);
  assert.deepEqual((await res.json()).errors, [{ pointer: "/name", detail: "Must not be empty" }]);
});

test("problemHandler() takes the request id from Hono's requestId middleware", async () => {
  const app = new Hono();
  app.use(requestId({ generator: () => "generated-1" }));
  app.onError(problemHandler({ onError: () => {} }));
  app.get("/", () => {
    throw notFound("Nothing");
  });
  assert.equal((await (await app.request("/")).json()).request_id, "generated-1");

  const custom = new Hono();
  custom.onError(problemHandler({ requestId: (c) => c.req.header("x-trace") ?? undefined }));
  custom.get("/", () => {
    throw notFound("Nothing");
  });
  const res = await custom.request("/", {
    headers: { "x-trace": "t-1", "x-request-id": "ignored" },
  });
  assert.equal((await res.json()).request_id, "t-1");
});

test("problemHandler() uses typeBase for problem types", async () => {
  const { app } = appWith(() => {
    throw unauthorized();
  }, { typeBase: "https://errors.plinth.dev/" });
  const res = await app.request("/boom");
  assert.equal(res.headers.get("www-authenticate"), "Bearer");
  assert.equal((await res.json()).type, "https://errors.plinth.dev/unauthorized");
});

test("problemHandler() still answers when its hooks throw", async () => {
  const logs: string[] = [];
  const app = new Hono();
  app.onError(problemHandler({
    onError: () => {
      throw new Error("hook failed");
    },
    logger: {
      error: (message) => {
        logs.push(message);
        throw new Error("logger failed too");
      },
    },
  }));
  app.get("/", () => {
    throw internalError("x");
  });
  const res = await app.request("/");
  assert.equal(res.status, 500);
  assert.deepEqual(logs, ["problemHandler onError hook threw", "Request failed"]);
});

test("problemHandler() logs 5xx to console.error as JSON when given no hooks", async () => {
  const original = console.error;
  const lines: unknown[] = [];
  console.error = (line: unknown) => lines.push(line);
  try {
    const app = new Hono();
    app.onError(problemHandler());
    app.get("/", () => {
      throw new Error("kaput");
    });
    assert.equal((await app.request("/")).status, 500);
  } finally {
    console.error = original;
  }
  assert.equal(lines.length, 1);
  const line = JSON.parse(String(lines[0]));
  assert.equal(line.level, "error");
  assert.equal(line.err.message, "kaput");
  assert.equal(line.path, "/");
});

test("problemHandler() and problemNotFound() check their options when created", () => {
  assert.throws(() => problemHandler({ typeBase: "not a uri" }), TypeError);
  assert.throws(() => problemNotFound({ typeBase: "relative/" }), /typeBase/);
  assert.throws(() => problemHandler({ maxDetailLength: 0 }), RangeError);
  assert.throws(() => problemHandler({ maxErrors: 1.5 }), /maxErrors/);
});

test("problemNotFound() answers unknown routes with a 404 problem", async () => {
  const { app } = appWith(() => {});
  const res = await app.request("/missing/route?q=1", { headers: { "x-request-id": "nf-1" } });
  assert.equal(res.status, 404);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.deepEqual(await res.json(), {
    type: "about:blank",
    title: "Not Found",
    status: 404,
    detail: "No resource exists at this path",
    instance: "/missing/route",
    code: "not_found",
    request_id: "nf-1",
  });
});

test("AppError renders through Hono's default error handler via getResponse()", async () => {
  const app = new Hono();
  app.get("/", () => {
    throw notFound("Gone fishing");
  });
  const res = await app.request("/");
  assert.equal(res.status, 404);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  assert.equal((await res.json()).detail, "Gone fishing");
});

test("problemHandler() answers a malformed JSON body read with c.req.json() with 400 invalid_json", async () => {
  const logs: unknown[] = [];
  const app = new Hono();
  app.onError(problemHandler({ logger: { error: (message) => logs.push(message) } }));
  app.post("/orgs", async (c) => {
    const body = await c.req.json();
    return c.json(body, 201);
  });
  app.post("/text-then-json", async (c) => {
    await c.req.arrayBuffer();
    return c.json(await c.req.json());
  });
  const cases: [string, BodyInit | undefined, string][] = [
    ["truncated object", '{"name": "acme"', "The request body is not valid JSON"],
    ["not JSON at all", "name=acme", "The request body is not valid JSON"],
    ["trailing garbage", '{"a":1} x', "The request body is not valid JSON"],
    ["empty body", "", "The request body is empty; expected JSON"],
    ["no body", undefined, "The request body is empty; expected JSON"],
  ];
  for (const [label, body, detail] of cases) {
    const res = await app.request("/orgs", {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "r-j" },
      ...(body === undefined ? {} : { body }),
    });
    assert.equal(res.status, 400, label);
    assert.equal(res.headers.get("content-type"), "application/problem+json", label);
    assert.deepEqual(await res.json(), {
      type: "about:blank",
      title: "Bad Request",
      status: 400,
      detail,
      instance: "/orgs",
      code: "invalid_json",
      request_id: "r-j",
    }, label);
  }
  const viaCache = await app.request("/text-then-json", { method: "POST", body: "{oops" });
  assert.equal((await viaCache.json()).code, "invalid_json");
  assert.deepEqual(logs, [], "a client's bad body is not a server error");
  const ok = await app.request("/orgs", { method: "POST", body: '{"name":"acme"}' });
  assert.equal(ok.status, 201);
});

test("problemHandler() keeps a SyntaxError thrown by application code a 500", async () => {
  const logs: unknown[] = [];
  const app = new Hono();
  app.onError(problemHandler({ logger: { error: (message) => logs.push(message) } }));
  app.post("/parse-other", async (c) => {
    await c.req.json();
    JSON.parse("{not the body");
    return c.text("unreachable");
  });
  app.post("/unread", () => {
    JSON.parse("{oops");
    return new Response("unreachable");
  });
  app.post("/regex", async (c) => {
    await c.req.text();
    new RegExp("(");
    return c.text("unreachable");
  });
  for (
    const [path, body] of [["/parse-other", '{"ok":true}'], ["/unread", "{oops"], [
      "/regex",
      "{oops",
    ]] as const
  ) {
    const res = await app.request(path, { method: "POST", body });
    assert.equal(res.status, 500, path);
    assert.equal((await res.json()).code, "internal_error", path);
  }
  assert.equal(logs.length, 3);
});

test("problemHandler() gives bodyLimit's 413 a useful detail", async () => {
  const app = new Hono();
  app.onError(problemHandler({ onError: () => {} }));
  app.post("/upload", bodyLimit({ maxSize: 8 }), (c) => c.text("ok"));
  const res = await app.request("/upload", { method: "POST", body: "x".repeat(64) });
  assert.equal(res.status, 413);
  const body = await res.json();
  assert.equal(body.code, "content_too_large");
  assert.equal(body.detail, "Request body is too large");
  const bare = await (await appWith(() => {
    throw new HTTPException(405);
  }).app.request("/boom")).json();
  assert.notEqual(bare.detail, "", "no status renders an empty detail");
});

test("problemHandler() answers hostile thrown values with a problem, never a crash", async () => {
  const brand = Symbol.for("plinth.AppError");
  const throwing = (): never => {
    throw new Error("trap");
  };
  const revoked = Proxy.revocable(new Error("revoked"), {});
  revoked.revoke();
  const corpus: [string, unknown, number][] = [
    ["Error proxy whose getters throw", new Proxy(new Error("x"), { get: throwing }), 500],
    [
      "Error proxy passing for an AppError",
      new Proxy(new Error("x"), { get: (_t, key) => (key === brand ? true : throwing()) }),
      500,
    ],
    ["revoked proxy", revoked.proxy, 500],
    [
      "AppError with a throwing getResponse",
      Object.assign(notFound("x"), {
        getResponse: throwing,
      }),
      500,
    ],
  ];
  for (const [label, value, status] of corpus) {
    const { app } = appWith(() => {
      throw value;
    });
    const res = await app.request("/boom");
    assert.equal(res.status, status, label);
    assert.equal((await res.json()).status, status, label);
  }
});
