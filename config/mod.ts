/**
 * Layered, validated, typed configuration for plinth services.
 *
 * {@linkcode loadConfig} reads schema defaults, `config.{yaml,json}` and their
 * per-environment variants, `.env`, `.env.<environment>`, `.env.local`, the OS environment and
 * explicit overrides — each layer beating the one before — then turns environment strings
 * strictly into the zod schema's types and validates. A service with a missing or invalid
 * setting fails at start-up with one {@linkcode ConfigError} naming every problem, and never a
 * value. {@linkcode parseDotenv} is the `.env` parser on its own.
 *
 * @example
 * ```ts
 * import { ConfigError, loadConfig } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const schema = z.object({
 *   DATABASE_URL: z.string(),
 *   PORT: z.number().int().default(8080),
 *   LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
 * });
 *
 * const config = await loadConfig(schema, {
 *   dir: null,
 *   env: { DATABASE_URL: "postgres://db/app", PORT: "9000" },
 * });
 * assert.equal(config.values.PORT, 9000);
 * assert.equal(config.get("log.level"), "info");
 *
 * await assert.rejects(loadConfig(schema, { dir: null, env: { PORT: "9000x" } }), ConfigError);
 * ```
 *
 * @module
 */
export * from "./load_config.ts";
export * from "./dotenv.ts";
export * from "./errors.ts";
