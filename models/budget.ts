import type postgres from "postgres";
import { budgetExceeded } from "@plinth/errors";
import { parseInput, usageReferenceError, uuid } from "./_common.ts";
import { ModelsError } from "./models_error.ts";
import type { Sql } from "./sql.ts";
import { type RecordUsage, RecordUsageSchema } from "./usage.ts";

/**
 * Options of {@linkcode consumeTokens}.
 *
 * @example
 * ```ts
 * import type { ConsumeTokensOptions } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const options: ConsumeTokensOptions = {
 *   usage: { api_key_id: "AbC123dEf456", model: "m", prompt_tokens: 10, completion_tokens: 32 },
 * };
 * assert.equal(options.usage?.model, "m");
 * ```
 */
export interface ConsumeTokensOptions {
  /**
   * The usage row to record with the charge, in the same statement (so both happen or
   * neither); its `prompt_tokens + completion_tokens` must equal `tokens`.
   * @default {undefined (no usage row)}
   */
  readonly usage?: Omit<RecordUsage, "org_id"> | undefined;
  /** The clock (for the `Retry-After` of a refusal: the next month, UTC), epoch milliseconds. @default {Date.now} */
  readonly now?: (() => number) | undefined;
}

/**
 * The organisation's counter after a charge.
 *
 * @example
 * ```ts
 * import type { TokenCharge } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const charge: TokenCharge = { budget: 100, used: 60, remaining: 40, usage_id: null };
 * assert.equal(charge.budget - charge.used, charge.remaining);
 * ```
 */
export interface TokenCharge {
  /** `budget_tokens_monthly`. */
  budget: number;
  /** `tokens_used_current_month`, this charge included. */
  used: number;
  /** `budget - used`. */
  remaining: number;
  /** The id of the usage row recorded with the charge, or `null` without `usage`. */
  usage_id: string | null;
}

function firstOfNextMonth(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * Charges `tokens` to an organisation's monthly budget, atomically: one
 * `UPDATE … SET used = used + n WHERE id = $1 AND status = 'active' AND used + n <= budget
 * RETURNING …`, so replicas charging at once can never overspend (PostgreSQL re-checks the
 * condition on the row it locked). With `usage`, the usage row is inserted by the same
 * statement (a data-modifying `WITH`): both happen or neither. A refusal reads the row once more
 * to say why.
 *
 * @param sql A postgres.js `sql`.
 * @param orgId The organisation.
 * @param tokens Tokens to charge, a non-negative integer.
 * @param options `usage` (recorded with the charge), `now`.
 * @returns The counter after the charge.
 * @throws {RangeError} When `tokens` is not a non-negative safe integer.
 * @throws {AppError} `budget_exceeded` (429, from `@plinth/errors`, with `budget_tokens`,
 * `used_tokens` and `requested_tokens` and a `Retry-After` at the next month) when the charge
 * would pass the budget: nothing is charged or recorded. `validation_failed` (422) when `usage`
 * fails its schema.
 * @throws {ModelsError} `organization_not_found`, `organization_inactive` (suspended), and
 * `api_key_not_found`/`user_not_found` for the usage row's references.
 *
 * @example
 * ```ts
 * import { connectDatabase, runMigrations } from "@plinth/database";
 * import { consumeTokens, createOrganization, MODELS_MIGRATIONS } from "@plinth/models";
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
 *   assert.equal((await consumeTokens(db.sql, org.id, 60)).remaining, 40);
 *   await assert.rejects(consumeTokens(db.sql, org.id, 41), { status: 429, code: "budget_exceeded" });
 *   assert.equal((await consumeTokens(db.sql, org.id, 40)).remaining, 0);
 * } finally {
 *   await db.sql.unsafe(`drop schema ${schema} cascade`);
 * }
 * ```
 */
export async function consumeTokens(
  sql: Sql,
  orgId: string,
  tokens: number,
  options: ConsumeTokensOptions = {},
): Promise<TokenCharge> {
  if (typeof tokens !== "number" || !Number.isSafeInteger(tokens) || tokens < 0) {
    throw new RangeError("Cannot consume tokens: tokens must be a non-negative integer");
  }
  const now = options.now ?? Date.now;
  if (typeof now !== "function") {
    throw new TypeError("Cannot consume tokens: now must be a function");
  }
  const q = sql as postgres.Sql;
  if (typeof orgId !== "string" || !uuid.safeParse(orgId).success) throw missing();
  let rows: postgres.RowList<postgres.Row[]>;
  if (options.usage === undefined) {
    rows = await q`update organizations
      set tokens_used_current_month = tokens_used_current_month + ${tokens}
      where id = ${orgId} and status = 'active'
        and tokens_used_current_month + ${tokens} <= budget_tokens_monthly
      returning budget_tokens_monthly::float8 as budget, tokens_used_current_month::float8 as used`;
  } else {
    const usage = parseInput(RecordUsageSchema, { ...options.usage, org_id: orgId });
    if (usage.prompt_tokens + usage.completion_tokens !== tokens) {
      throw new RangeError(
        "Cannot consume tokens: usage prompt_tokens + completion_tokens must equal tokens",
      );
    }
    try {
      rows = await q`with charged as (
          update organizations
          set tokens_used_current_month = tokens_used_current_month + ${tokens}
          where id = ${orgId} and status = 'active'
            and tokens_used_current_month + ${tokens} <= budget_tokens_monthly
          returning id, budget_tokens_monthly, tokens_used_current_month
        ), recorded as (
          insert into usage_records
            (org_id, api_key_id, user_id, model, prompt_tokens, completion_tokens, total_tokens, request_id)
          select id, ${usage.api_key_id ?? null}, ${usage.user_id ?? null}, ${usage.model},
            ${usage.prompt_tokens}, ${usage.completion_tokens}, ${tokens}, ${
        usage.request_id ?? null
      }
          from charged
          returning id
        )
        select c.budget_tokens_monthly::float8 as budget,
          c.tokens_used_current_month::float8 as used,
          (select id::text from recorded) as usage_id
        from charged c`;
    } catch (error) {
      throw usageReferenceError("consume tokens", error);
    }
  }
  const row = rows[0];
  if (row !== undefined) {
    const budget = row.budget as number;
    const used = row.used as number;
    return {
      budget,
      used,
      remaining: budget - used,
      usage_id: (row.usage_id as string | undefined) ?? null,
    };
  }
  const [org] = await q`select status, budget_tokens_monthly::float8 as budget,
      tokens_used_current_month::float8 as used
    from organizations where id = ${orgId}`;
  if (org === undefined) throw missing();
  if (org.status !== "active") {
    throw new ModelsError("Cannot consume tokens: the organisation is not active", {
      code: "organization_inactive",
    });
  }
  const t = now();
  throw budgetExceeded("Cannot consume tokens: the charge would pass the monthly budget", {
    extensions: {
      budget_tokens: org.budget as number,
      used_tokens: org.used as number,
      requested_tokens: tokens,
    },
    retryAfter: Math.max(0, firstOfNextMonth(t) - t),
  });
}

function missing(): ModelsError {
  return new ModelsError("Cannot consume tokens: no organisation has this id", {
    code: "organization_not_found",
  });
}

/**
 * Options of {@linkcode resetMonthlyUsage}.
 *
 * @example
 * ```ts
 * import type { ResetMonthlyUsageOptions } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const options: ResetMonthlyUsageOptions = { now: () => Date.UTC(2027, 0, 1) };
 * assert.equal(typeof options.now, "function");
 * ```
 */
export interface ResetMonthlyUsageOptions {
  /** The clock, epoch milliseconds: its UTC month is the period reset into. @default {Date.now} */
  readonly now?: (() => number) | undefined;
}

/**
 * What {@linkcode resetMonthlyUsage} did.
 *
 * @example
 * ```ts
 * import type { MonthlyReset } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const result: MonthlyReset = { period: "2027-01", reset: 0 };
 * assert.equal(result.period, "2027-01");
 * ```
 */
export interface MonthlyReset {
  /** The month now current, `YYYY-MM` (UTC). */
  period: string;
  /** How many organisations this call moved into it (0 when another run did). */
  reset: number;
}

/**
 * Starts the month: sets `tokens_used_current_month` to 0 for every organisation whose
 * `usage_period` is an earlier month, and moves it to the current one — in one `UPDATE` whose
 * condition is the period, so a second run (on this replica or another, at the same moment or
 * later) finds nothing to do: PostgreSQL re-checks the condition of a row a concurrent run
 * changed, and skips it. Run it from every replica's scheduler shortly after midnight UTC on the
 * 1st (or every few minutes); charges made in the new month before it runs count against the
 * old month's counter, so run it early.
 *
 * @param sql A postgres.js `sql`.
 * @param options `now`.
 * @returns The period and how many organisations this call reset.
 * @throws {TypeError} When `now` is not a function.
 *
 * @example
 * ```ts
 * import { connectDatabase, runMigrations } from "@plinth/database";
 * import { consumeTokens, createOrganization, getOrganization, MODELS_MIGRATIONS, resetMonthlyUsage } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const schema = `doc_${crypto.randomUUID().replaceAll("-", "")}`;
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 2, connection: { search_path: schema } },
 * );
 * await db.sql.unsafe(`create schema ${schema}`);
 * try {
 *   await runMigrations(db, { dir: MODELS_MIGRATIONS });
 *   const org = await createOrganization(db.sql, { name: "acme", display_name: "Acme", budget_tokens_monthly: 100 });
 *   await consumeTokens(db.sql, org.id, 70);
 *   const nextYear = () => Date.UTC(new Date().getUTCFullYear() + 1, 0, 1);
 *   const [a, b] = await Promise.all([
 *     resetMonthlyUsage(db.sql, { now: nextYear }),
 *     resetMonthlyUsage(db.sql, { now: nextYear }),
 *   ]);
 *   assert.equal(a.reset + b.reset, 1);
 *   assert.equal((await getOrganization(db.sql, org.id)).tokens_used_current_month, 0);
 * } finally {
 *   await db.sql.unsafe(`drop schema ${schema} cascade`);
 * }
 * ```
 */
export async function resetMonthlyUsage(
  sql: Sql,
  options: ResetMonthlyUsageOptions = {},
): Promise<MonthlyReset> {
  const now = options.now ?? Date.now;
  if (typeof now !== "function") {
    throw new TypeError("Cannot reset monthly usage: now must be a function");
  }
  const d = new Date(now());
  const period = `${d.getUTCFullYear().toString().padStart(4, "0")}-${
    (d.getUTCMonth() + 1).toString().padStart(2, "0")
  }`;
  const first = `${period}-01`;
  const result = await (sql as postgres.Sql)`update organizations
    set tokens_used_current_month = 0, usage_period = ${first}::date
    where usage_period < ${first}::date`;
  return { period, reset: result.count };
}
