import type { z } from "zod";
import { ConfigError, type ConfigIssue, ConfigParseError } from "./errors.ts";
import { invalidConfigMessage } from "./_issues.ts";
import { type DotenvWarning, parseDotenvEntries } from "./dotenv.ts";
import { type FlatEntry, parseConfigFile, toEnvKey } from "./_files.ts";
import { coerce, fieldKind, isMarkedSecret, shapeOf, UNSAFE_KEYS } from "./_schema.ts";
import { isSecretName, maskCredentials, maskValue, REDACTED } from "./_mask.ts";
import { envReader, listDirectory, type ReadEnv, readFileFromDisk } from "./_read.ts";
import { type WarningSink, warningSink } from "./_warnings.ts";

/**
 * A file given by content instead of read from `dir` (tests, edge runtimes, bundles).
 *
 * @example
 * ```ts
 * import { type InMemoryFile, loadConfig } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const file: InMemoryFile = { name: "config.json", content: '{ "port": 8080 }' };
 * const config = await loadConfig(z.object({ PORT: z.number() }), { dir: null, files: [file], env: {} });
 * assert.equal(config.values.PORT, 8080);
 * ```
 */
export interface InMemoryFile {
  /** The file's name; `.json` is parsed as JSON, anything else as YAML (or as .env). */
  readonly name: string;
  /** The file's text. */
  readonly content: string;
}

/**
 * Reads a file by path: its text, or `undefined` when it does not exist.
 *
 * @example
 * ```ts
 * import { loadConfig, type ReadFile } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const bundle: Record<string, string> = { "/app/config.yaml": "region: eu-west-1" };
 * const readFile: ReadFile = (path) => bundle[path];
 * const config = await loadConfig(z.object({ REGION: z.string() }), { dir: "/app", readFile, env: {} });
 * assert.equal(config.values.REGION, "eu-west-1");
 * ```
 */
export type ReadFile = (path: string) => string | undefined | Promise<string | undefined>;

/**
 * A non-fatal note from loading: a `.env` duplicate, an unset reference, an unknown key.
 *
 * @example
 * ```ts
 * import { type ConfigWarning, loadConfig } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const warnings: ConfigWarning[] = [];
 * await loadConfig(z.object({ PORT: z.number() }), {
 *   dir: null,
 *   env: { PORT: "80" },
 *   files: [{ name: "config.yaml", content: "prot: 81" }],
 *   onWarning: (warning) => warnings.push(warning),
 * });
 * assert.deepEqual(warnings, [{ source: "config.yaml:1", message: "PROT is not in the schema and is ignored" }]);
 * ```
 */
export interface ConfigWarning {
  /** Where: `file:line`, or the file. */
  readonly source: string;
  /** What, never with a value. */
  readonly message: string;
}

/**
 * Where {@linkcode loadConfig} can send its warnings: anything with a `warn(message, fields)`
 * method, such as a `@plinth/logging` logger. Each warning arrives as
 * `warn(message, { config_source })`.
 *
 * @example
 * ```ts
 * import { type ConfigLogger, loadConfig } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const lines: string[] = [];
 * const logger: ConfigLogger = {
 *   warn: (message, fields) => lines.push(`${fields?.config_source}: ${message}`),
 * };
 * await loadConfig(z.object({ PORT: z.number() }), {
 *   dir: null,
 *   env: { PORT: "80" },
 *   files: [{ name: "config.yaml", content: "prot: 81" }],
 *   logger,
 * });
 * assert.deepEqual(lines, ["config.yaml:1: PROT is not in the schema and is ignored"]);
 * ```
 */
export interface ConfigLogger {
  /** Receives one warning: its message and `{ config_source }` (`file:line`). */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/**
 * Options of {@linkcode loadConfig}.
 *
 * @example
 * ```ts
 * import { loadConfig, type LoadConfigOptions } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const options: LoadConfigOptions = {
 *   dir: null,
 *   envPrefix: "APP_",
 *   env: { APP_PORT: "8081", PORT: "9999" },
 *   overrides: { "log.level": "debug" },
 * };
 * const config = await loadConfig(z.object({ PORT: z.number(), LOG_LEVEL: z.string() }), options);
 * assert.equal(config.values.PORT, 8081);
 * assert.equal(config.values.LOG_LEVEL, "debug");
 * ```
 */
export interface LoadConfigOptions {
  /** The environment name, for `config.<env>.*` and `.env.<env>`. @default {APP_ENV, else NODE_ENV, else "development"} */
  readonly environment?: string | undefined;
  /** Directory the files are looked up in; `null` reads no file system at all (edge). @default {"."} */
  readonly dir?: string | null | undefined;
  /**
   * Config files, lowest precedence first: names (must exist) or in-memory files. Each
   * `name.ext` is followed by `name.<environment>.ext` when that exists.
   * @default {whichever of config.yaml, config.yml and config.json exist}
   */
  readonly files?: readonly (string | InMemoryFile)[] | undefined;
  /**
   * `.env` files, lowest precedence first, or `false` for none.
   * @default {whichever of .env, .env.<environment> and .env.local exist}
   */
  readonly dotenv?: readonly (string | InMemoryFile)[] | false | undefined;
  /** Each schema key is read from the variable with this prefix (`PORT` from `APP_PORT`). @default {""} */
  readonly envPrefix?: string | undefined;
  /**
   * The environment variables to read (tests, edge runtimes); the process environment is read
   * only when this is absent, one variable at a time (never listed, so Deno's
   * `--allow-env=<names>` is enough). @default {the process environment}
   */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Values that beat every source; keys may be dotted (`database.url`). @default {{}} */
  readonly overrides?: Readonly<Record<string, unknown>> | undefined;
  /** More keys to redact in `explain()` and `toJSON()`. @default {[]} */
  readonly secrets?: readonly string[] | undefined;
  /**
   * Called for each warning. With neither `onWarning` nor `logger`, warnings are written to
   * stdout as JSON lines shaped like `@plinth/logging`'s (`timestamp`, `level`, `service_name`
   * from SERVICE_NAME, `message`, `config_source`), none when LOG_LEVEL is error, fatal or silent.
   * @default {undefined}
   */
  readonly onWarning?: ((warning: ConfigWarning) => void) | undefined;
  /** A logger that receives each warning as `warn(message, { config_source })`. @default {undefined} */
  readonly logger?: ConfigLogger | undefined;
  /** Reads a file; inject it to load from anywhere. @default {node:fs, loaded only when needed} */
  readonly readFile?: ReadFile | undefined;
}

/**
 * One place a key was set.
 *
 * @example
 * ```ts
 * import { type ConfigSource, loadConfig } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const config = await loadConfig(z.object({ PORT: z.number() }), {
 *   dir: null,
 *   env: { PORT: "80" },
 *   dotenv: [{ name: ".env", content: "PORT=81" }],
 * });
 * const layers: readonly ConfigSource[] = config.explain("PORT")?.layers ?? [];
 * assert.deepEqual(layers, [{ source: "env", value: "80" }, { source: ".env:1", value: "81" }]);
 * ```
 */
export interface ConfigSource {
  /** `default`, `config.yaml:12`, `.env:3`, `env`, `override`. */
  readonly source: string;
  /** The value as set there, redacted when secret. */
  readonly value: string;
}

/**
 * Where a key's value came from.
 *
 * @example
 * ```ts
 * import { type ConfigExplanation, loadConfig } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const config = await loadConfig(z.object({ DATABASE_URL: z.string() }), {
 *   dir: null,
 *   env: { DATABASE_URL: "postgres://app:pw@db/app" },
 * });
 * const why: ConfigExplanation | undefined = config.explain("database.url");
 * assert.equal(why?.source, "env");
 * assert.equal(why?.value, "postgres://app:[REDACTED]@db/app");
 * ```
 */
export interface ConfigExplanation {
  /** The environment-style key. */
  readonly key: string;
  /** Where the effective value came from (`unset` when it has none). */
  readonly source: string;
  /** The effective value for display: `[REDACTED]` when secret, credentials in URLs and DSNs masked. */
  readonly value: string | undefined;
  /** Whether the key is treated as a secret. */
  readonly secret: boolean;
  /** Every layer that set the key, highest precedence first (the first one won). */
  readonly layers: readonly ConfigSource[];
}

/** Secret keys besides those `isSecretName` knows (`PWD`, `PASSWD`, `APIKEY`, `ACCESS_KEY`, …). */
const SECRET_RE = /SECRET|PASSWORD|TOKEN|PRIVATE_KEY|API_KEY|(?:^|_)PASS(?:_|$)/i;
const ENV_KEY_RE = /^[A-Z][A-Z0-9_]*$/;
const ENVIRONMENT_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const INT_RE = /^-?\d+$/;

/** Dotted or dashed keys to environment style: `database.url` → `DATABASE_URL`. */
function normaliseKey(key: string): string {
  return ENV_KEY_RE.test(key) ? key : key.split(".").map(toEnvKey).join("_");
}

function display(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return `${value}`;
  if (value instanceof Date) return value.toISOString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function deepFreeze<T>(value: T, depth = 0): T {
  if (typeof value === "object" && value !== null && depth < 64 && !Object.isFrozen(value)) {
    if (!(value instanceof Date) && !(value instanceof Map) && !(value instanceof Set)) {
      for (const key of Object.keys(value)) {
        deepFreeze((value as Record<string, unknown>)[key], depth + 1);
      }
    }
    Object.freeze(value);
  }
  return value;
}

interface Layer {
  name: string;
  entries: Map<string, FlatEntry>;
  /** Whether its keys are `file:line` sources. */
  located: boolean;
}

interface Winner {
  value: unknown;
  source: string;
  all: { source: string; value: unknown }[];
}

/**
 * Loaded, validated configuration: the typed frozen `values`, typed getters that also take
 * dotted keys, and `explain()` to tell where each value came from. Made by {@linkcode loadConfig}.
 *
 * @example
 * ```ts
 * import { loadConfig } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const config = await loadConfig(z.object({ PORT: z.number().int().default(8080) }), {
 *   env: {},
 *   dir: null,
 * });
 * assert.equal(config.values.PORT, 8080);
 * assert.equal(config.getInt("port"), 8080);
 * assert.equal(config.explain("PORT")?.source, "default");
 * ```
 */
export class Config<T extends Record<string, unknown> = Record<string, unknown>> {
  /** The validated values, typed from the schema, deeply frozen. */
  readonly values: Readonly<T>;
  /** The environment the config was loaded for. */
  readonly environment: string;
  /** Non-fatal notes from loading. */
  readonly warnings: readonly ConfigWarning[];
  #origins: Map<string, Winner>;
  #secret: (key: string) => boolean;

  /**
   * Use {@linkcode loadConfig}; this constructor is for it.
   *
   * @param values The validated values.
   * @param environment The environment name.
   * @param origins Where each key came from.
   * @param secret Whether a key is secret.
   * @param warnings Warnings collected while loading.
   */
  constructor(
    values: T,
    environment: string,
    origins: Map<string, Winner>,
    secret: (key: string) => boolean,
    warnings: readonly ConfigWarning[],
  ) {
    this.values = deepFreeze(values);
    this.environment = environment;
    this.warnings = Object.freeze([...warnings]);
    this.#origins = origins;
    this.#secret = secret;
    Object.freeze(this);
  }

  /**
   * The value of a key (`DATABASE_URL` or `database.url`), or `undefined` when unset.
   *
   * @param key An environment-style or dotted key.
   * @returns The value.
   *
   * @example
   * ```ts
   * import { loadConfig } from "@plinth/config";
   * import assert from "node:assert/strict";
   * import { z } from "zod";
   *
   * const config = await loadConfig(z.object({ DATABASE_URL: z.string() }), {
   *   env: { DATABASE_URL: "postgres://db/app" },
   *   dir: null,
   * });
   * assert.equal(config.get("database.url"), "postgres://db/app");
   * ```
   */
  get<K extends keyof T & string>(key: K): T[K];
  /**
   * The value of any key, dotted or environment-style, or `undefined` when unset.
   *
   * @param key An environment-style or dotted key.
   * @returns The value.
   */
  get(key: string): unknown;
  get(key: string): unknown {
    const values = this.values as Record<string, unknown>;
    const name = normaliseKey(key);
    return Object.hasOwn(values, name) ? values[name] : undefined;
  }

  /**
   * Whether a key has a value.
   *
   * @param key An environment-style or dotted key.
   * @returns `true` when set (by any source or a default).
   *
   * @example
   * ```ts
   * import { loadConfig } from "@plinth/config";
   * import assert from "node:assert/strict";
   * import { z } from "zod";
   *
   * const config = await loadConfig(z.object({ SENTRY_DSN: z.string().optional() }), {
   *   env: {},
   *   dir: null,
   * });
   * assert.equal(config.has("SENTRY_DSN"), false);
   * ```
   */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * The value as a string (numbers and booleans are converted).
   *
   * @param key An environment-style or dotted key.
   * @returns The string.
   * @throws {TypeError} When the key is unset or not a string, number, boolean or bigint.
   *
   * @example
   * ```ts
   * import { loadConfig } from "@plinth/config";
   * import assert from "node:assert/strict";
   * import { z } from "zod";
   *
   * const config = await loadConfig(z.object({ PORT: z.number() }), { env: { PORT: "80" }, dir: null });
   * assert.equal(config.getString("PORT"), "80");
   * ```
   */
  getString(key: string): string {
    const value = this.#required(key);
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
      return String(value);
    }
    throw new TypeError(
      `Cannot read config ${normaliseKey(key)} as a string: it is a ${typeof value}`,
    );
  }

  /**
   * The value as an integer.
   *
   * @param key An environment-style or dotted key.
   * @returns The integer.
   * @throws {TypeError} When the key is unset or not an integer.
   *
   * @example
   * ```ts
   * import { loadConfig } from "@plinth/config";
   * import assert from "node:assert/strict";
   * import { z } from "zod";
   *
   * const config = await loadConfig(z.object({ DB_POOL_MAX: z.number().int() }), {
   *   env: { DB_POOL_MAX: "25" },
   *   dir: null,
   * });
   * assert.equal(config.getInt("db.pool.max"), 25);
   * ```
   */
  getInt(key: string): number {
    const value = this.#required(key);
    if (typeof value === "number" && Number.isInteger(value)) return value;
    if (typeof value === "string" && INT_RE.test(value)) return Number(value);
    if (typeof value === "bigint" && Number.isSafeInteger(Number(value))) return Number(value);
    throw new TypeError(`Cannot read config ${normaliseKey(key)} as an integer`);
  }

  /**
   * The value as a number.
   *
   * @param key An environment-style or dotted key.
   * @returns The number.
   * @throws {TypeError} When the key is unset or not a number.
   *
   * @example
   * ```ts
   * import { loadConfig } from "@plinth/config";
   * import assert from "node:assert/strict";
   * import { z } from "zod";
   *
   * const config = await loadConfig(z.object({ SAMPLE_RATE: z.number() }), {
   *   env: { SAMPLE_RATE: "0.25" },
   *   dir: null,
   * });
   * assert.equal(config.getNumber("SAMPLE_RATE"), 0.25);
   * ```
   */
  getNumber(key: string): number {
    const value = this.#required(key);
    if (typeof value === "number") return value;
    if (typeof value === "string") {
      const coerced = coerce(value, { kind: "number" });
      if (coerced.ok) return coerced.value as number;
    }
    throw new TypeError(`Cannot read config ${normaliseKey(key)} as a number`);
  }

  /**
   * The value as a boolean.
   *
   * @param key An environment-style or dotted key.
   * @returns The boolean.
   * @throws {TypeError} When the key is unset or not a boolean.
   *
   * @example
   * ```ts
   * import { loadConfig } from "@plinth/config";
   * import assert from "node:assert/strict";
   * import { z } from "zod";
   *
   * const config = await loadConfig(z.object({ DEBUG: z.boolean() }), { env: { DEBUG: "off" }, dir: null });
   * assert.equal(config.getBool("DEBUG"), false);
   * ```
   */
  getBool(key: string): boolean {
    const value = this.#required(key);
    if (typeof value === "boolean") return value;
    if (typeof value === "string") {
      const coerced = coerce(value, { kind: "boolean" });
      if (coerced.ok) return coerced.value as boolean;
    }
    throw new TypeError(`Cannot read config ${normaliseKey(key)} as a boolean`);
  }

  /**
   * Where a key's value came from, and every layer that set it, with secrets redacted.
   *
   * @param key An environment-style or dotted key.
   * @returns The explanation, or `undefined` for a key the schema does not have.
   *
   * @example
   * ```ts
   * import { loadConfig } from "@plinth/config";
   * import assert from "node:assert/strict";
   * import { z } from "zod";
   *
   * const config = await loadConfig(z.object({ API_TOKEN: z.string() }), {
   *   env: { API_TOKEN: "t0ps3cret" },
   *   dotenv: [{ name: ".env", content: "API_TOKEN=from-dotenv" }],
   *   dir: null,
   * });
   * const why = config.explain("API_TOKEN");
   * assert.equal(why?.source, "env");
   * assert.equal(why?.value, "[REDACTED]");
   * assert.deepEqual(why?.layers.map((l) => l.source), ["env", ".env:1"]);
   * ```
   */
  explain(key: string): ConfigExplanation | undefined {
    const name = normaliseKey(key);
    const origin = this.#origins.get(name);
    if (origin === undefined) return undefined;
    const secret = this.#secret(name);
    const show = (value: unknown): string =>
      secret
        ? REDACTED
        : typeof value === "string"
        ? maskCredentials(value)
        : display(maskValue(value));
    const current = this.get(name);
    return Object.freeze({
      key: name,
      source: origin.source,
      value: current === undefined ? undefined : show(current),
      secret,
      layers: Object.freeze(
        origin.all.map((layer) =>
          Object.freeze({ source: layer.source, value: show(layer.value) })
        ),
      ),
    });
  }

  /**
   * The values with secrets redacted, so logging a config object leaks nothing: secret keys
   * are `[REDACTED]`; URL passwords, password query parameters and keyword DSN passwords are
   * masked inside every string, in arrays and objects too; a value whose credential cannot be
   * delimited is `[REDACTED]` whole.
   *
   * @returns A plain object safe to print.
   *
   * @example
   * ```ts
   * import { loadConfig } from "@plinth/config";
   * import assert from "node:assert/strict";
   * import { z } from "zod";
   *
   * const config = await loadConfig(z.object({ DB_PASSWORD: z.string(), PORT: z.number() }), {
   *   env: { DB_PASSWORD: "hunter2", PORT: "80" },
   *   dir: null,
   * });
   * assert.deepEqual(JSON.parse(JSON.stringify(config)), { DB_PASSWORD: "[REDACTED]", PORT: 80 });
   * ```
   */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.values)) {
      if (value === undefined) continue;
      out[key] = this.#secret(key) ? REDACTED : maskValue(value);
    }
    return out;
  }

  #required(key: string): unknown {
    const value = this.get(key);
    if (value === undefined) {
      throw new TypeError(`Cannot read config ${normaliseKey(key)}: it is not set`);
    }
    return value;
  }
}

function checkOptions(options: LoadConfigOptions): void {
  const { environment, envPrefix, dir, env } = options;
  if ((options as { source?: unknown }).source !== undefined) {
    throw new TypeError(
      "Invalid loadConfig option source: the environment record is passed as env",
    );
  }
  if (env !== undefined && (typeof env !== "object" || env === null || Array.isArray(env))) {
    throw new TypeError(
      "Invalid loadConfig option env: must be a record of variable names to strings",
    );
  }
  if (
    environment !== undefined &&
    (typeof environment !== "string" || !ENVIRONMENT_RE.test(environment))
  ) {
    throw new TypeError(
      "Invalid loadConfig option environment: use letters, digits, - and _ (it becomes part of file names)",
    );
  }
  if (
    envPrefix !== undefined && (typeof envPrefix !== "string" || !/^[A-Za-z0-9_]*$/.test(envPrefix))
  ) {
    throw new TypeError("Invalid loadConfig option envPrefix: use letters, digits and _");
  }
  if (dir !== undefined && dir !== null && typeof dir !== "string") {
    throw new TypeError("Invalid loadConfig option dir: must be a path or null");
  }
  if (options.onWarning !== undefined && typeof options.onWarning !== "function") {
    throw new TypeError("Invalid loadConfig option onWarning: must be a function");
  }
  const logger = options.logger;
  if (logger !== undefined && typeof (logger as { warn?: unknown } | null)?.warn !== "function") {
    throw new TypeError(
      "Invalid loadConfig option logger: must have a warn(message, fields) method",
    );
  }
  for (const key of ["files", "dotenv", "secrets"] as const) {
    const value = options[key];
    if (value !== undefined && value !== false && !Array.isArray(value)) {
      throw new TypeError(`Invalid loadConfig option ${key}: must be an array`);
    }
  }
}

/**
 * Loads configuration from every layer, coerces environment strings strictly into the
 * schema's types, validates, and returns a frozen {@linkcode Config}. Any problem — a missing
 * or invalid key in any layer — is collected, and all are thrown together.
 *
 * Precedence, low to high: schema defaults < `config.{yaml,json}` <
 * `config.<environment>.{yaml,json}` < `.env` < `.env.<environment>` < `.env.local` <
 * OS environment < `overrides`. Nested file keys flatten (`database: { url }` is
 * `DATABASE_URL`); an empty string counts as unset.
 *
 * @param schema A zod object schema whose keys are environment-style names (`PORT`).
 * @param options Environment name, files, env prefix, env, overrides, secrets, hooks.
 * @returns The loaded configuration.
 * @throws {ConfigError} Listing every missing or invalid key, its source and the rule broken.
 * @throws {ConfigParseError} When a file is malformed (with `file:line:column`) or unreadable,
 * including a missing read permission on Deno (naming the path and `--allow-read`).
 * @throws {ConfigError} With code `config_env_unreadable` when `env` is absent and a variable
 * config reads is refused (on Deno, naming it and the `--allow-env=` list to run with). Only
 * these are read: each schema key (with `envPrefix`), `APP_ENV` and `NODE_ENV` when
 * `environment` is not given, and names a `.env` file references with `${NAME}`.
 * @throws {TypeError} When the schema is not a zod object with environment-style keys, or an option is invalid.
 *
 * @example
 * ```ts
 * import { loadConfig } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const schema = z.object({
 *   DATABASE_URL: z.string(),
 *   PORT: z.number().int().default(8080),
 *   DEBUG: z.boolean().default(false),
 * });
 * const config = await loadConfig(schema, {
 *   environment: "production",
 *   dir: null,
 *   files: [{ name: "config.yaml", content: "database:\n  url: postgres://db/app\nport: 80\n" }],
 *   dotenv: [{ name: ".env", content: "PORT=8081\nDEBUG=yes\n" }],
 *   env: { PORT: "9090" },
 * });
 * assert.equal(config.values.DATABASE_URL, "postgres://db/app");
 * assert.equal(config.values.PORT, 9090);
 * assert.equal(config.values.DEBUG, true);
 * assert.equal(config.explain("DATABASE_URL")?.source, "config.yaml:2");
 * ```
 */
export async function loadConfig<S extends z.ZodObject>(
  schema: S,
  options: LoadConfigOptions = {},
): Promise<Config<z.output<S>>> {
  const shape = shapeOf(schema);
  if (shape === undefined) {
    throw new TypeError("Cannot load config: the schema must be a zod object (z.object({ ... }))");
  }
  const keys = Object.keys(shape);
  const badKey = keys.find((key) => !ENV_KEY_RE.test(key));
  if (badKey !== undefined) {
    throw new TypeError(
      `Cannot load config: schema key ${
        JSON.stringify(badKey)
      } must be environment-style (upper case, digits, _)`,
    );
  }
  checkOptions(options);

  const sink = warningSink(options.onWarning, options.logger);
  const state: LoadState = { layers: [], readEnv: undefined };
  try {
    return await assemble(schema, shape, options, sink, state);
  } finally {
    // Default warning lines carry SERVICE_NAME and LOG_LEVEL from the highest layer that has them,
    // else from the environment when it may be read (they only shape a log line).
    const prefix = options.envPrefix ?? "";
    const fromEnv = (name: string): string | undefined => {
      try {
        return state.readEnv?.(name);
      } catch {
        return undefined;
      }
    };
    sink.flush((name) => {
      for (let i = state.layers.length - 1; i >= 0; i--) {
        const value = state.layers[i]?.entries.get(name)?.value;
        if (typeof value === "string" && value !== "") return value;
      }
      return (prefix === "" ? undefined : fromEnv(prefix + name)) ?? fromEnv(name);
    });
  }
}

/** What {@linkcode assemble} has read so far, for the warning lines written when it ends. */
interface LoadState {
  layers: Layer[];
  readEnv: ReadEnv | undefined;
}

/** A read-only record that asks `read` for one name at a time (for `parseDotenvEntries`). */
function recordOf(read: ReadEnv): Readonly<Record<string, string | undefined>> {
  const descriptor = (name: string | symbol): PropertyDescriptor | undefined => {
    const value = typeof name === "string" ? read(name) : undefined;
    return value === undefined ? undefined : { value, enumerable: true, configurable: true };
  };
  return new Proxy(Object.create(null), {
    get: (_target, name) => descriptor(name)?.value,
    has: (_target, name) => descriptor(name) !== undefined,
    getOwnPropertyDescriptor: (_target, name) => descriptor(name),
  });
}

/** The body of {@linkcode loadConfig}, once the schema and options are checked. */
async function assemble<S extends z.ZodObject>(
  schema: S,
  shape: Record<string, unknown>,
  options: LoadConfigOptions,
  sink: WarningSink,
  state: LoadState,
): Promise<Config<z.output<S>>> {
  const keys = Object.keys(shape);
  const layers = state.layers;
  const warnings: ConfigWarning[] = [];
  const warn = (warning: ConfigWarning): void => {
    warnings.push(warning);
    sink.add(warning);
  };

  // Each variable is read by name (APP_ENV, NODE_ENV, the schema's keys with the prefix, and
  // names a .env file references): the environment is never listed, so Deno's
  // `--allow-env=<those names>` is all config needs.
  const prefix = options.envPrefix ?? "";
  const needed = [
    ...(options.environment === undefined ? ["APP_ENV", "NODE_ENV"] : []),
    ...keys.map((key) => prefix + key),
  ];
  const readEnv = envReader(options.env, needed);
  state.readEnv = readEnv;
  const environment = options.environment ??
    (readEnv("APP_ENV") || undefined) ?? (readEnv("NODE_ENV") || undefined) ?? "development";
  if (!ENVIRONMENT_RE.test(environment)) {
    throw new TypeError(
      "Invalid environment name from APP_ENV/NODE_ENV: use letters, digits, - and _",
    );
  }

  // The OS environment: each schema key, read under the prefix and stored stripped.
  const envEntries = new Map<string, FlatEntry>();
  for (const key of keys) {
    const value = readEnv(prefix + key);
    if (value !== undefined) envEntries.set(key, { value, line: undefined });
  }

  const kinds = new Map(keys.map((key) => [key, fieldKind(shape[key])]));
  const keepWhole = (key: string): boolean => kinds.get(key)?.kind === "object";
  const dir = options.dir === undefined ? "." : options.dir;
  const readFile = options.readFile ?? readFileFromDisk;

  // Config files and their per-environment variants, then the .env files: all read at once.
  const fileSpecs = options.files ?? ["config.yaml", "config.yml", "config.json"];
  const explicitFiles = options.files !== undefined;
  const dotenvSpecs = options.dotenv === false
    ? []
    : options.dotenv ?? [".env", `.env.${environment}`, ".env.local"];
  // With the default reader, list the directory once (most candidate names are absent), and
  // only when a file is to be read from it: in-memory files need no read permission.
  const readsDisk = [...fileSpecs, ...dotenvSpecs].some((spec) => typeof spec === "string");
  const listing = dir !== null && readsDisk && options.readFile === undefined
    ? await listDirectory(dir)
    : undefined;
  const read = async (name: string): Promise<string | undefined> => {
    if (dir === null) return undefined;
    if (listing !== undefined && !name.includes("/") && !listing.has(name)) return undefined;
    return await readFile(dir === "." ? name : `${dir.replace(/\/+$/, "")}/${name}`);
  };
  const variantOf = (name: string): string | undefined => {
    const dot = name.lastIndexOf(".");
    return dot > 0 ? `${name.slice(0, dot)}.${environment}${name.slice(dot)}` : undefined;
  };
  const load = (spec: string | InMemoryFile): Promise<{ name: string; text: string | undefined }> =>
    typeof spec === "string"
      ? read(spec).then((text) => ({ name: spec, text }))
      : Promise.resolve({ name: spec.name, text: String(spec.content) });
  const [baseFiles, variantFiles, dotenvFiles] = await Promise.all([
    Promise.all(fileSpecs.map(load)),
    Promise.all(fileSpecs.map((spec) => {
      const variant = typeof spec === "string" ? variantOf(spec) : undefined;
      return variant === undefined ? Promise.resolve({ name: "", text: undefined }) : load(variant);
    })),
    Promise.all(dotenvSpecs.map(load)),
  ]);

  for (const file of baseFiles) {
    if (file.text === undefined && explicitFiles && dir !== null) {
      throw new ConfigParseError("the file does not exist", {
        code: "config_file_unreadable",
        file: file.name,
      });
    }
  }
  for (const file of [...baseFiles, ...variantFiles]) {
    if (file.text === undefined) continue;
    layers.push({
      name: file.name,
      entries: parseConfigFile(file.name, file.text, keepWhole),
      located: true,
    });
  }

  // .env files; `${NAME}` reads the OS environment first, then earlier .env files.
  const dotenvSoFar: Record<string, string> = Object.create(null);
  for (const { name, text } of dotenvFiles) {
    if (text === undefined) continue;
    const { values, lines } = parseDotenvEntries(text, {
      file: name,
      env: recordOf((name) => readEnv(name) ?? dotenvSoFar[name]),
      onWarning: (w: DotenvWarning) => warn({ source: `${w.file}:${w.line}`, message: w.message }),
    });
    const entries = new Map<string, FlatEntry>();
    for (const key of Object.keys(values)) {
      entries.set(key, { value: values[key], line: lines[key] });
      dotenvSoFar[key] = values[key] as string;
    }
    layers.push({ name, entries, located: true });
  }

  // Keys in files that the schema does not know are probably typos.
  for (const layer of layers) {
    for (const [key, entry] of layer.entries) {
      if (!kinds.has(key)) {
        warn({
          source: entry.line === undefined ? layer.name : `${layer.name}:${entry.line}`,
          message: `${key} is not in the schema and is ignored`,
        });
      }
    }
  }

  layers.push({ name: "env", entries: envEntries, located: false });

  const overrideEntries = new Map<string, FlatEntry>();
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (UNSAFE_KEYS.has(key)) {
      throw new TypeError(`Invalid loadConfig override key ${JSON.stringify(key)}`);
    }
    overrideEntries.set(normaliseKey(key), { value, line: undefined });
  }
  layers.push({ name: "override", entries: overrideEntries, located: false });

  // Pick the highest layer that sets each key; empty strings count as unset.
  const origins = new Map<string, Winner>();
  const input: Record<string, unknown> = Object.create(null);
  const issues: ConfigIssue[] = [];
  for (const key of keys) {
    const all: { source: string; value: unknown }[] = [];
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i] as Layer;
      const entry = layer.entries.get(key);
      if (
        entry === undefined || entry.value === undefined || entry.value === "" ||
        entry.value === null
      ) {
        continue;
      }
      const where = layer.located && entry.line !== undefined
        ? `${layer.name}:${entry.line}`
        : layer.name;
      all.push({ source: where, value: entry.value });
    }
    const winner = all[0];
    origins.set(key, { value: winner?.value, source: winner?.source ?? "unset", all });
    if (winner === undefined) continue;
    if (typeof winner.value === "string") {
      const coerced = coerce(winner.value, kinds.get(key) ?? { kind: "other" });
      if (!coerced.ok) {
        issues.push({ key, source: winner.source, rule: coerced.rule });
        continue;
      }
      input[key] = coerced.value;
    } else if (
      kinds.get(key)?.kind === "string" &&
      (typeof winner.value === "number" || typeof winner.value === "boolean")
    ) {
      // YAML types `version: 1.10` or `enabled: yes`-like scalars; a string field wants the text.
      input[key] = String(winner.value);
    } else {
      input[key] = winner.value;
    }
  }

  const failed = new Set(issues.map((issue) => issue.key));
  const result = schema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? "");
      if (failed.has(key)) continue;
      failed.add(key);
      const origin = origins.get(key);
      const missing = issue.code === "invalid_type" && input[key] === undefined;
      issues.push({
        key: key === "" ? "(config)" : key,
        source: origin?.source ?? "unset",
        rule: missing ? "required" : ruleOf(issue),
      });
    }
  }
  if (issues.length > 0) {
    issues.sort((a, b) => keys.indexOf(a.key) - keys.indexOf(b.key));
    throw new ConfigError(invalidConfigMessage(issues), { code: "config_invalid", issues });
  }

  const values = result.data as z.output<S>;
  for (const key of keys) {
    const origin = origins.get(key) as Winner;
    const value = (values as Record<string, unknown>)[key];
    if (origin.all.length === 0 && value !== undefined) {
      origins.set(key, { value, source: "default", all: [{ source: "default", value }] });
    }
  }
  const extraSecrets = new Set((options.secrets ?? []).map(normaliseKey));
  const markedSecret = new Set(keys.filter((key) => isMarkedSecret(shape[key])));
  const secret = (key: string): boolean =>
    SECRET_RE.test(key) || isSecretName(key) || extraSecrets.has(key) || markedSecret.has(key);
  return new Config(values, environment, origins, secret, warnings);
}

/** zod's wording of a rule, which names the rule and never the rejected input. */
function ruleOf(issue: z.core.$ZodIssue): string {
  const message = issue.message;
  return message.length > 0 ? message[0]?.toLowerCase() + message.slice(1) : issue.code;
}
