/**
 * The platform's shared data: zod schemas and types of organisations, users, API keys, usage
 * and the refresh-token store records (snake_case, as on the wire); the SQL migrations that
 * create their tables ({@linkcode MODELS_MIGRATIONS}, for `runMigrations()` of
 * `@plinth/database`, on PostgreSQL or PGlite); and the queries that must never race:
 * {@linkcode consumeTokens} charges a monthly token budget atomically (a spent budget is the
 * 429 `budget_exceeded`), {@linkcode resetMonthlyUsage} starts the month once however many
 * replicas run it, and {@linkcode createPostgresTokenStore} is `@plinth/auth`'s `TokenStore`
 * with a compare-and-set first use of each refresh token ({@linkcode createCachedTokenStore}
 * the same with revocations answered from memory, kept fresh by LISTEN/NOTIFY, for verifiers).
 * Every query takes a postgres.js `sql`.
 *
 * @example
 * ```ts
 * import { CreateOrganizationSchema, OrganizationSchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const input = CreateOrganizationSchema.parse({ name: "acme", display_name: "Acme Inc.", budget_tokens_monthly: 1000 });
 * assert.equal(input.budget_tokens_monthly, 1000);
 * assert.equal(CreateOrganizationSchema.safeParse({ ...input, budget_tokens_monthly: -1 }).success, false);
 * assert.equal(OrganizationSchema.safeParse(input).success, false); // no id, timestamps or counter
 * ```
 *
 * @module
 */
export * from "./api_keys.ts";
export * from "./budget.ts";
export * from "./cached_token_store.ts";
export * from "./last_used_tracker.ts";
export * from "./migrations.ts";
export * from "./models_error.ts";
export * from "./organizations.ts";
export * from "./pagination.ts";
export * from "./sql.ts";
export * from "./token_store.ts";
export * from "./usage.ts";
export * from "./users.ts";
