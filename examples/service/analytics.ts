/**
 * The analytics consumer: a durable `@plinth/events` subscriber of `usage.recorded` that adds
 * each event to its organisation's row for the UTC day. Idempotent: the event id is inserted
 * into `analytics_counted_events` in the same transaction as the addition, so a redelivered
 * event (a crash before the ack, a relay's retry outside the duplicate window) is counted once.
 * Replicas share the durable consumer, so JetStream splits the events between them.
 *
 * @module
 */
import type postgres from "postgres";
import { z } from "zod";
import type { Database } from "@plinth/database";
import type { EventBus, Subscription } from "@plinth/events";
import type { Logger } from "@plinth/logging";
import type { UsageRecorded } from "./budget.ts";

/** The migrations of the consumer's tables (for `runMigrations`, history table `service_migrations`). */
export const ANALYTICS_MIGRATIONS: URL = new URL("./migrations/", import.meta.url);

const count = z.number().int().nonnegative();
const UsageRecordedSchema: z.ZodType<UsageRecorded> = z.object({
  usage_id: z.string(),
  org_id: z.string().uuid(),
  api_key_id: z.string().nullable(),
  user_id: z.string().nullable(),
  model: z.string(),
  prompt_tokens: count,
  completion_tokens: count,
  total_tokens: count,
  request_id: z.string().nullable(),
  recorded_at: z.string().datetime({ offset: true }),
});

/** One organisation's usage on one UTC day. */
export interface DailyUsage {
  day: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Counts one event; `false` when its id was counted before. */
export async function countUsage(
  db: Pick<Database, "transaction">,
  id: string,
  event: UsageRecorded,
): Promise<boolean> {
  return await db.transaction(async (sql: postgres.TransactionSql) => {
    const fresh = await sql`insert into analytics_counted_events (event_id) values (${id})
      on conflict do nothing returning event_id`;
    if (fresh.length === 0) return false;
    await sql`insert into analytics_usage_daily
        (org_id, day, requests, prompt_tokens, completion_tokens, total_tokens)
      values (${event.org_id}, (${event.recorded_at}::timestamptz at time zone 'UTC')::date, 1,
        ${event.prompt_tokens}, ${event.completion_tokens}, ${event.total_tokens})
      on conflict (org_id, day) do update set
        requests = analytics_usage_daily.requests + 1,
        prompt_tokens = analytics_usage_daily.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = analytics_usage_daily.completion_tokens + excluded.completion_tokens,
        total_tokens = analytics_usage_daily.total_tokens + excluded.total_tokens`;
    return true;
  });
}

/** An organisation's usage per day, newest first. */
export async function dailyUsage(sql: postgres.Sql, orgId: string): Promise<DailyUsage[]> {
  const rows = await sql`select to_char(day, 'YYYY-MM-DD') as day, requests,
      prompt_tokens::float8 as prompt_tokens, completion_tokens::float8 as completion_tokens,
      total_tokens::float8 as total_tokens
    from analytics_usage_daily where org_id = ${orgId} order by day desc limit 366`;
  return rows.map((r) => ({
    day: r.day as string,
    requests: r.requests as number,
    prompt_tokens: r.prompt_tokens as number,
    completion_tokens: r.completion_tokens as number,
    total_tokens: r.total_tokens as number,
  }));
}

/** What the running consumer has done in this process. */
export interface AnalyticsConsumer {
  readonly subscription: Subscription;
  /** Events counted here, and redeliveries recognised here. */
  stats(): { counted: number; duplicates: number };
}

/**
 * Starts the consumer: durable `analytics` on `subject`.
 *
 * @param options The database, the bus, the subject and a logger.
 */
export async function startAnalytics(options: {
  db: Database;
  bus: EventBus;
  subject: string;
  logger: Logger;
}): Promise<AnalyticsConsumer> {
  let counted = 0;
  let duplicates = 0;
  const log = options.logger.child({ component: "analytics" });
  const subscription = await options.bus.subscribe(options.subject, async (event, meta) => {
    const fresh = await countUsage(options.db, meta.id, event);
    if (fresh) counted++;
    else duplicates++;
    log.info(fresh ? "usage counted" : "usage event seen before; not counted again", {
      event_id: meta.id,
      org_id: event.org_id,
      total_tokens: event.total_tokens,
      delivery: meta.deliveryCount,
    });
  }, {
    durable: "analytics",
    schema: UsageRecordedSchema,
    concurrency: 4,
    // A count takes milliseconds. An event fetched by a replica that stops before handing it to
    // the handler is neither acked nor nakked: JetStream gives it to a replica again after
    // ackWait, so a short one keeps that wait short (a redelivery is counted once anyway).
    ackWait: 5_000,
  });
  return { subscription, stats: () => ({ counted, duplicates }) };
}
