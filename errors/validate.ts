import type { Env, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { validator } from "hono/validator";
import type { AppError } from "./app_error.ts";
import { fromZod, type ZodErrorLike } from "./from_zod.ts";
import { invalidJson } from "./_invalid_json.ts";

/**
 * What {@linkcode validate} checks: the JSON body, the query string, the path parameters or the
 * request headers (names in lower case).
 *
 * @example
 * ```ts
 * import type { ValidateTarget } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const target: ValidateTarget = "query";
 * assert.equal(target, "query");
 * ```
 */
export type ValidateTarget = "json" | "query" | "param" | "header";

/**
 * The parts of a zod v4 schema that {@linkcode validate} uses: `safeParseAsync()`, and the
 * Standard Schema `~standard.types` its input and output types are read from. Structural, so
 * zod is not a dependency of this package; any zod v4 schema matches it.
 *
 * @example
 * ```ts
 * import type { ValidateSchema } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const schema: ValidateSchema = z.object({ name: z.string() });
 * assert.equal((await schema.safeParseAsync({ name: "acme" })).success, true);
 * ```
 */
export interface ValidateSchema {
  /** Standard Schema properties; `types` carries the input and output types. */
  readonly "~standard": {
    readonly types?: { readonly input: unknown; readonly output: unknown } | undefined;
  };
  /** Validates `data`, resolving to the parsed value or the zod error. */
  safeParseAsync(data: unknown): Promise<
    { readonly success: true; readonly data: unknown } | {
      readonly success: false;
      readonly error: ZodErrorLike;
    }
  >;
}

/**
 * The input type of a schema (what the client sends), like zod's `z.input`.
 *
 * @example
 * ```ts
 * import type { SchemaInput } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const Page = z.object({ page: z.coerce.number() });
 * const input: SchemaInput<typeof Page> = { page: "2" };
 * assert.equal(Page.parse(input).page, 2);
 * ```
 */
export type SchemaInput<Schema extends ValidateSchema> = NonNullable<
  Schema["~standard"]["types"]
>["input"];

/**
 * The output type of a schema (what the handler gets), like zod's `z.output`.
 *
 * @example
 * ```ts
 * import type { SchemaOutput } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const Page = z.object({ page: z.coerce.number() });
 * const output: SchemaOutput<typeof Page> = Page.parse({ page: "2" });
 * assert.equal(output.page, 2);
 * ```
 */
export type SchemaOutput<Schema extends ValidateSchema> = NonNullable<
  Schema["~standard"]["types"]
>["output"];

/**
 * The Hono input types {@linkcode validate} declares, so `c.req.valid(target)` is the schema's
 * output.
 *
 * @example
 * ```ts
 * import type { ValidateInput } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const Org = z.object({ name: z.string() });
 * const out: ValidateInput<"json", typeof Org>["out"]["json"] = { name: "acme" };
 * assert.equal(out.name, "acme");
 * ```
 */
export interface ValidateInput<Target extends ValidateTarget, Schema extends ValidateSchema> {
  /** What the client sends, per target (for Hono's typed client). */
  in: { [K in Target]: SchemaInput<Schema> };
  /** What `c.req.valid(target)` returns. */
  out: { [K in Target]: SchemaOutput<Schema> };
}

const TARGETS: ReadonlySet<string> = new Set(["json", "query", "param", "header"]);

function isSchema(value: unknown): value is ValidateSchema {
  return typeof value === "object" && value !== null &&
    typeof (value as { safeParseAsync?: unknown }).safeParseAsync === "function";
}

/**
 * Hono middleware validating one part of the request with a zod v4 schema, built on Hono's
 * `validator`. The parsed value is available as `c.req.valid(target)`, typed as the schema's
 * output. An invalid value throws a 422 {@linkcode fromZod} error (`validation_failed`, one
 * `errors` entry per field; pointers into the query, path parameters and headers start with
 * `/query`, `/param` and `/header`); a JSON body that does not parse throws a 400
 * `invalid_json`. Register {@linkcode problemHandler} to render them.
 *
 * As with Hono's `validator`, the `json` target reads the body only when the request's
 * `Content-Type` is JSON (`application/json`, `application/*+json`); any other request is
 * validated as `{}`.
 *
 * @param target Which part of the request: `json`, `query`, `param` or `header`.
 * @param schema A zod v4 schema.
 * @returns The middleware.
 * @throws {TypeError} When `target` is not one of the four or `schema` is not a zod schema.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { z } from "zod";
 * import { problemHandler, validate } from "@plinth/errors/hono";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono();
 * app.onError(problemHandler());
 * app.post("/orgs", validate("json", z.object({ name: z.string().min(1) })), (c) => {
 *   const { name } = c.req.valid("json"); // typed: { name: string }
 *   return c.json({ name }, 201);
 * });
 *
 * const post = (body: string) =>
 *   app.request("/orgs", { method: "POST", headers: { "content-type": "application/json" }, body });
 * assert.equal((await post('{"name":"acme"}')).status, 201);
 *
 * const invalid = await post('{"name":""}');
 * assert.equal(invalid.status, 422);
 * assert.deepEqual((await invalid.json()).errors, [{ pointer: "/name", detail: "Must not be empty" }]);
 *
 * const malformed = await post('{"name":');
 * assert.equal(malformed.status, 400);
 * assert.equal((await malformed.json()).code, "invalid_json");
 * ```
 */
export function validate<
  Target extends ValidateTarget,
  Schema extends ValidateSchema,
  E extends Env = Env,
  P extends string = string,
>(
  target: Target,
  schema: Schema,
): MiddlewareHandler<E, P, ValidateInput<Target, Schema>> {
  if (!TARGETS.has(target)) {
    throw new TypeError('Invalid validate target: must be "json", "query", "param" or "header"');
  }
  if (!isSchema(schema)) {
    throw new TypeError("Invalid validate schema: must be a zod schema with safeParseAsync()");
  }
  const pointerPrefix = target === "json" ? "" : `/${target}`;
  const check = validator(target, async (value: unknown): Promise<unknown> => {
    const result = await schema.safeParseAsync(value);
    if (!result.success) throw fromZod(result.error, { pointerPrefix });
    return result.data;
  });
  return async function validateMiddleware(c, next): Promise<Response | void> {
    // Hono's validator parses the body before it validates and calls next(): an HTTPException
    // before that point is its "Malformed JSON" 400, never something thrown further down.
    let validated = false;
    try {
      return await check(c, () => {
        validated = true;
        return next();
      });
    } catch (error) {
      if (!validated && error instanceof HTTPException && error.status === 400) {
        throw bodyError(error, await bodyText(c));
      }
      throw error;
    }
  } as MiddlewareHandler<E, P, ValidateInput<Target, Schema>>;
}

async function bodyText(c: { req: { text(): Promise<string> } }): Promise<string> {
  try {
    return await c.req.text();
  } catch {
    return "";
  }
}

function bodyError(error: HTTPException, text: string): AppError {
  return invalidJson(error, text.trim() === "");
}
