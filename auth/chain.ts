import type { Context, Env, ErrorHandler, Handler, Next } from "hono";

/**
 * Options of {@linkcode chain}.
 *
 * @example
 * ```ts
 * import { type ChainOptions } from "@plinth/auth";
 * import { problemHandler } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const options: ChainOptions = { onError: problemHandler() };
 * assert.equal(typeof options.onError, "function");
 * ```
 */
export interface ChainOptions<E extends Env = Env> {
  /**
   * Turns an error thrown by a step into a response at that step, as Hono does between
   * separately registered handlers: `c.error` is set and the steps before it see `next()`
   * resolve with the response in `c.res`. Pass the app's own error handler (the one given to
   * `app.onError`). Without it an error leaves the chain, and the app's `onError` answers it
   * from there. @default {undefined (errors leave the chain)}
   */
  readonly onError?: ErrorHandler<E> | undefined;
}

const WHERE = "chain";
const noop = (): void => {};

/** One request through a chain: Hono's `compose()`, step for step, without promises of its own. */
class Run<E extends Env, P extends string> {
  readonly c: Context<E, P>;
  readonly steps: readonly Handler<E, P>[];
  readonly outer: Next | undefined;
  readonly onError: ErrorHandler<E> | undefined;
  index = -1;
  /** What `next()` returns when everything after it completed synchronously; resolves to `c`. */
  resolved: Promise<void> | undefined = undefined;
  /** The last rejection `next()` returned for a synchronous failure, and its error. */
  failed: Promise<void> | undefined = undefined;
  failure: unknown = undefined;

  constructor(
    c: Context<E, P>,
    steps: readonly Handler<E, P>[],
    outer: Next | undefined,
    onError: ErrorHandler<E> | undefined,
  ) {
    this.c = c;
    this.steps = steps;
    this.outer = outer;
    this.onError = onError;
  }

  /** Runs step `i`: `c` when it (and all it awaited) completed synchronously, else a promise. */
  dispatch(i: number): Context<E, P> | Promise<Context<E, P>> {
    if (i <= this.index) throw new Error("next() called multiple times");
    this.index = i;
    const c = this.c;
    const steps = this.steps;
    let res: unknown;
    try {
      if (i < steps.length) {
        res = (steps[i] as Handler<E, P>)(c, () => this.next(i + 1));
      } else if (i === steps.length && this.outer !== undefined) {
        res = this.outer();
      } else {
        // Past the end with nowhere to go on: as compose() with the app's notFound handler.
        return c.finalized ? c : this.settle(c.notFound(), false);
      }
    } catch (error) {
      return this.caught(error);
    }
    if (res instanceof Promise) {
      if (res === this.resolved) return this.apply(c, false);
      if (res === this.failed) {
        res.then(undefined, noop); // handled here, synchronously
        return this.caught(this.failure);
      }
      return res.then(
        (value: unknown) => this.settle(value, false),
        (error: unknown) => this.caught(error),
      );
    }
    return this.apply(res, false);
  }

  /** The `next` a step gets: always a promise, as Hono's `Next` promises. */
  next(i: number): Promise<void> {
    let result: Context<E, P> | Promise<Context<E, P>>;
    try {
      result = this.dispatch(i);
    } catch (error) {
      const failed = Promise.reject(error);
      this.failed = failed;
      this.failure = error;
      return failed;
    }
    if (result instanceof Promise) return result as Promise<unknown> as Promise<void>;
    return this.resolved ??= Promise.resolve(result) as Promise<unknown> as Promise<void>;
  }

  caught(error: unknown): Context<E, P> | Promise<Context<E, P>> {
    const onError = this.onError;
    if (!(error instanceof Error) || onError === undefined) throw error;
    this.c.error = error;
    return this.settle(onError(error, this.c), true);
  }

  settle(res: unknown, isError: boolean): Context<E, P> | Promise<Context<E, P>> {
    return res instanceof Promise
      ? res.then((value: unknown) => this.apply(value, isError))
      : this.apply(res, isError);
  }

  /**
   * compose()'s rule: a step's result becomes `c.res` unless a response is already set. The
   * context itself (what `next()` resolves to, returned by a step that returns `next()`) is not
   * a response: compose() would set it as one when nothing answered; here nothing is set.
   */
  apply(res: unknown, isError: boolean): Context<E, P> {
    const c = this.c;
    if (res && res !== c && (c.finalized === false || isError)) c.res = res as Response;
    return c;
  }
}

/**
 * Runs Hono middlewares and a handler as one Hono handler, so that a route keeps Hono's
 * single-handler fast path: while every step completes synchronously — `authenticate()` on a
 * cached token, `requirePermission()`, a handler that returns its response — the route answers
 * with no promise at all. Otherwise it behaves as Hono's own chaining of the same steps
 * (`app.get(path, a, b, handler)`): each step gets `next()`, which returns a promise, runs the
 * rest and resolves once it is done; an asynchronous step is awaited; a step's returned
 * response becomes `c.res` unless one is set; `next()` called twice is an error; past the last
 * step the chain goes on to whatever follows it in the app (or the app's notFound). Errors
 * thrown or rejected by a step reach the app's `onError`: from the chain, or — with the
 * `onError` option — at the step itself, exactly as Hono handles them between separate
 * handlers (`c.error` set, the earlier steps' `next()` resolving). A chain whose steps end
 * without a response is a handler that returned nothing: the app's notFound answers (Hono's
 * own chaining answers 500, "Context is not finalized"); and a step that calls `next()`
 * without awaiting or returning it finds the rest already done when the rest was synchronous.
 * Use it as the route's only handler and with no `app.use` middleware matching the route, or
 * the fast path is lost anyway.
 *
 * @param steps The middlewares and, last, the handler, in order.
 * @param options Where errors are answered.
 * @returns One Hono handler running the steps.
 * @throws {TypeError} When `steps` is not a non-empty list of functions, or `onError` is not a function.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { problemHandler } from "@plinth/errors/hono";
 * import {
 *   authenticate,
 *   type AuthVariables,
 *   chain,
 *   createTokenIssuer,
 *   createTokenVerifier,
 * } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const options = { secret: "a-secret-of-at-least-thirty-two-bytes!!", issuer: "auth", audience: "api" };
 * const issuer = createTokenIssuer({ ...options, kid: "k1" });
 * const verifier = createTokenVerifier(options);
 *
 * const app = new Hono<{ Variables: AuthVariables }>();
 * app.onError(problemHandler());
 * app.get(
 *   "/orgs/:id",
 *   // With @plinth/rbac: chain([authenticate(…), requirePermission("view_org"), handler])
 *   chain([
 *     authenticate({ verifier, logger: { warn: () => {} } }),
 *     (c) => c.json({ id: c.req.param("id"), by: c.var.auth.userId }),
 *   ]),
 * );
 *
 * const { accessToken } = await issuer.generateTokenPair({ userId: "u1", orgId: "acme", role: "org_user" });
 * const headers = { authorization: `Bearer ${accessToken}` };
 * assert.deepEqual(await (await app.request("/orgs/acme", { headers })).json(), { id: "acme", by: "u1" });
 * // The token is cached now: the whole route answers synchronously, without a promise.
 * const res = app.fetch(new Request("http://localhost/orgs/acme", { headers }));
 * assert.ok(res instanceof Response);
 * assert.equal((await app.request("/orgs/acme")).status, 401);
 * ```
 */
export function chain<E extends Env = Env, P extends string = string>(
  steps: readonly Handler<E, P>[],
  options: ChainOptions<E> = {},
): Handler<E, P> {
  if (
    !Array.isArray(steps) || steps.length === 0 || !steps.every((s) => typeof s === "function")
  ) {
    throw new TypeError(`Cannot create ${WHERE}: steps must be a non-empty list of functions`);
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot create ${WHERE}: options must be an object`);
  }
  const onError = options.onError;
  if (onError !== undefined && typeof onError !== "function") {
    throw new TypeError(`Cannot create ${WHERE}: onError must be a function`);
  }
  const list: readonly Handler<E, P>[] = Object.freeze([...steps]);
  return function chained(c, next): Response | undefined | Promise<Response | undefined> {
    const run = new Run(c, list, typeof next === "function" ? next : undefined, onError);
    const done = run.dispatch(0);
    return done instanceof Promise
      ? done.then(() => c.finalized ? c.res : undefined)
      : c.finalized
      ? c.res
      : undefined;
  };
}
