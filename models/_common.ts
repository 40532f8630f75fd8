import { z } from "zod";
import type postgres from "postgres";
import { fromZod } from "@plinth/errors";
import { ModelsError } from "./models_error.ts";
import type { ListOptions, Page } from "./pagination.ts";
import type { Sql } from "./sql.ts";

/** A UUID in its canonical text form (any version; PostgreSQL's `uuid` type accepts it). */
export const uuid: z.ZodString = z.string().regex(
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  "must be a UUID",
);

/** A point in time: a `Date` in TypeScript, an ISO 8601 string with an offset on the wire. */
export const timestamp: z.ZodType<Date, Date | string> = z.union([
  z.date(),
  z.iso.datetime({ offset: true }).transform((text) => new Date(text)),
]);

/** A non-negative token count that fits a JavaScript number exactly. */
export const tokenCount: z.ZodNumber = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** Parses `value` with `schema`, or throws the 422 `validation_failed` AppError of `fromZod()`. */
export function parseInput<T>(schema: z.ZodType<T, unknown>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZod(result.error);
  return result.data;
}

/** Checks a page size: an integer from 1 to 1000. */
export function pageSize(where: string, limit: unknown): number {
  if (limit === undefined) return 50;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new RangeError(`Cannot ${where}: limit must be an integer from 1 to 1000`);
  }
  return limit;
}

/** Checks a keyset cursor: the last id of the previous page. */
export function cursorOf(where: string, after: unknown): string | null {
  if (after === undefined || after === null) return null;
  if (typeof after !== "string" || !uuid.safeParse(after).success) {
    throw new TypeError(
      `Cannot ${where}: after must be the id (a UUID) of the previous page's last row`,
    );
  }
  return after;
}

/** Whether a driver error is a PostgreSQL unique violation of `constraint`. */
export function uniqueViolation(error: unknown, constraint: string): boolean {
  return typeof error === "object" && error !== null &&
    (error as { code?: unknown }).code === "23505" &&
    (error as { constraint_name?: unknown }).constraint_name === constraint;
}

/** Whether a driver error is a PostgreSQL foreign-key violation of `constraint`. */
export function foreignKeyViolation(error: unknown, constraint: string): boolean {
  return typeof error === "object" && error !== null &&
    (error as { code?: unknown }).code === "23503" &&
    (error as { constraint_name?: unknown }).constraint_name === constraint;
}

/** Whether a driver error is a PostgreSQL check violation of `constraint`. */
export function checkViolation(error: unknown, constraint: string): boolean {
  return typeof error === "object" && error !== null &&
    (error as { code?: unknown }).code === "23514" &&
    (error as { constraint_name?: unknown }).constraint_name === constraint;
}

/** Cuts the extra row a listing fetched to know whether another page follows. */
export function pageOf<T extends { id: string }>(
  rows: T[],
  limit: number,
): { items: T[]; next: string | null } {
  const items = rows.slice(0, limit);
  const next = rows.length > limit ? (items[items.length - 1] as T).id : null;
  return { items, next };
}

/**
 * One keyset page of `table` in id order — every row, or one organisation's (`orgId`) — with
 * `columns(sql)` selected, after `limit` and `after` are checked; fetches `limit + 1` rows to know whether another page follows.
 */
export async function listPage<T extends { id: string }>(
  sql: Sql,
  action: string,
  table: "organizations" | "users" | "api_keys",
  columns: (sql: Sql) => postgres.PendingQuery<postgres.Row[]>,
  orgId: string | null,
  options: ListOptions,
): Promise<Page<T>> {
  const limit = pageSize(action, options.limit);
  const after = cursorOf(action, options.after);
  const q = sql as postgres.Sql;
  const owner = orgId === null ? q`true` : q`org_id = ${orgId}`;
  const cursor = after === null ? q`` : q`and id > ${after}`;
  const rows = await q`select ${columns(sql)} from ${q(table)} where ${owner} ${cursor}
    order by id limit ${limit + 1}`;
  return pageOf(rows as unknown as T[], limit);
}

/** Maps a foreign-key violation of a usage row to the models error naming what is missing. */
export function usageReferenceError(action: string, error: unknown): unknown {
  if (foreignKeyViolation(error, "usage_records_org_id_fkey")) {
    return new ModelsError(`Cannot ${action}: no organisation has this id`, {
      code: "organization_not_found",
      cause: error,
    });
  }
  if (foreignKeyViolation(error, "usage_records_api_key_id_fkey")) {
    return new ModelsError(`Cannot ${action}: no API key has this public id`, {
      code: "api_key_not_found",
      cause: error,
    });
  }
  if (foreignKeyViolation(error, "usage_records_user_id_fkey")) {
    return new ModelsError(`Cannot ${action}: no user has this id`, {
      code: "user_not_found",
      cause: error,
    });
  }
  return error;
}
