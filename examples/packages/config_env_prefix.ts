/**
 * `@plinth/config` with `envPrefix`: each schema key `K` is read from the variable `ORDERS_K`, so
 * two services sharing an environment keep their settings apart. No file is read (`dir: null`)
 * and the environment name is given, so only the prefixed variables are.
 *
 * Deno permits the prefixed names one by one, or all variables with the prefix through a trailing
 * wildcard (Deno 2.1 and later):
 *
 * ```sh
 * deno run --allow-env=ORDERS_PORT,ORDERS_DATABASE_URL examples/packages/config_env_prefix.ts
 * deno run --allow-env='ORDERS_*' examples/packages/config_env_prefix.ts
 * ```
 *
 * @module
 */
import { loadConfig } from "@plinth/config";
import { z } from "zod";

const config = await loadConfig(
  z.object({ PORT: z.number().int().default(3000), DATABASE_URL: z.string() }),
  { envPrefix: "ORDERS_", dir: null, environment: "production" },
);
for (const key of ["PORT", "DATABASE_URL"]) {
  const explained = config.explain(key);
  console.log(`${key} = ${JSON.stringify(explained?.value)} (from ${explained?.source})`);
}
