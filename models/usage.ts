import { z } from "zod";
import type postgres from "postgres";
import { parseInput, timestamp, usageReferenceError, uuid } from "./_common.ts";
import type { Sql } from "./sql.ts";

/**
 * One charged request, as stored and as sent on the wire: who (an API key or a user, exactly
 * one), which model, and the tokens.
 *
 * @example
 * ```ts
 * import type { Usage } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const usage: Usage = {
 *   id: "9a4b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", org_id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c",
 *   api_key_id: "AbC123dEf456", user_id: null, model: "gpt-4o-mini", prompt_tokens: 12,
 *   completion_tokens: 30, total_tokens: 42, request_id: "req-1", created_at: new Date(),
 * };
 * assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
 * ```
 */
export interface Usage {
  /** The id, a UUID the database assigns. */
  id: string;
  /** The organisation charged. */
  org_id: string;
  /** The public id of the API key that made the request (what `c.var.auth.keyId` holds), or `null`. */
  api_key_id: string | null;
  /** The user who made the request, or `null`. */
  user_id: string | null;
  /** The model used. */
  model: string;
  /** Prompt tokens. */
  prompt_tokens: number;
  /** Completion tokens. */
  completion_tokens: number;
  /** `prompt_tokens + completion_tokens` (the database checks it). */
  total_tokens: number;
  /** The request id (`X-Request-Id`), when known. */
  request_id: string | null;
  /** When it was recorded. */
  created_at: Date;
}

/**
 * What {@linkcode recordUsage} takes: a {@linkcode Usage} without `id`, `total_tokens` (the
 * sum) and `created_at`. Give exactly one of `api_key_id` and `user_id`.
 *
 * @example
 * ```ts
 * import type { RecordUsage } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const input: RecordUsage = {
 *   org_id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c", user_id: "0b6c3c38-7d1e-4a43-9b0e-6a0f4d1c2e3f",
 *   model: "m", prompt_tokens: 1, completion_tokens: 2,
 * };
 * assert.equal(input.api_key_id, undefined);
 * ```
 */
export interface RecordUsage {
  /** The organisation. */
  org_id: string;
  /** The API key's public id. @default {null} */
  api_key_id?: string | null | undefined;
  /** The user's id. @default {null} */
  user_id?: string | null | undefined;
  /** The model. */
  model: string;
  /** Prompt tokens. */
  prompt_tokens: number;
  /** Completion tokens. */
  completion_tokens: number;
  /** The request id. @default {null} */
  request_id?: string | null | undefined;
}

const count = z.number().int().nonnegative().max(2_147_483_647);
const principal = (
  usage: { api_key_id?: string | null | undefined; user_id?: string | null | undefined },
) => (usage.api_key_id ?? null) === null !== ((usage.user_id ?? null) === null);
const PRINCIPAL_RULE = { message: "give exactly one of api_key_id and user_id", path: ["user_id"] };
const keyId = z.string().regex(/^[0-9A-Za-z]{12}$/, "must be an API key's public id");

/**
 * zod schema of a stored {@linkcode Usage}.
 *
 * @example
 * ```ts
 * import { UsageSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const row = {
 *   id: "9a4b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", org_id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c",
 *   api_key_id: "AbC123dEf456", user_id: null, model: "m", prompt_tokens: 1,
 *   completion_tokens: 2, total_tokens: 3, request_id: null, created_at: "2026-12-01T00:00:00Z",
 * };
 * assert.equal(UsageSchema.safeParse(row).success, true);
 * assert.equal(UsageSchema.safeParse({ ...row, total_tokens: 4 }).success, false);
 * ```
 */
export const UsageSchema: z.ZodType<Usage> = z.strictObject({
  id: uuid,
  org_id: uuid,
  api_key_id: keyId.nullable(),
  user_id: uuid.nullable(),
  model: z.string().min(1).max(200),
  prompt_tokens: count,
  completion_tokens: count,
  total_tokens: count,
  request_id: z.string().max(200).nullable(),
  created_at: timestamp,
}).refine(principal, PRINCIPAL_RULE).refine(
  (u) => u.total_tokens === u.prompt_tokens + u.completion_tokens,
  { message: "must be prompt_tokens + completion_tokens", path: ["total_tokens"] },
);

/**
 * zod schema of {@linkcode RecordUsage}.
 *
 * @example
 * ```ts
 * import { RecordUsageSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const base = { org_id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c", model: "m", prompt_tokens: 1, completion_tokens: 1 };
 * assert.equal(RecordUsageSchema.safeParse({ ...base, api_key_id: "AbC123dEf456" }).success, true);
 * assert.equal(RecordUsageSchema.safeParse(base).success, false); // nobody made the request
 * ```
 */
export const RecordUsageSchema: z.ZodType<RecordUsage> = z.strictObject({
  org_id: uuid,
  api_key_id: keyId.nullable().optional(),
  user_id: uuid.nullable().optional(),
  model: z.string().min(1).max(200),
  prompt_tokens: count,
  completion_tokens: count,
  request_id: z.string().max(200).nullable().optional(),
}).refine(principal, PRINCIPAL_RULE);

/**
 * Records one request's usage (without charging the budget: `consumeTokens(…, { usage })`
 * charges and records in one statement). Run it in the transaction of a charge made otherwise
 * (`sql.begin((tx) => …)`) so that both commit or neither.
 *
 * @param sql A postgres.js `sql` (a transaction's, to commit with other writes).
 * @param input The usage ({@linkcode RecordUsageSchema}).
 * @returns The stored usage.
 * @throws {AppError} `validation_failed` (422) when `input` fails the schema.
 * @throws {ModelsError} `organization_not_found`, `api_key_not_found`, `user_not_found`.
 *
 * @example
 * ```ts
 * import { recordUsage } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   recordUsage({} as never, { org_id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c", model: "m", prompt_tokens: -1, completion_tokens: 0, user_id: null }),
 *   { code: "validation_failed" },
 * );
 * ```
 */
export async function recordUsage(sql: Sql, input: RecordUsage): Promise<Usage> {
  const data = parseInput(RecordUsageSchema, input);
  try {
    const [row] = await (sql as postgres.Sql)`insert into usage_records
      (org_id, api_key_id, user_id, model, prompt_tokens, completion_tokens, total_tokens, request_id)
      values (${data.org_id}, ${data.api_key_id ?? null}, ${data.user_id ?? null}, ${data.model},
        ${data.prompt_tokens}, ${data.completion_tokens}, ${
      data.prompt_tokens + data.completion_tokens
    }, ${data.request_id ?? null})
      returning id::text, org_id::text, api_key_id, user_id::text, model, prompt_tokens,
        completion_tokens, total_tokens, request_id, created_at`;
    return row as Usage;
  } catch (error) {
    throw usageReferenceError("record usage", error);
  }
}
