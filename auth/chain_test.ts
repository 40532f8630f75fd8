import { test } from "node:test";
import assert from "node:assert/strict";
import { type Context, type ErrorHandler, type Handler, Hono } from "hono";
import { problemHandler } from "@plinth/errors/hono";
import { chain } from "./chain.ts";
import { authenticate, type AuthVariables } from "./middleware.ts";
import { createTokenIssuer } from "./token_issuer.ts";
import { createTokenVerifier } from "./token_verifier.ts";

let trace: string[] = [];
const later = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

// Middlewares of every shape Hono allows; each records what it sees in `trace`.
const MIDDLEWARES: Record<string, Handler> = {
  sync: (_c, next) => {
    trace.push("sync");
    return next();
  },
  async: async (_c, next) => {
    trace.push("async>");
    await later();
    await next();
    trace.push("<async");
  },
  post: async (c, next) => {
    await next();
    c.header("x-post", "1");
    trace.push(`post ${c.res.status}`);
  },
  observe: async (c, next) => {
    try {
      await next();
    } catch (error) {
      trace.push(`caught ${(error as Error).message}`);
      throw error;
    }
    trace.push(`c.error ${c.error?.message ?? "none"}`);
  },
  replace: async (c, next) => {
    await next();
    c.res = new Response("replaced", { status: 299 });
  },
  short: (c) => c.text("short", 202),
  shortLater: async (c) => {
    await later();
    return c.text("short later", 203);
  },
  throws: () => {
    throw new Error("thrown");
  },
  rejects: async () => {
    await later();
    throw new Error("rejected");
  },
  twice: async (_c, next) => {
    await next();
    await next();
  },
  nonError: () => {
    throw "not an Error";
  },
};

const HANDLERS: Record<string, Handler> = {
  json: (c) => c.json({ ok: true }),
  jsonLater: async (c) => {
    await later();
    return c.json({ ok: "later" });
  },
  throws: () => {
    throw new Error("handler thrown");
  },
  rejects: async () => {
    await later();
    throw new Error("handler rejected");
  },
  next: (_c, next) => next(),
};

const onError: ErrorHandler = (error, c) => c.text(`onError: ${error.message}`, 500);

function app(register: (app: Hono) => void): Hono {
  const hono = new Hono();
  hono.onError(onError);
  hono.notFound((c) => c.text("not found here", 404));
  register(hono);
  return hono;
}

async function outcome(hono: Hono, path: string): Promise<unknown> {
  trace = [];
  try {
    const res = await hono.request(path);
    return {
      status: res.status,
      body: await res.text(),
      post: res.headers.get("x-post"),
      type: res.headers.get("content-type"),
      trace,
    };
  } catch (error) {
    return { thrown: String(error), trace };
  }
}

function sequences(names: readonly string[], max: number): string[][] {
  const all: string[][] = [[]];
  let last: string[][] = [[]];
  for (let n = 1; n <= max; n++) {
    last = last.flatMap((s) => names.map((name) => [...s, name]));
    all.push(...last);
  }
  return all;
}

test("chain() with onError answers exactly as Hono's own chaining of the same steps", async () => {
  let compared = 0;
  for (const names of sequences(Object.keys(MIDDLEWARES), 2)) {
    for (const [handlerName, handler] of Object.entries(HANDLERS)) {
      const steps = [...names.map((n) => MIDDLEWARES[n] as Handler), handler];
      const label = `${names.join(" → ")} → ${handlerName}`;
      const hono = app((a) => a.get("/r", ...(steps as [Handler])));
      const chained = app((a) => a.get("/r", chain(steps, { onError })));
      assert.deepEqual(await outcome(chained, "/r"), await outcome(hono, "/r"), label);
      // The same, as app middleware in front of a route (compose() hosts the chain).
      if (names.length > 0) {
        const mws = names.map((n) => MIDDLEWARES[n] as Handler);
        const hosted = app((a) => {
          a.use("/h/*", chain(mws, { onError }));
          a.get("/h/x", handler);
        });
        const plain = app((a) => {
          a.use("/h/*", ...(mws as [Handler]));
          a.get("/h/x", handler);
        });
        assert.deepEqual(await outcome(hosted, "/h/x"), await outcome(plain, "/h/x"), label);
      }
      compared++;
    }
  }
  assert.equal(compared, (1 + 11 + 121) * 5);
});

test("chain() without onError gives the same responses when no step changes it after next()", async () => {
  // Without onError an error leaves the chain, so a step's code after `await next()` does not
  // run on an error further in; the responses are still the app's onError's.
  const names = Object.keys(MIDDLEWARES).filter((n) => !["post", "replace", "twice"].includes(n));
  let compared = 0;
  for (const seq of sequences(names, 2)) {
    for (const [handlerName, handler] of Object.entries(HANDLERS)) {
      const steps = [...seq.map((n) => MIDDLEWARES[n] as Handler), handler];
      const hono = app((a) => a.get("/r", ...(steps as [Handler])));
      const chained = app((a) => a.get("/r", chain(steps)));
      const [mine, theirs] = [await outcome(chained, "/r"), await outcome(hono, "/r")];
      const strip = (o: unknown): unknown => ({ ...(o as object), trace: undefined });
      assert.deepEqual(strip(mine), strip(theirs), `${seq.join(" → ")} → ${handlerName}`);
      compared++;
    }
  }
  assert.equal(compared, (1 + 8 + 64) * 5);
});

test("chain() of synchronous steps answers without a promise; Hono's chaining does not", () => {
  const steps: Handler[] = [
    (c, next) => {
      c.set("seen", c.req.param("id"));
      return next();
    },
    (c) => c.json({ id: c.get("seen") }),
  ];
  const fast = new Hono();
  fast.get("/orgs/:id", chain(steps));
  const slow = new Hono();
  slow.get("/orgs/:id", ...(steps as [Handler]));
  const request = (): Request => new Request("http://localhost/orgs/acme");
  const res = fast.fetch(request());
  assert.ok(res instanceof Response);
  assert.equal(res.status, 200);
  assert.ok(slow.fetch(request()) instanceof Promise);
});

test("chain() ending without a response answers like a handler that returns nothing", async () => {
  const nothing = (() => undefined) as unknown as Handler;
  const single = app((a) => a.get("/r", nothing));
  const expected = await outcome(single, "/r");
  assert.equal((expected as { status: number }).status, 404);
  for (const first of [MIDDLEWARES["sync"], MIDDLEWARES["async"]] as Handler[]) {
    const chained = app((a) => a.get("/r", chain([first, nothing])));
    assert.deepEqual({ ...(await outcome(chained, "/r")) as object, trace: [] }, expected);
  }
  // Hono's own chaining of an awaiting middleware and that handler: 500, "Context is not
  // finalized" (and with a middleware that returns next(), the context object as response).
  const hono = app((a) => a.get("/r", MIDDLEWARES["async"] as Handler, nothing));
  const res = await hono.request("/r");
  assert.equal(res.status, 500);
  assert.match(await res.text(), /Context is not finalized/);
});

test("chain() runs authenticate() synchronously on a cached token and refuses others", async () => {
  const options = { secret: "a-secret-of-at-least-thirty-two-bytes!!", issuer: "i", audience: "a" };
  const issuer = createTokenIssuer({ ...options, kid: "k" });
  const hono = new Hono<{ Variables: AuthVariables }>();
  hono.onError(problemHandler({ logger: { error: () => {} } }));
  hono.get(
    "/me/:x",
    chain([
      authenticate({ verifier: createTokenVerifier(options), logger: { warn: () => {} } }),
      (c: Context<{ Variables: AuthVariables }>) => c.json({ user: c.var.auth.userId }),
    ]),
  );
  const { accessToken } = await issuer.generateTokenPair({
    userId: "u1",
    orgId: "o",
    role: "org_user",
  });
  const headers = { authorization: `Bearer ${accessToken}` };
  const first = hono.fetch(new Request("http://localhost/me/1", { headers }));
  assert.ok(first instanceof Promise); // verified for the first time
  assert.deepEqual(await (await first).json(), { user: "u1" });
  const cached = hono.fetch(new Request("http://localhost/me/1", { headers }));
  assert.ok(cached instanceof Response);
  assert.deepEqual(await cached.json(), { user: "u1" });
  const refused = await hono.request("/me/1", { headers: { authorization: "Bearer a.b.c" } });
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get("content-type"), "application/problem+json");
});

test("chain() validates its arguments when created", () => {
  assert.throws(() => chain([]), TypeError);
  assert.throws(() => chain("x" as unknown as Handler[]), TypeError);
  assert.throws(() => chain([(() => {}) as Handler, 1 as unknown as Handler]), TypeError);
  assert.throws(
    () => chain([(c) => c.text("")], { onError: "x" as unknown as ErrorHandler }),
    TypeError,
  );
  assert.throws(() => chain([(c) => c.text("")], null as unknown as object), TypeError);
});
