/**
 * `@plinth/config` loading a service's settings from `examples/packages/config/` (a
 * `config.yaml` and a `.env`) and the process environment (`DATABASE_URL`, `PORT` when set),
 * checked by a zod schema. Prints each value (secrets redacted, URL passwords masked) with the
 * layer it came from.
 *
 * Permissions (README, "Deno permissions"): read access to the folder, and the environment
 * variables config reads: the schema's keys, `APP_ENV`/`NODE_ENV` (which pick the environment's
 * files), and `LOG_TOKENS`/`LOG_STREAM`, which the `yaml` parser reads.
 *
 * ```sh
 * deno run --allow-read=examples/packages/config --allow-env=APP_ENV,NODE_ENV,SERVICE_NAME,PORT,DEBUG,CORS_ORIGINS,DATABASE_URL,JWT_SECRET,LOG_TOKENS,LOG_STREAM examples/packages/config.ts
 * ```
 *
 * @module
 */
import { loadConfig } from "@plinth/config";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const schema = z.object({
  SERVICE_NAME: z.string(),
  PORT: z.number().int().default(3000),
  DEBUG: z.boolean().default(false),
  CORS_ORIGINS: z.array(z.string()).default([]),
  DATABASE_URL: z.string(),
  JWT_SECRET: z.string().min(32).default("a-development-secret-of-32-chars!"),
});

const config = await loadConfig(schema, {
  dir: fileURLToPath(new URL("./config/", import.meta.url)),
});

console.log(`environment: ${config.environment}`);
for (const key of Object.keys(schema.shape)) {
  const explained = config.explain(key);
  console.log(`${key} = ${JSON.stringify(explained?.value)} (from ${explained?.source})`);
}
console.log(`warnings: ${config.warnings.length}`);
