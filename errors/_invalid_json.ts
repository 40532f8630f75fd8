// The 400 `invalid_json` answer for a request body that does not parse, and how to tell a body
// parse failure from any other SyntaxError.
import type { Context } from "hono";
import { AppError } from "./app_error.ts";

/** The 400 `invalid_json` error; `cause` is the parser's error (its text can quote the body). */
export function invalidJson(cause: unknown, empty: boolean): AppError {
  return new AppError(
    empty ? "The request body is empty; expected JSON" : "The request body is not valid JSON",
    { status: 400, code: "invalid_json", cause },
  );
}

/**
 * Whether `error` is what `await c.req.json()` threw for this request's body. Hono's `json()`
 * is `JSON.parse` of the body text it caches, so the body must have been read through
 * `c.req`, and parsing that same text again must fail with the very same message: a
 * SyntaxError from application code parsing anything else does not qualify.
 *
 * @returns The `invalid_json` error to render, or `undefined` when `error` is something else.
 */
export async function bodyParseError(error: unknown, c: Context): Promise<AppError | undefined> {
  try {
    if (!(error instanceof SyntaxError)) return undefined;
    if (Object.keys(c.req.bodyCache).length === 0) return undefined;
    const text = await c.req.text();
    try {
      JSON.parse(text);
    } catch (again) {
      if (again instanceof SyntaxError && again.message === error.message) {
        return invalidJson(error, text.trim() === "");
      }
    }
    return undefined;
  } catch {
    // A body that cannot be read again did not come through c.req.json().
    return undefined;
  }
}

/** Whether `error` could be a body parse failure worth checking (cheap, synchronous). */
export function maybeBodyParseError(error: unknown, c: Context): boolean {
  try {
    return error instanceof SyntaxError && Object.keys(c.req.bodyCache).length > 0;
  } catch {
    return false;
  }
}
