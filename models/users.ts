import { z } from "zod";
import type postgres from "postgres";
import { type Role, RoleSchema } from "@plinth/rbac";
import { validationFailed } from "@plinth/errors";
import {
  checkViolation,
  foreignKeyViolation,
  listPage,
  parseInput,
  timestamp,
  uniqueViolation,
  uuid,
} from "./_common.ts";
import { ModelsError } from "./models_error.ts";
import type { ListOptions, Page } from "./pagination.ts";
import type { Sql } from "./sql.ts";

/**
 * The statuses of a user: `active` or `suspended`.
 *
 * @example
 * ```ts
 * import { USER_STATUSES } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(USER_STATUSES, ["active", "suspended"]);
 * ```
 */
export const USER_STATUSES: readonly ["active", "suspended"] = Object.freeze(
  ["active", "suspended"] as const,
);

/**
 * A user's status.
 *
 * @example
 * ```ts
 * import type { UserStatus } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const status: UserStatus = "active";
 * assert.equal(status, "active");
 * ```
 */
export type UserStatus = typeof USER_STATUSES[number];

/**
 * A user as stored and as sent on the wire. A `system_admin` belongs to no organisation
 * (`org_id` is `null`); every other role to exactly one.
 *
 * @example
 * ```ts
 * import type { User } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const admin: User = {
 *   id: "0b6c3c38-7d1e-4a43-9b0e-6a0f4d1c2e3f", org_id: null, email: "root@example.com",
 *   name: "Root", role: "system_admin", status: "active", created_at: new Date(), updated_at: new Date(),
 * };
 * assert.equal(admin.org_id, null);
 * ```
 */
export interface User {
  /** The id, a UUID the database assigns. */
  id: string;
  /** The organisation; `null` for a system administrator. */
  org_id: string | null;
  /** The e-mail address, unique without regard to case, as first written. */
  email: string;
  /** The name people read, 1 to 200 characters. */
  name: string;
  /** The role, one of `ROLES` of `@plinth/rbac`. */
  role: Role;
  /** `active` or `suspended`. */
  status: UserStatus;
  /** When it was created. */
  created_at: Date;
  /** When it last changed (set by the database). */
  updated_at: Date;
}

/**
 * What a client may send to create a user: no `id` or timestamps.
 *
 * @example
 * ```ts
 * import type { CreateUser } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const input: CreateUser = {
 *   org_id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c", email: "ann@acme.test", name: "Ann", role: "org_admin",
 * };
 * assert.equal(input.role, "org_admin");
 * ```
 */
export interface CreateUser {
  /** The organisation; `null` (or absent) exactly for a `system_admin`. @default {null} */
  org_id?: string | null | undefined;
  /** The e-mail address. */
  email: string;
  /** The name. */
  name: string;
  /** The role. */
  role: Role;
  /** The initial status. @default {"active"} */
  status?: UserStatus | undefined;
}

/**
 * zod schema of a {@linkcode UserStatus}.
 *
 * @example
 * ```ts
 * import { UserStatusSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * assert.equal(UserStatusSchema.parse("suspended"), "suspended");
 * ```
 */
export const UserStatusSchema: z.ZodType<UserStatus> = z.enum(USER_STATUSES);

const email = z.string().max(254).regex(/^[^@\s]+@[^@\s]+$/, "must be an e-mail address");
const userName = z.string().min(1).max(200);

function adminHasNoOrg(user: { role: Role; org_id?: string | null | undefined }): boolean {
  return (user.role === "system_admin") === (user.org_id === null || user.org_id === undefined);
}
const ORG_RULE = {
  message: "must be null exactly when role is system_admin",
  path: ["org_id"],
};

/**
 * zod schema of a stored {@linkcode User}; refuses a `system_admin` with an organisation and
 * anyone else without one.
 *
 * @example
 * ```ts
 * import { UserSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const user = {
 *   id: "0b6c3c38-7d1e-4a43-9b0e-6a0f4d1c2e3f", org_id: null, email: "root@example.com",
 *   name: "Root", role: "system_admin", status: "active",
 *   created_at: "2026-12-01T00:00:00Z", updated_at: "2026-12-01T00:00:00Z",
 * };
 * assert.equal(UserSchema.safeParse(user).success, true);
 * assert.equal(UserSchema.safeParse({ ...user, role: "org_user" }).success, false);
 * ```
 */
export const UserSchema: z.ZodType<User> = z.strictObject({
  id: uuid,
  org_id: uuid.nullable(),
  email,
  name: userName,
  role: RoleSchema,
  status: UserStatusSchema,
  created_at: timestamp,
  updated_at: timestamp,
}).refine(adminHasNoOrg, ORG_RULE);

/**
 * zod schema of {@linkcode CreateUser}: refuses `id`, timestamps, unknown fields and roles, a
 * malformed e-mail, and an organisation that does not fit the role.
 *
 * @example
 * ```ts
 * import { CreateUserSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * assert.equal(CreateUserSchema.safeParse({ email: "a@b.c", name: "A", role: "root" }).success, false);
 * assert.equal(CreateUserSchema.safeParse({ email: "a@b.c", name: "A", role: "system_admin" }).success, true);
 * ```
 */
export const CreateUserSchema: z.ZodType<CreateUser> = z.strictObject({
  org_id: uuid.nullable().optional(),
  email,
  name: userName,
  role: RoleSchema,
  status: UserStatusSchema.optional(),
}).refine(adminHasNoOrg, ORG_RULE);

/**
 * What a client may send to change a user: any of name, e-mail, organisation role and status,
 * at least one. No `id`, timestamps or organisation; the role moves between `org_admin` and
 * `org_user` only (a `system_admin` has no organisation, so becoming one, or ceasing to be one,
 * is not an update).
 *
 * @example
 * ```ts
 * import type { UpdateUser } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const change: UpdateUser = { role: "org_admin" };
 * assert.equal(change.email, undefined);
 * ```
 */
export interface UpdateUser {
  /** A new name. @default {unchanged} */
  name?: string | undefined;
  /** A new e-mail address (unique without regard to case). @default {unchanged} */
  email?: string | undefined;
  /** A new role in the user's organisation. @default {unchanged} */
  role?: Exclude<Role, "system_admin"> | undefined;
  /** A new status. @default {unchanged} */
  status?: UserStatus | undefined;
}

/**
 * zod schema of {@linkcode UpdateUser}: refuses an empty change, `id`, `org_id`, timestamps,
 * `system_admin`, unknown roles and fields, and a malformed e-mail.
 *
 * @example
 * ```ts
 * import { UpdateUserSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * assert.equal(UpdateUserSchema.safeParse({ status: "suspended" }).success, true);
 * assert.equal(UpdateUserSchema.safeParse({ role: "system_admin" }).success, false);
 * assert.equal(UpdateUserSchema.safeParse({ id: "0b6c3c38-7d1e-4a43-9b0e-6a0f4d1c2e3f" }).success, false);
 * ```
 */
export const UpdateUserSchema: z.ZodType<UpdateUser> = z.strictObject({
  name: userName.optional(),
  email: email.optional(),
  role: RoleSchema.exclude(["system_admin"]).optional(),
  status: UserStatusSchema.optional(),
}).refine((change) => Object.values(change).some((v) => v !== undefined), {
  message: "must change at least one field",
});

function columns(sql: Sql): postgres.PendingQuery<postgres.Row[]> {
  return (sql as postgres.Sql)`id::text, org_id::text, email, name, role, status, created_at, updated_at`;
}

function notFound(action: string): ModelsError {
  return new ModelsError(`Cannot ${action}: no user has this id`, { code: "user_not_found" });
}

/**
 * Creates a user.
 *
 * @param sql A postgres.js `sql`.
 * @param input Organisation, e-mail, name, role, status ({@linkcode CreateUserSchema}).
 * @returns The stored user.
 * @throws {AppError} `validation_failed` (422) when `input` fails the schema.
 * @throws {ModelsError} `email_taken` when another user has the e-mail (in any case),
 * `organization_not_found` when `org_id` names no organisation.
 *
 * @example
 * ```ts
 * import { createUser } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * // Checked before any query: a system administrator has no organisation.
 * await assert.rejects(
 *   createUser({} as never, { org_id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c", email: "a@b.c", name: "A", role: "system_admin" }),
 *   { code: "validation_failed" },
 * );
 * ```
 */
export async function createUser(sql: Sql, input: CreateUser): Promise<User> {
  const data = parseInput(CreateUserSchema, input);
  try {
    const [row] = await (sql as postgres.Sql)`insert into users (org_id, email, name, role, status)
      values (${data.org_id ?? null}, ${data.email}, ${data.name}, ${data.role}, ${
      data.status ?? "active"
    }) returning ${columns(sql)}`;
    return row as User;
  } catch (error) {
    if (uniqueViolation(error, "users_email_key")) {
      throw new ModelsError("Cannot create user: the e-mail address is taken", {
        code: "email_taken",
        cause: error,
      });
    }
    if (foreignKeyViolation(error, "users_org_id_fkey")) {
      throw new ModelsError("Cannot create user: no organisation has this id", {
        code: "organization_not_found",
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Reads a user.
 *
 * @param sql A postgres.js `sql`.
 * @param id Its id.
 * @returns The user.
 * @throws {ModelsError} `user_not_found`.
 *
 * @example
 * ```ts
 * import { getUser } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(getUser({} as never, "not-a-uuid"), { code: "user_not_found" });
 * ```
 */
export async function getUser(sql: Sql, id: string): Promise<User> {
  if (!uuid.safeParse(id).success) throw notFound("get user");
  const [row] = await (sql as postgres.Sql)`select ${columns(sql)} from users where id = ${id}`;
  if (row === undefined) throw notFound("get user");
  return row as User;
}

/**
 * Finds a user by e-mail address, without regard to case (through the unique index on
 * `lower(email)`).
 *
 * @param sql A postgres.js `sql`.
 * @param address The e-mail address.
 * @returns The user, or `null`.
 * @throws {TypeError} When `address` is not a string.
 *
 * @example
 * ```ts
 * import { findUserByEmail } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(findUserByEmail({} as never, 42 as never), TypeError);
 * ```
 */
export async function findUserByEmail(sql: Sql, address: string): Promise<User | null> {
  if (typeof address !== "string") {
    throw new TypeError("Cannot find user by e-mail: address must be a string");
  }
  const [row] = await (sql as postgres.Sql)`select ${columns(sql)} from users
    where lower(email) = lower(${address})`;
  return (row as User | undefined) ?? null;
}

/**
 * Lists the users of one organisation by id, one keyset page at a time.
 *
 * @param sql A postgres.js `sql`.
 * @param orgId The organisation.
 * @param options `after` (the previous page's `next`) and `limit`.
 * @returns The page.
 * @throws {TypeError} When `orgId` or `after` is not a UUID.
 * @throws {RangeError} When `limit` is not an integer from 1 to 1000.
 *
 * @example
 * ```ts
 * import { listUsers } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(listUsers({} as never, "acme"), TypeError);
 * ```
 */
export async function listUsers(
  sql: Sql,
  orgId: string,
  options: ListOptions = {},
): Promise<Page<User>> {
  if (!uuid.safeParse(orgId).success) {
    throw new TypeError("Cannot list users: orgId must be a UUID");
  }
  return await listPage(sql, "list users", "users", columns, orgId, options);
}

/**
 * Sets a user's status.
 *
 * @param sql A postgres.js `sql`.
 * @param id Its id.
 * @param status The new status.
 * @returns The updated user.
 * @throws {TypeError} When `status` is not a {@linkcode UserStatus}.
 * @throws {ModelsError} `user_not_found`.
 *
 * @example
 * ```ts
 * import { updateUserStatus } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(updateUserStatus({} as never, "x", "banned" as never), TypeError);
 * ```
 */
export async function updateUserStatus(sql: Sql, id: string, status: UserStatus): Promise<User> {
  if (!USER_STATUSES.includes(status)) {
    throw new TypeError("Cannot update user status: status must be one of USER_STATUSES");
  }
  if (!uuid.safeParse(id).success) throw notFound("update user status");
  const [row] = await (sql as postgres.Sql)`update users set status = ${status}
    where id = ${id} returning ${columns(sql)}`;
  if (row === undefined) throw notFound("update user status");
  return row as User;
}

/**
 * Changes a user's name, e-mail, organisation role or status (the fields given; the others are
 * kept). `updated_at` is set by the database.
 *
 * @param sql A postgres.js `sql`.
 * @param id Its id.
 * @param input The change ({@linkcode UpdateUserSchema}).
 * @returns The updated user.
 * @throws {AppError} `validation_failed` (422) when `input` fails the schema, or gives a
 * `system_admin` an organisation role.
 * @throws {ModelsError} `user_not_found`, `email_taken` (another user has the e-mail, in any case).
 *
 * @example
 * ```ts
 * import { updateUser } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   updateUser({} as never, "0b6c3c38-7d1e-4a43-9b0e-6a0f4d1c2e3f", { email: "not an address" }),
 *   { code: "validation_failed" },
 * );
 * ```
 */
export async function updateUser(sql: Sql, id: string, input: UpdateUser): Promise<User> {
  const data = parseInput(UpdateUserSchema, input);
  if (!uuid.safeParse(id).success) throw notFound("update user");
  try {
    const [row] = await (sql as postgres.Sql)`update users set
        name = coalesce(${data.name ?? null}::text, name),
        email = coalesce(${data.email ?? null}::text, email),
        role = coalesce(${data.role ?? null}::text, role),
        status = coalesce(${data.status ?? null}::text, status)
      where id = ${id} returning ${columns(sql)}`;
    if (row === undefined) throw notFound("update user");
    return row as User;
  } catch (error) {
    if (uniqueViolation(error, "users_email_key")) {
      throw new ModelsError("Cannot update user: the e-mail address is taken", {
        code: "email_taken",
        cause: error,
      });
    }
    if (checkViolation(error, "users_org_matches_role")) {
      throw validationFailed("Cannot update user: a system_admin has no organisation role", {
        errors: [{ pointer: "/role", detail: "must stay system_admin for a system administrator" }],
        cause: error,
      });
    }
    throw error;
  }
}
