import { AppError, type FieldError } from "./app_error.ts";
import { read } from "./_inspect.ts";

/**
 * The parts of a zod issue that {@linkcode fromZod} reads. Structural, so zod is not a
 * dependency of this package; a zod v4 `ZodError`'s `issues` match it.
 *
 * @example
 * ```ts
 * import { fromZod, type ZodIssueLike } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const issue: ZodIssueLike = { code: "too_small", path: ["name"] };
 * assert.equal(fromZod({ issues: [issue] }).toProblem().errors?.[0]?.pointer, "/name");
 * ```
 */
export interface ZodIssueLike {
  /** The issue kind (`invalid_type`, `too_small`, …). */
  readonly code: string;
  /** Where in the input the issue is. */
  readonly path: readonly PropertyKey[];
}

/**
 * Anything with zod's `issues` list: a `ZodError`, or `safeParse(...).error`.
 *
 * @example
 * ```ts
 * import { fromZod, type ZodErrorLike } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error: ZodErrorLike = { issues: [{ code: "custom", path: ["items", 2] }] };
 * assert.deepEqual(fromZod(error).toProblem().errors, [{ pointer: "/items/2", detail: "Is invalid" }]);
 * ```
 */
export interface ZodErrorLike {
  /** The issues, one per problem found. */
  readonly issues: readonly ZodIssueLike[];
}

/**
 * Options of {@linkcode fromZod}.
 *
 * @example
 * ```ts
 * import { fromZod, type FromZodOptions } from "@plinth/errors";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const options: FromZodOptions = { status: 400, pointerPrefix: "/query", code: "invalid_query" };
 * const result = z.object({ page: z.number() }).safeParse({});
 * assert.equal(result.success, false);
 * const error = fromZod(result.error, options);
 * assert.equal(error.status, 400);
 * assert.equal(error.toProblem().errors?.[0]?.pointer, "/query/page");
 * ```
 */
export interface FromZodOptions {
  /** 422 for a well-formed but invalid body, 400 for a malformed query or header. @default {422} */
  readonly status?: 400 | 422 | undefined;
  /** The error's message (and the problem's `detail`). @default {"The request is invalid"} */
  readonly message?: string | undefined;
  /** Machine code. @default {"validation_failed"} */
  readonly code?: string | undefined;
  /** Pointer prefix for where the validated value sits, e.g. `"/query"`. @default {""} */
  readonly pointerPrefix?: string | undefined;
  /**
   * Your own wording for an issue; return `undefined` to use plinth's. It receives the raw zod
   * issue, so do not echo its `input`. @default {undefined}
   */
  readonly formatIssue?: ((issue: ZodIssueLike) => string | undefined) | undefined;
}

/** Escapes one path segment for a JSON Pointer (RFC 6901: `~` → `~0`, `/` → `~1`). */
function escapeSegment(segment: PropertyKey): string {
  const text = typeof segment === "symbol" ? segment.description ?? "" : String(segment);
  return text.replaceAll("~", "~0").replaceAll("/", "~1");
}

const ORIGIN_UNITS: Readonly<Record<string, string>> = {
  string: "characters",
  array: "items",
  set: "items",
  file: "bytes",
};

function bound(issue: ZodIssueLike, key: "minimum" | "maximum", small: boolean): string {
  const limit = read(issue, key);
  const inclusive = read(issue, "inclusive") !== false;
  const origin = String(read(issue, "origin") ?? "");
  let shown = typeof limit === "bigint" || typeof limit === "number" ? String(limit) : "the limit";
  if (origin === "date") {
    const date = new Date(limit instanceof Date ? limit.getTime() : Number(limit));
    shown = Number.isNaN(date.getTime()) ? "the limit" : date.toISOString();
  }
  const units = ORIGIN_UNITS[origin];
  if (units !== undefined) {
    if (small && Number(limit) === 1 && inclusive) return "Must not be empty";
    return `Must have ${small ? "at least" : "at most"} ${shown} ${units}`;
  }
  if (origin === "date") return `Must be ${small ? "on or after" : "on or before"} ${shown}`;
  return small
    ? `Must be ${inclusive ? "at least" : "greater than"} ${shown}`
    : `Must be ${inclusive ? "at most" : "less than"} ${shown}`;
}

function describeFormat(issue: ZodIssueLike): string {
  const format = read(issue, "format");
  switch (format) {
    case "regex":
      return "Does not match the required pattern";
    case "starts_with":
      return `Must start with ${JSON.stringify(String(read(issue, "prefix")))}`;
    case "ends_with":
      return `Must end with ${JSON.stringify(String(read(issue, "suffix")))}`;
    case "includes":
      return `Must contain ${JSON.stringify(String(read(issue, "includes")))}`;
    case "lowercase":
    case "uppercase":
      return `Must be ${format}`;
    default:
      return typeof format === "string" ? `Must be a valid ${format}` : "Has an invalid format";
  }
}

/** plinth's wording of an issue: built from its kind and the schema's rule, never the input. */
function describe(issue: ZodIssueLike): string {
  switch (issue.code) {
    case "invalid_type": {
      const expected = read(issue, "expected");
      // zod v4 keeps the input only with `reportInput`; otherwise its English message is the
      // one place that says the value was absent. It is read, never echoed.
      const missing = "input" in issue
        ? read(issue, "input") === undefined
        : /received undefined$/.test(String(read(issue, "message") ?? ""));
      if (missing) return "Is required";
      return typeof expected === "string" ? `Must be ${article(expected)}` : "Has the wrong type";
    }
    case "too_small":
      return bound(issue, "minimum", true);
    case "too_big":
      return bound(issue, "maximum", false);
    case "invalid_format":
      return describeFormat(issue);
    case "not_multiple_of":
      return `Must be a multiple of ${String(read(issue, "divisor"))}`;
    case "unrecognized_keys": {
      const keys = read(issue, "keys");
      const list = Array.isArray(keys) ? keys.slice(0, 10).map((k) => `"${String(k)}"`) : [];
      return list.length === 0 ? "Has unknown keys" : `Unknown keys: ${list.join(", ")}`;
    }
    case "invalid_value": {
      const values = read(issue, "values");
      if (Array.isArray(values) && values.length > 0 && values.length <= 20) {
        return `Must be one of: ${values.map((v) => JSON.stringify(v) ?? String(v)).join(", ")}`;
      }
      return "Is not an allowed value";
    }
    case "invalid_union":
      return "Does not match any allowed form";
    case "invalid_key":
      return "Has an invalid key";
    case "invalid_element":
      return "Has an invalid element";
    default:
      return "Is invalid";
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/**
 * Turns a zod validation error into a 422 (or 400) {@linkcode AppError} with one `errors`
 * entry per issue: a JSON Pointer to the field and plinth's own wording of the rule broken.
 * zod's message text is never used, since it can quote the rejected input.
 *
 * @param error A `ZodError` (or anything with zod's `issues`).
 * @param options Status, message, code, pointer prefix, custom wording.
 * @returns A new `AppError` whose `cause` is `error`.
 * @throws {TypeError} When `error` has no `issues` list.
 *
 * @example
 * ```ts
 * import { fromZod } from "@plinth/errors";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const CreateOrg = z.object({ name: z.string().min(1), seats: z.number().int() });
 * const result = CreateOrg.safeParse({ name: "", seats: "ten" });
 * assert.equal(result.success, false);
 * const error = fromZod(result.error);
 * assert.equal(error.status, 422);
 * assert.deepEqual(error.toProblem().errors, [
 *   { pointer: "/name", detail: "Must not be empty" },
 *   { pointer: "/seats", detail: "Must be a number" },
 * ]);
 * ```
 */
export function fromZod(error: ZodErrorLike, options: FromZodOptions = {}): AppError {
  const issues = read(error, "issues");
  if (!Array.isArray(issues)) {
    throw new TypeError("Cannot convert validation error: expected a ZodError with an issues list");
  }
  const prefix = options.pointerPrefix ?? "";
  const errors: FieldError[] = issues.map((issue: ZodIssueLike) => {
    const path = Array.isArray(issue.path) ? issue.path : [];
    const pointer = prefix + path.map((s) => `/${escapeSegment(s)}`).join("");
    let detail: string | undefined;
    if (options.formatIssue !== undefined) detail = options.formatIssue(issue);
    return { pointer, detail: detail ?? describe(issue) };
  });
  return new AppError(options.message ?? "The request is invalid", {
    status: options.status ?? 422,
    code: options.code ?? "validation_failed",
    errors,
    cause: error,
  });
}
