/**
 * `@plinth/models` against a real PostgreSQL server named by `DATABASE_URL`: the migrations
 * applied to a throwaway schema (and again, as a no-op), an organisation with a monthly token
 * budget, charges up to it and the 429 past it, an API key stored by its hash and looked up in
 * the shape `authenticate()` takes, a refresh token's first use and its replay in the
 * PostgreSQL token store, and the monthly reset. Drops the schema at the end.
 *
 * Permissions (README, "Deno permissions"): `DATABASE_URL` and the three variables postgres.js
 * reads itself, the server's host and port, and the package's migrations folder.
 *
 * ```sh
 * deno run --allow-env=DATABASE_URL,PGPASSWORD,PGAPPNAME,PGTARGETSESSIONATTRS --allow-net=127.0.0.1:5432 --allow-read=models/migrations examples/packages/models.ts
 * ```
 *
 * @module
 */
import { connectDatabase, runMigrations } from "@plinth/database";
import {
  consumeTokens,
  createApiKey,
  createOrganization,
  createPostgresTokenStore,
  lookupApiKey,
  MODELS_MIGRATIONS,
  resetMonthlyUsage,
} from "@plinth/models";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const schema = `example_models_${crypto.randomUUID().replaceAll("-", "")}`;
await using admin = await connectDatabase({ max: 1, logger: quiet });
await admin.sql.unsafe(`create schema ${schema}`);
try {
  await using db = await connectDatabase({
    max: 2,
    logger: quiet,
    connection: { search_path: schema },
  });
  const first = await runMigrations(db, { dir: MODELS_MIGRATIONS, logger: quiet });
  const again = await runMigrations(db, { dir: MODELS_MIGRATIONS, logger: quiet });
  console.log(`migrations: ${first.applied.length} applied, then ${again.applied.length}`);

  const org = await createOrganization(db.sql, {
    name: "acme",
    display_name: "Acme Inc.",
    budget_tokens_monthly: 100,
  });
  console.log(
    `organisation ${org.name}: budget ${org.budget_tokens_monthly}, used ${org.tokens_used_current_month}`,
  );

  const { key, api_key } = await createApiKey(db.sql, {
    org_id: org.id,
    name: "CI",
    role: "org_user",
  });
  const record = await lookupApiKey(db.sql, api_key.public_id);
  console.log(
    `api key: shown once (${
      key.startsWith(`plk_${api_key.public_id}_`)
    }), lookup role ${record?.role}, hash ${record?.hash.length} hex digits`,
  );

  const usage = {
    api_key_id: api_key.public_id,
    model: "small",
    prompt_tokens: 20,
    completion_tokens: 40,
  };
  const charge = await consumeTokens(db.sql, org.id, 60, { usage });
  console.log(
    `charged 60: remaining ${charge.remaining}, usage recorded ${charge.usage_id !== null}`,
  );
  const refused = await consumeTokens(db.sql, org.id, 41).catch((error) => error);
  console.log(`charge 41: ${refused.status} ${refused.code}`);

  const store = createPostgresTokenStore(db.sql);
  const expiresAt = Date.now() + 60_000;
  const firstUse = await store.useRefreshToken("refresh-1", expiresAt, 1_000);
  const replay = await store.useRefreshToken("refresh-1", expiresAt, 2_000);
  console.log(
    `refresh token: first use ${firstUse === undefined}, replay sees first use at ${replay}`,
  );

  const nextMonth = () => {
    const d = new Date();
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  };
  const resets = await Promise.all([
    resetMonthlyUsage(db.sql, { now: nextMonth }),
    resetMonthlyUsage(db.sql, { now: nextMonth }),
  ]);
  console.log(
    `monthly reset run twice at once: ${resets[0].reset + resets[1].reset} organisation reset`,
  );
} finally {
  await admin.sql.unsafe(`drop schema ${schema} cascade`);
}
