import { AppError } from "@plinth/errors";

/**
 * Why a models query refused: the stable `code` of a {@linkcode ModelsError}.
 *
 * - `organization_not_found` (404), `user_not_found` (404), `api_key_not_found` (404): no row
 *   with that id.
 * - `organization_inactive` (403): the organisation is suspended; it cannot be charged.
 * - `organization_name_taken` (409), `email_taken` (409): the unique name or e-mail (compared
 *   without case) belongs to another row.
 *
 * A spent budget is `budget_exceeded` (429), the `budgetExceeded()` error of `@plinth/errors`;
 * input that fails a schema is its `validation_failed` (422).
 *
 * @example
 * ```ts
 * import { ModelsError, type ModelsErrorCode } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const code: ModelsErrorCode = "email_taken";
 * assert.equal(new ModelsError("Cannot create user: e-mail taken", { code }).status, 409);
 * ```
 */
export type ModelsErrorCode =
  | "organization_not_found"
  | "user_not_found"
  | "api_key_not_found"
  | "organization_inactive"
  | "organization_name_taken"
  | "email_taken";

const STATUS: Readonly<Record<ModelsErrorCode, 403 | 404 | 409>> = {
  organization_not_found: 404,
  user_not_found: 404,
  api_key_not_found: 404,
  organization_inactive: 403,
  organization_name_taken: 409,
  email_taken: 409,
};

/**
 * Every {@linkcode ModelsErrorCode}, frozen, in the order of the README's error codes table.
 *
 * @example
 * ```ts
 * import { MODELS_ERROR_CODES } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * assert.ok(MODELS_ERROR_CODES.includes("organization_inactive"));
 * assert.ok(Object.isFrozen(MODELS_ERROR_CODES));
 * ```
 */
export const MODELS_ERROR_CODES: readonly ModelsErrorCode[] = Object.freeze(
  Object.keys(STATUS) as ModelsErrorCode[],
);

/**
 * Options of {@linkcode ModelsError}.
 *
 * @example
 * ```ts
 * import { ModelsError, type ModelsErrorOptions } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const options: ModelsErrorOptions = { code: "user_not_found" };
 * assert.equal(new ModelsError("Cannot get user", options).status, 404);
 * ```
 */
export interface ModelsErrorOptions {
  /** Why the query refused; sets the status. */
  readonly code: ModelsErrorCode;
  /** The error behind this one (the driver's unique violation, say). @default {undefined} */
  readonly cause?: unknown;
}

/**
 * A refusal of a models query: an {@linkcode AppError} with a stable `code` and its status.
 *
 * @example
 * ```ts
 * import { ModelsError } from "@plinth/models";
 * import { isAppError } from "@plinth/errors";
 * import assert from "node:assert/strict";
 *
 * const error = new ModelsError("Cannot get organisation: no such id", { code: "organization_not_found" });
 * assert.equal(error.name, "ModelsError");
 * assert.equal(error.status, 404);
 * assert.equal(isAppError(error), true);
 * ```
 */
export class ModelsError extends AppError {
  /** Why the query refused. */
  declare readonly code: ModelsErrorCode;

  /**
   * Creates a models error.
   *
   * @param message Text for logs.
   * @param options The `code`, and the `cause`.
   * @throws {TypeError} When `message` is not a string or `code` is not a {@linkcode ModelsErrorCode}.
   */
  constructor(message: string, options: ModelsErrorOptions) {
    if (typeof message !== "string") {
      throw new TypeError("Cannot create ModelsError: message must be a string");
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError("Cannot create ModelsError: options must be an object with a code");
    }
    const code = options.code;
    if (typeof code !== "string" || !Object.hasOwn(STATUS, code)) {
      throw new TypeError("Cannot create ModelsError: code must be one of MODELS_ERROR_CODES");
    }
    super(message, { status: STATUS[code], code, cause: options.cause });
    this.name = "ModelsError";
  }
}
