/**
 * Token budgets for the chat route: reserve before the upstream call, settle after it.
 *
 * A check before the call and a charge after it would let 50 concurrent requests all pass the
 * check and then overspend together. So the route reserves what the request may use at most
 * (an upper estimate of its prompt plus its `max_tokens`) with `consumeTokens()` of
 * `@plinth/models` — one atomic `UPDATE … WHERE used + n <= budget`, refused with the 429
 * `budget_exceeded` problem — and settles with the real usage afterwards: one transaction gives
 * back what was reserved and not used, records the usage row, and enqueues `usage.recorded`
 * through `@plinth/outbox`, so the event exists exactly when the charge does.
 *
 * If an upstream ever reports more than was reserved (its tokenizer counts the prompt higher
 * than our estimate), the extra is charged only up to the budget, and the excess is logged:
 * the budget is never passed.
 *
 * @module
 */
import type postgres from "postgres";
import { consumeTokens, recordUsage, type Usage } from "@plinth/models";
import { enqueue } from "@plinth/outbox";
import type { Logger } from "@plinth/logging";

/**
 * The event the service publishes for each charge, and the analytics consumer counts: the usage
 * row as `@plinth/models` returns it, with its id as `usage_id` and its time as `recorded_at`
 * (ISO 8601, UTC: the analytics day comes from it).
 */
export type UsageRecorded = Omit<Usage, "id" | "created_at"> & {
  usage_id: string;
  recorded_at: string;
};

/** An upper estimate of a conversation's prompt tokens: a third of its UTF-8 bytes, plus 4 a message. */
export function estimatePromptTokens(messages: readonly { content?: unknown }[]): number {
  const encoder = new TextEncoder();
  let n = 0;
  for (const m of messages) {
    const text = typeof m.content === "string" ? m.content : JSON.stringify(m.content ?? "");
    n += Math.ceil(encoder.encode(text).length / 3) + 4;
  }
  return n;
}

/** Reserves `tokens` of the organisation's budget (429 `budget_exceeded` when it cannot). */
export async function reserveTokens(
  sql: postgres.Sql,
  orgId: string,
  tokens: number,
): Promise<void> {
  await consumeTokens(sql, orgId, tokens);
}

/** What {@linkcode settleTokens} records. */
export interface Settlement {
  readonly orgId: string;
  readonly reserved: number;
  readonly model: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly apiKeyId: string | null;
  readonly userId: string | null;
  readonly requestId: string | null;
  /** The subject of `usage.recorded`. */
  readonly subject: string;
}

/**
 * Gives back the unused part of a reservation, records the usage and enqueues `usage.recorded`,
 * in one transaction. Usage of zero tokens (an upstream that failed) only releases the
 * reservation.
 *
 * @returns The usage event, or `null` when nothing was used.
 */
export async function settleTokens(
  db: { transaction<T>(fn: (sql: postgres.TransactionSql) => Promise<T>): Promise<T> },
  s: Settlement,
  logger?: Logger,
): Promise<UsageRecorded | null> {
  const used = s.promptTokens + s.completionTokens;
  return await db.transaction(async (sql) => {
    if (used <= s.reserved) {
      if (s.reserved > used) {
        await sql`update organizations
          set tokens_used_current_month = greatest(0, tokens_used_current_month - ${
          s.reserved - used
        })
          where id = ${s.orgId}`;
      }
    } else {
      const extra = used - s.reserved;
      const [row] = await sql`update organizations
        set tokens_used_current_month =
          least(greatest(budget_tokens_monthly, tokens_used_current_month),
                tokens_used_current_month + ${extra})
        where id = ${s.orgId}
        returning tokens_used_current_month::float8 as used, budget_tokens_monthly::float8 as budget`;
      logger?.warn("upstream used more tokens than were reserved; charged up to the budget", {
        org_id: s.orgId,
        reserved_tokens: s.reserved,
        used_tokens: used,
        budget_tokens: row?.budget,
      });
    }
    if (used === 0) return null;
    const usage = await recordUsage(sql, {
      org_id: s.orgId,
      api_key_id: s.apiKeyId,
      user_id: s.apiKeyId === null ? s.userId : null,
      model: s.model,
      prompt_tokens: s.promptTokens,
      completion_tokens: s.completionTokens,
      request_id: s.requestId,
    });
    const event: UsageRecorded = {
      usage_id: usage.id,
      org_id: usage.org_id,
      api_key_id: usage.api_key_id,
      user_id: usage.user_id,
      model: usage.model,
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      total_tokens: usage.total_tokens,
      request_id: usage.request_id,
      recorded_at: new Date(usage.created_at).toISOString(),
    };
    // The usage row's id is the event id: a relay's retry is dropped by JetStream's duplicate
    // window, and the analytics consumer counts each id once.
    await enqueue(sql, { id: usage.id, subject: s.subject, payload: event });
    return event;
  });
}
