import { z } from "zod";
import type postgres from "postgres";
import { listPage, parseInput, timestamp, tokenCount, uniqueViolation, uuid } from "./_common.ts";
import { ModelsError } from "./models_error.ts";
import type { Sql } from "./sql.ts";
import type { ListOptions, Page } from "./pagination.ts";

/**
 * The statuses of an organisation: `active`, or `suspended` (its keys and members are refused,
 * and it cannot be charged).
 *
 * @example
 * ```ts
 * import { ORGANIZATION_STATUSES } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(ORGANIZATION_STATUSES, ["active", "suspended"]);
 * ```
 */
export const ORGANIZATION_STATUSES: readonly ["active", "suspended"] = Object.freeze(
  ["active", "suspended"] as const,
);

/**
 * An organisation's status.
 *
 * @example
 * ```ts
 * import type { OrganizationStatus } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const status: OrganizationStatus = "suspended";
 * assert.equal(status, "suspended");
 * ```
 */
export type OrganizationStatus = typeof ORGANIZATION_STATUSES[number];

/**
 * An organisation as stored and as sent on the wire (snake_case; timestamps are `Date`s here and
 * ISO 8601 strings in JSON).
 *
 * @example
 * ```ts
 * import type { Organization } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const org: Organization = {
 *   id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c", name: "acme", display_name: "Acme Inc.",
 *   budget_tokens_monthly: 1_000_000, tokens_used_current_month: 0, usage_period: "2026-12",
 *   status: "active", created_at: new Date(), updated_at: new Date(),
 * };
 * assert.equal(org.name, "acme");
 * ```
 */
export interface Organization {
  /** The id, a UUID the database assigns. */
  id: string;
  /** Unique lower-case slug: letters, digits and `-`, 2 to 63 characters. */
  name: string;
  /** The name people read, 1 to 200 characters. */
  display_name: string;
  /** Tokens the organisation may use per calendar month (UTC); 0 refuses every charge. */
  budget_tokens_monthly: number;
  /** Tokens charged in `usage_period` so far; only `consumeTokens()` and the monthly reset change it. */
  tokens_used_current_month: number;
  /** The month (`YYYY-MM`, UTC) the counter belongs to. */
  usage_period: string;
  /** `active` or `suspended`. */
  status: OrganizationStatus;
  /** When it was created. */
  created_at: Date;
  /** When its name, display name, budget or status last changed (set by the database). */
  updated_at: Date;
}

/**
 * What a client may send to create an organisation: no `id`, timestamps or counter. Unknown
 * fields are refused.
 *
 * @example
 * ```ts
 * import type { CreateOrganization } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const input: CreateOrganization = { name: "acme", display_name: "Acme Inc.", budget_tokens_monthly: 10_000 };
 * assert.equal(input.status, undefined);
 * ```
 */
export interface CreateOrganization {
  /** Unique lower-case slug. */
  name: string;
  /** The name people read. */
  display_name: string;
  /** Monthly token budget. @default {0} */
  budget_tokens_monthly?: number | undefined;
  /** The initial status. @default {"active"} */
  status?: OrganizationStatus | undefined;
}

/**
 * zod schema of an {@linkcode OrganizationStatus}.
 *
 * @example
 * ```ts
 * import { OrganizationStatusSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * assert.equal(OrganizationStatusSchema.safeParse("deleted").success, false);
 * ```
 */
export const OrganizationStatusSchema: z.ZodType<OrganizationStatus> = z.enum(
  ORGANIZATION_STATUSES,
);

const name = z.string().regex(
  /^[a-z0-9][a-z0-9-]{1,62}$/,
  "must be 2 to 63 lower-case letters, digits or -",
);
const displayName = z.string().min(1).max(200);

/**
 * zod schema of a stored {@linkcode Organization} (a row, or its JSON: timestamps as `Date`s
 * or ISO 8601 strings). Unknown fields are refused.
 *
 * @example
 * ```ts
 * import { OrganizationSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const org = OrganizationSchema.parse({
 *   id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c", name: "acme", display_name: "Acme Inc.",
 *   budget_tokens_monthly: 1000, tokens_used_current_month: 10, usage_period: "2026-12",
 *   status: "active", created_at: "2026-12-01T00:00:00Z", updated_at: "2026-12-01T00:00:00Z",
 * });
 * assert.ok(org.created_at instanceof Date);
 * assert.equal(OrganizationSchema.safeParse({ ...org, budget_tokens_monthly: -1 }).success, false);
 * ```
 */
export const OrganizationSchema: z.ZodType<Organization> = z.strictObject({
  id: uuid,
  name,
  display_name: displayName,
  budget_tokens_monthly: tokenCount,
  tokens_used_current_month: tokenCount,
  usage_period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be YYYY-MM"),
  status: OrganizationStatusSchema,
  created_at: timestamp,
  updated_at: timestamp,
});

/**
 * zod schema of {@linkcode CreateOrganization}: refuses `id`, `created_at`, `updated_at`,
 * `tokens_used_current_month` and any other unknown field.
 *
 * @example
 * ```ts
 * import { CreateOrganizationSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * assert.equal(CreateOrganizationSchema.safeParse({ name: "acme", display_name: "Acme" }).success, true);
 * assert.equal(
 *   CreateOrganizationSchema.safeParse({ name: "acme", display_name: "Acme", tokens_used_current_month: 0 }).success,
 *   false,
 * );
 * ```
 */
export const CreateOrganizationSchema: z.ZodType<CreateOrganization> = z.strictObject({
  name,
  display_name: displayName,
  budget_tokens_monthly: tokenCount.optional(),
  status: OrganizationStatusSchema.optional(),
});

/**
 * What a client may send to change an organisation: any of its name, display name, budget and
 * status, at least one. No `id`, timestamps, counter or period: the counter changes only through
 * `consumeTokens()` and the monthly reset.
 *
 * @example
 * ```ts
 * import type { UpdateOrganization } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const change: UpdateOrganization = { budget_tokens_monthly: 2_000_000 };
 * assert.equal(change.status, undefined);
 * ```
 */
export interface UpdateOrganization {
  /** A new unique slug. @default {unchanged} */
  name?: string | undefined;
  /** A new display name. @default {unchanged} */
  display_name?: string | undefined;
  /** A new monthly budget (below the tokens already used, it refuses every further charge this month). @default {unchanged} */
  budget_tokens_monthly?: number | undefined;
  /** A new status. @default {unchanged} */
  status?: OrganizationStatus | undefined;
}

/**
 * zod schema of {@linkcode UpdateOrganization}: refuses an empty change, `id`, timestamps,
 * `tokens_used_current_month`, `usage_period` and any other unknown field.
 *
 * @example
 * ```ts
 * import { UpdateOrganizationSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * assert.equal(UpdateOrganizationSchema.safeParse({ budget_tokens_monthly: 500 }).success, true);
 * assert.equal(UpdateOrganizationSchema.safeParse({}).success, false);
 * assert.equal(UpdateOrganizationSchema.safeParse({ tokens_used_current_month: 0 }).success, false);
 * ```
 */
export const UpdateOrganizationSchema: z.ZodType<UpdateOrganization> = z.strictObject({
  name: name.optional(),
  display_name: displayName.optional(),
  budget_tokens_monthly: tokenCount.optional(),
  status: OrganizationStatusSchema.optional(),
}).refine((change) => Object.values(change).some((v) => v !== undefined), {
  message: "must change at least one field",
});

type Row = Record<string, unknown>;

/** The select list of an organisation row, numbers as JavaScript numbers. */
function columns(sql: Sql): postgres.PendingQuery<postgres.Row[]> {
  return (sql as postgres.Sql)`id::text, name, display_name,
    budget_tokens_monthly::float8 as budget_tokens_monthly,
    tokens_used_current_month::float8 as tokens_used_current_month,
    to_char(usage_period, 'YYYY-MM') as usage_period, status, created_at, updated_at`;
}

function toOrganization(row: Row | undefined): Organization | undefined {
  return row as Organization | undefined;
}

function notFound(action: string, cause?: unknown): ModelsError {
  return new ModelsError(`Cannot ${action}: no organisation has this id`, {
    code: "organization_not_found",
    cause,
  });
}

/**
 * Creates an organisation.
 *
 * @param sql A postgres.js `sql`.
 * @param input The name, display name, budget and status ({@linkcode CreateOrganizationSchema}).
 * @returns The stored organisation.
 * @throws {AppError} `validation_failed` (422) when `input` fails the schema.
 * @throws {ModelsError} `organization_name_taken` when the name is used.
 *
 * @example
 * ```ts
 * import { connectDatabase, runMigrations } from "@plinth/database";
 * import { createOrganization, getOrganization, MODELS_MIGRATIONS, updateOrganizationStatus } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const schema = `doc_${crypto.randomUUID().replaceAll("-", "")}`;
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 1, connection: { search_path: schema } },
 * );
 * await db.sql.unsafe(`create schema ${schema}`);
 * try {
 *   await runMigrations(db, { dir: MODELS_MIGRATIONS });
 *   const org = await createOrganization(db.sql, { name: "acme", display_name: "Acme", budget_tokens_monthly: 100 });
 *   assert.equal(org.tokens_used_current_month, 0);
 *   assert.deepEqual(await getOrganization(db.sql, org.id), org);
 *   assert.equal((await updateOrganizationStatus(db.sql, org.id, "suspended")).status, "suspended");
 *   await assert.rejects(createOrganization(db.sql, { name: "acme", display_name: "Again" }), {
 *     code: "organization_name_taken",
 *   });
 * } finally {
 *   await db.sql.unsafe(`drop schema ${schema} cascade`);
 * }
 * ```
 */
export async function createOrganization(
  sql: Sql,
  input: CreateOrganization,
): Promise<Organization> {
  const data = parseInput(CreateOrganizationSchema, input);
  const q = sql as postgres.Sql;
  try {
    const [row] =
      await q`insert into organizations (name, display_name, budget_tokens_monthly, status)
      values (${data.name}, ${data.display_name}, ${data.budget_tokens_monthly ?? 0}, ${
        data.status ?? "active"
      })
      returning ${columns(sql)}`;
    return toOrganization(row) as Organization;
  } catch (error) {
    if (uniqueViolation(error, "organizations_name_key")) {
      throw new ModelsError("Cannot create organisation: the name is taken", {
        code: "organization_name_taken",
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Reads an organisation.
 *
 * @param sql A postgres.js `sql`.
 * @param id Its id.
 * @returns The organisation.
 * @throws {ModelsError} `organization_not_found` when no organisation has this id (or it is not a UUID).
 *
 * @example
 * ```ts
 * import { getOrganization } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * // an id that is not a UUID cannot name an organisation: no query is sent
 * await assert.rejects(getOrganization({} as never, "acme"), { code: "organization_not_found" });
 * ```
 */
export async function getOrganization(sql: Sql, id: string): Promise<Organization> {
  if (!uuid.safeParse(id).success) throw notFound("get organisation");
  const [row] = await (sql as postgres.Sql)`select ${
    columns(sql)
  } from organizations where id = ${id}`;
  if (row === undefined) throw notFound("get organisation");
  return toOrganization(row) as Organization;
}

/**
 * Lists organisations by id, one keyset page at a time (no `OFFSET`: every page costs the same).
 *
 * @param sql A postgres.js `sql`.
 * @param options `after` (the previous page's `next`) and `limit`.
 * @returns The page.
 * @throws {TypeError} When `after` is not a UUID.
 * @throws {RangeError} When `limit` is not an integer from 1 to 1000.
 *
 * @example
 * ```ts
 * import { listOrganizations } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(listOrganizations({} as never, { limit: 0 }), RangeError);
 * ```
 */
export async function listOrganizations(
  sql: Sql,
  options: ListOptions = {},
): Promise<Page<Organization>> {
  return await listPage(sql, "list organisations", "organizations", columns, null, options);
}

/**
 * Sets an organisation's status (suspending one stops its charges at once).
 *
 * @param sql A postgres.js `sql`.
 * @param id Its id.
 * @param status The new status.
 * @returns The updated organisation.
 * @throws {TypeError} When `status` is not an {@linkcode OrganizationStatus}.
 * @throws {ModelsError} `organization_not_found`.
 *
 * @example
 * ```ts
 * import { updateOrganizationStatus } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(updateOrganizationStatus({} as never, "x", "gone" as never), TypeError);
 * ```
 */
export async function updateOrganizationStatus(
  sql: Sql,
  id: string,
  status: OrganizationStatus,
): Promise<Organization> {
  if (!ORGANIZATION_STATUSES.includes(status)) {
    throw new TypeError(
      "Cannot update organisation status: status must be one of ORGANIZATION_STATUSES",
    );
  }
  if (!uuid.safeParse(id).success) throw notFound("update organisation status");
  const [row] = await (sql as postgres.Sql)`update organizations set status = ${status}
    where id = ${id} returning ${columns(sql)}`;
  if (row === undefined) throw notFound("update organisation status");
  return toOrganization(row) as Organization;
}

/**
 * Changes an organisation's name, display name, budget or status (the fields given; the others
 * are kept). `updated_at` is set by the database.
 *
 * @param sql A postgres.js `sql`.
 * @param id Its id.
 * @param input The change ({@linkcode UpdateOrganizationSchema}).
 * @returns The updated organisation.
 * @throws {AppError} `validation_failed` (422) when `input` fails the schema.
 * @throws {ModelsError} `organization_not_found`, `organization_name_taken`.
 *
 * @example
 * ```ts
 * import { updateOrganization } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * // checked before any query: the counter is not a client's to set
 * await assert.rejects(
 *   updateOrganization({} as never, "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c", { tokens_used_current_month: 0 } as never),
 *   { code: "validation_failed", status: 422 },
 * );
 * ```
 */
export async function updateOrganization(
  sql: Sql,
  id: string,
  input: UpdateOrganization,
): Promise<Organization> {
  const data = parseInput(UpdateOrganizationSchema, input);
  if (!uuid.safeParse(id).success) throw notFound("update organisation");
  try {
    const [row] = await (sql as postgres.Sql)`update organizations set
        name = coalesce(${data.name ?? null}::text, name),
        display_name = coalesce(${data.display_name ?? null}::text, display_name),
        budget_tokens_monthly = coalesce(${
      data.budget_tokens_monthly ?? null
    }::bigint, budget_tokens_monthly),
        status = coalesce(${data.status ?? null}::text, status)
      where id = ${id} returning ${columns(sql)}`;
    if (row === undefined) throw notFound("update organisation");
    return toOrganization(row) as Organization;
  } catch (error) {
    if (uniqueViolation(error, "organizations_name_key")) {
      throw new ModelsError("Cannot update organisation: the name is taken", {
        code: "organization_name_taken",
        cause: error,
      });
    }
    throw error;
  }
}
