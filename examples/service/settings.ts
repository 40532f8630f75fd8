/**
 * The service's settings: one zod schema, loaded by `@plinth/config` from `.env` files in this
 * folder, the environment, and `config.<env>.yaml` if present. `.env.example` lists every key.
 * Left unset, `DATABASE_URL`, `NATS_URL`, `UPSTREAM_URL` and `JWT_SECRET` mean the embedded
 * development defaults: PGlite, the in-memory bus, the fake upstream, and a secret generated at
 * start (with a warning; refused when `APP_ENV` is `production`).
 *
 * @module
 */
import { z } from "zod";
import { type Config, loadConfig } from "@plinth/config";

const optionalUrl = z.string().url().optional();

/** Every setting of the service, with its default. */
export const SettingsSchema = z.object({
  SERVICE_NAME: z.string().min(1).default("plinth-service"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.number().int().min(0).max(65_535).default(8000),
  /** PostgreSQL; unset: the embedded PGlite (development only). */
  DATABASE_URL: optionalUrl,
  /** Schema the service's tables go into (first on the connection's search_path). */
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).optional(),
  DATABASE_POOL_MAX: z.number().int().min(2).max(100).default(10),
  /** The embedded PGlite's data directory (when DATABASE_URL is unset), kept between runs. */
  EMBEDDED_DATA_DIR: z.string().min(1).default(".data/pglite"),
  /** NATS with JetStream; unset: the in-memory bus (development only). */
  NATS_URL: optionalUrl,
  /** The stream the service's events go to, and the first token of their subjects. */
  EVENTS_STREAM: z.string().regex(/^[A-Za-z0-9_-]+$/).default("PLINTH_USAGE"),
  EVENTS_SUBJECT_PREFIX: z.string().regex(/^[a-z0-9_-]+$/).default("plinth"),
  /** HS256 secret of access and refresh tokens (32 bytes or more); unset: generated. */
  JWT_SECRET: z.string().min(32).optional(),
  JWT_ISSUER: z.string().min(1).default("https://plinth.local"),
  JWT_AUDIENCE: z.string().min(1).default("plinth-api"),
  ACCESS_TOKEN_TTL_MS: z.number().int().min(1000).default(900_000),
  /** A refresh token presented twice is a replay however close together (0). */
  REFRESH_REUSE_GRACE_MS: z.number().int().min(0).default(0),
  /**
   * `POST /auth/sign-in` by e-mail alone, for development. Unset: on, except when `APP_ENV` is
   * `production`, where turning it on is refused at start.
   */
  DEV_SIGN_IN: z.boolean().optional(),
  /** The platform operator seeded at start (a system administrator, no organisation). */
  ADMIN_EMAIL: z.string().email().default("admin@plinth.local"),
  /** OpenAI-compatible upstream (ending in `/v1`); unset: the fake upstream, started in-process. */
  UPSTREAM_URL: optionalUrl,
  UPSTREAM_API_KEY: z.string().min(1).default("sk-fake-upstream"),
  UPSTREAM_TIMEOUT_MS: z.number().int().min(100).default(60_000),
  UPSTREAM_IDLE_TIMEOUT_MS: z.number().int().min(100).default(30_000),
  /** Completion tokens reserved when a request gives no `max_tokens`. */
  DEFAULT_MAX_TOKENS: z.number().int().min(1).default(256),
  /** Budget of a new organisation when its creator gives none. */
  DEFAULT_BUDGET_TOKENS: z.number().int().min(0).default(10_000),
  /** `/readyz` fails when the oldest unpublished event is older than this. */
  READY_MAX_OUTBOX_LAG_MS: z.number().int().min(100).default(30_000),
  /** How long SIGTERM waits for requests in flight and the consumer before closing anyway. */
  SHUTDOWN_TIMEOUT_MS: z.number().int().min(100).default(10_000),
  /** Milliseconds between the fake upstream's streamed tokens. */
  FAKE_UPSTREAM_DELAY_MS: z.number().int().min(0).default(5),
});

/** The loaded settings. */
export type Settings = z.infer<typeof SettingsSchema>;

/**
 * Loads and checks the settings; a bad value fails with an error naming the key (never the
 * value).
 *
 * @param options `dir` holding `.env` files (`null`: none) and `env` in place of the process
 * environment (tests).
 */
export async function loadSettings(
  options: { dir?: string | null; env?: Record<string, string | undefined> } = {},
): Promise<Config<Settings>> {
  return await loadConfig(SettingsSchema, {
    dir: options.dir ?? null,
    ...(options.env === undefined ? {} : { env: options.env }),
    secrets: ["JWT_SECRET", "UPSTREAM_API_KEY"],
  });
}
