// Hono's HTTPException, recognised by its shape so that any copy of Hono is understood: a
// service on another Hono version loads a second copy, and `instanceof` across copies is false.
import { AppError } from "./app_error.ts";
import { genericDetail } from "./_status.ts";
import { read } from "./_inspect.ts";

/** What plinth reads from an `HTTPException` (of any Hono copy) or a look-alike. */
export interface HttpExceptionLike extends Error {
  /** The HTTP status, 400 to 599. */
  readonly status: number;
  /** The response Hono would send; only its headers are kept. */
  readonly res?: unknown;
  /** Hono's default error handler calls it. */
  getResponse(): unknown;
}

/**
 * Whether `value` looks like Hono's `HTTPException`: an `Error` with an integer `status` from
 * 400 to 599 and a `getResponse()` method. Callers check for an `AppError` first (it has both).
 */
export function isHttpExceptionLike(value: unknown): value is HttpExceptionLike {
  try {
    // Inside the try: `instanceof` runs a proxy's getPrototypeOf trap, which may throw.
    if (!(value instanceof Error)) return false;
  } catch {
    return false;
  }
  const status = read(value, "status");
  return typeof status === "number" && Number.isInteger(status) && status >= 400 &&
    status <= 599 && typeof read(value, "getResponse") === "function";
}

/** The headers of the exception's `res`, without the body's content type and length. */
function headersOf(error: HttpExceptionLike): Record<string, string> {
  const headers: Record<string, string> = {};
  const source = read(read(error, "res"), "headers");
  if (typeof read(source, "forEach") !== "function") return headers;
  try {
    (source as Headers).forEach((value, name) => {
      const key = String(name).toLowerCase();
      if (key !== "content-type" && key !== "content-length") headers[key] = String(value);
    });
  } catch {
    // Headers that cannot be read are left out; the status still answers.
  }
  return headers;
}

/**
 * The `AppError` for an `HTTPException`: its status, its headers (such as `WWW-Authenticate`),
 * its message (the detail of a 4xx) and, when it has no message, a generic detail.
 */
export function fromHttpException(error: HttpExceptionLike): AppError {
  const headers = headersOf(error);
  const status = error.status;
  const rawMessage = read(error, "message");
  const message = typeof rawMessage === "string" ? rawMessage : "";
  return new AppError(message, {
    status,
    headers,
    cause: error,
    // Hono's own middleware (bodyLimit's 413, …) often throws with no message: say something.
    ...(message === "" ? { detail: genericDetail(status) } : {}),
    ...(status === 401 && headers["www-authenticate"] !== undefined
      ? { wwwAuthenticate: headers["www-authenticate"] }
      : {}),
  });
}
