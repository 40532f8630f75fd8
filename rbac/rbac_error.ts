import { AppError } from "@plinth/errors";

/**
 * Why a request was refused: the stable `code` of an {@linkcode RbacError}, also the problem's
 * `code`. {@linkcode RBAC_ERROR_CODES} lists them all.
 *
 * - `credentials_missing` (401): no principal (`c.var.auth` unset, `null` or not an object).
 * - `permission_denied` (403): the role does not grant the permission, or the scopes do not list it.
 * - `org_access_denied` (403): the resource belongs to another organisation (or to none).
 * - `not_found` (404): the same, hidden (`requireOrgAccess` with `denyAs: "not_found"`).
 *
 * @example
 * ```ts
 * import { RbacError, type RbacErrorCode } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * const code: RbacErrorCode = "org_access_denied";
 * assert.equal(new RbacError("Organisation access denied", { code }).status, 403);
 * ```
 */
export type RbacErrorCode =
  | "credentials_missing"
  | "permission_denied"
  | "org_access_denied"
  | "not_found";

/** Each code's status and the text clients see (`detail`). */
const TABLE: Readonly<Record<RbacErrorCode, readonly [status: number, detail: string]>> = {
  credentials_missing: [401, "Authentication is required"],
  permission_denied: [403, "A permission this route needs is missing"],
  org_access_denied: [403, "The resource belongs to another organisation"],
  not_found: [404, "No such resource"],
};

/**
 * Every {@linkcode RbacErrorCode}, frozen, in the order of the README's table.
 *
 * @example
 * ```ts
 * import { RBAC_ERROR_CODES, RbacError } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * assert.ok(Object.isFrozen(RBAC_ERROR_CODES));
 * for (const code of RBAC_ERROR_CODES) {
 *   assert.ok(new RbacError("Denied", { code }).status >= 400);
 * }
 * ```
 */
export const RBAC_ERROR_CODES: readonly RbacErrorCode[] = Object.freeze(
  Object.keys(TABLE) as RbacErrorCode[],
);

/**
 * Options of {@linkcode RbacError}.
 *
 * @example
 * ```ts
 * import { RbacError, type RbacErrorOptions } from "@plinth/rbac";
 * import assert from "node:assert/strict";
 *
 * const options: RbacErrorOptions = { code: "permission_denied", permission: "create_org" };
 * const problem = new RbacError("Permission denied", options).toProblem();
 * assert.equal(problem.detail, "Permission create_org is required");
 * assert.equal(problem["permission"], "create_org");
 * ```
 */
export interface RbacErrorOptions {
  /** Why the request was refused. */
  readonly code: RbacErrorCode;
  /** The error behind this one. @default {undefined} */
  readonly cause?: unknown;
  /** HTTP status. @default {the code's status (see {@linkcode RbacErrorCode})} */
  readonly status?: number | undefined;
  /**
   * The permission that was missing: named in the `detail` and sent as the problem's
   * `permission` member. @default {undefined}
   */
  readonly permission?: string | undefined;
}

/**
 * An authorisation failure: an `AppError` of `@plinth/errors` with a stable `code`, the code's
 * HTTP status and a client-safe `detail` from a fixed table (the `message` is for logs). A 401
 * carries the bare `WWW-Authenticate: Bearer` challenge that `@plinth/auth` sends for a request
 * without credentials. Thrown by `requirePermission()` and `requireOrgAccess()` (from
 * `@plinth/rbac/hono`); `problemHandler()` of `@plinth/errors/hono`, or Hono's default error
 * handler, renders it as problem+json.
 *
 * @example
 * ```ts
 * import { RbacError } from "@plinth/rbac";
 * import { isAppError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new RbacError("Access denied: not authenticated", { code: "credentials_missing" });
 * assert.equal(error.name, "RbacError");
 * assert.equal(error.status, 401);
 * assert.equal(error.detail, "Authentication is required");
 * assert.equal(error.headers["www-authenticate"], "Bearer");
 * assert.ok(isAppError(error));
 * const res = error.getResponse();
 * assert.equal(res.headers.get("content-type"), "application/problem+json");
 * ```
 */
export class RbacError extends AppError {
  /** Why the request was refused. */
  declare readonly code: RbacErrorCode;

  /**
   * Creates an authorisation error.
   *
   * @param message What was refused, for logs.
   * @param options `code`, and optionally `cause`, `status` and the missing `permission`.
   * @throws {TypeError} When `code` is not an {@linkcode RbacErrorCode} or `permission` is not a string.
   * @throws {RangeError} When `status` is not an integer from 400 to 599.
   */
  constructor(message: string, options: RbacErrorOptions) {
    const code: unknown = options?.code;
    const entry = typeof code === "string" && Object.hasOwn(TABLE, code)
      ? TABLE[code as RbacErrorCode]
      : undefined;
    if (entry === undefined) {
      throw new TypeError("Cannot create RbacError: options.code must be an RbacErrorCode");
    }
    const permission = options.permission;
    if (permission !== undefined && typeof permission !== "string") {
      throw new TypeError("Cannot create RbacError: options.permission must be a string");
    }
    const status = options.status ?? entry[0];
    super(message, {
      code: code as RbacErrorCode,
      status,
      cause: options.cause,
      detail: permission === undefined ? entry[1] : `Permission ${permission} is required`,
      ...(permission === undefined ? {} : { extensions: { permission } }),
      // RFC 6750 §3.1: a request without credentials gets a bare challenge, as from @plinth/auth.
      ...(status === 401 ? { wwwAuthenticate: "Bearer" } : {}),
    });
    this.name = "RbacError";
  }
}
