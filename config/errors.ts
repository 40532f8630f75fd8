import { describeIssue } from "./_issues.ts";

/**
 * Every machine code `@plinth/config` throws, for callers (and logs) that switch on `code`.
 * {@linkcode CONFIG_ERROR_CODES} lists them; each has status 500, since a service with bad
 * configuration cannot serve.
 *
 * - `config_invalid` ({@linkcode ConfigError}): a key is missing or breaks its schema rule.
 * - `config_env_unreadable` ({@linkcode ConfigError}): a variable of the process environment cannot be read.
 * - `config_file_unreadable`, `config_invalid_yaml`, `config_invalid_json`,
 *   `config_invalid_dotenv`, `config_unsafe_key` ({@linkcode ConfigParseError}): see
 *   {@linkcode ConfigParseErrorCode}.
 *
 * @example
 * ```ts
 * import { CONFIG_ERROR_CODES, type ConfigErrorCode, loadConfig } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * let code: ConfigErrorCode | undefined;
 * try {
 *   await loadConfig(z.object({ PORT: z.number() }), { dir: null, env: {} });
 * } catch (error) {
 *   code = (error as { code: ConfigErrorCode }).code;
 * }
 * assert.equal(code, "config_invalid");
 * assert.ok(CONFIG_ERROR_CODES.includes(code));
 * ```
 */
export type ConfigErrorCode =
  | "config_invalid"
  | "config_env_unreadable"
  | ConfigParseErrorCode;

/**
 * Machine codes of {@linkcode ConfigParseError}: which kind of file could not be read.
 *
 * - `config_file_unreadable`: missing (when named in `files`), not permitted, or no file system.
 * - `config_invalid_yaml`, `config_invalid_json`, `config_invalid_dotenv`: malformed text.
 * - `config_unsafe_key`: a key that is not allowed (`__proto__`, or one with no letters or digits).
 *
 * @example
 * ```ts
 * import { type ConfigParseErrorCode, parseDotenv } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * let code: ConfigParseErrorCode | undefined;
 * try {
 *   parseDotenv("A='unterminated");
 * } catch (error) {
 *   code = (error as { code: ConfigParseErrorCode }).code;
 * }
 * assert.equal(code, "config_invalid_dotenv");
 * ```
 */
export type ConfigParseErrorCode =
  | "config_file_unreadable"
  | "config_invalid_yaml"
  | "config_invalid_json"
  | "config_invalid_dotenv"
  | "config_unsafe_key";

/** The HTTP status of each code: all 500 (the service is misconfigured, not the request). */
const STATUS: Readonly<Record<ConfigErrorCode, number>> = Object.freeze({
  config_invalid: 500,
  config_env_unreadable: 500,
  config_file_unreadable: 500,
  config_invalid_yaml: 500,
  config_invalid_json: 500,
  config_invalid_dotenv: 500,
  config_unsafe_key: 500,
});

/** The codes of {@linkcode ConfigError}; the others belong to {@linkcode ConfigParseError}. */
const CONFIG_ERROR_OWN_CODES: ReadonlySet<string> = new Set([
  "config_invalid",
  "config_env_unreadable",
]);

/**
 * The codes of {@linkcode ConfigErrorCode}, frozen: every code `@plinth/config` throws.
 *
 * @example
 * ```ts
 * import { CONFIG_ERROR_CODES } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * assert.ok(CONFIG_ERROR_CODES.includes("config_invalid_yaml"));
 * assert.ok(Object.isFrozen(CONFIG_ERROR_CODES));
 * ```
 */
export const CONFIG_ERROR_CODES: readonly ConfigErrorCode[] = Object.freeze(
  Object.keys(STATUS) as ConfigErrorCode[],
);

/** The status of `code` when `owns` it, else a `TypeError` naming the codes it accepts. */
function statusOf(what: string, code: unknown, owns: (code: string) => boolean): number {
  if (typeof code === "string" && Object.hasOwn(STATUS, code) && owns(code)) {
    return STATUS[code as ConfigErrorCode];
  }
  throw new TypeError(
    `Cannot create ${what}: options.code must be one of ${
      CONFIG_ERROR_CODES.filter(owns).join(", ")
    }`,
  );
}

/**
 * Options of {@linkcode ConfigParseError}.
 *
 * @example
 * ```ts
 * import { ConfigParseError, type ConfigParseErrorOptions } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * const options: ConfigParseErrorOptions = {
 *   code: "config_invalid_yaml",
 *   file: "config.yaml",
 *   line: 4,
 *   column: 3,
 * };
 * assert.equal(
 *   new ConfigParseError('duplicate key "port"', options).message,
 *   'Cannot load config file config.yaml:4:3: duplicate key "port"',
 * );
 * ```
 */
export interface ConfigParseErrorOptions {
  /** What went wrong. */
  readonly code: ConfigParseErrorCode;
  /** The file's name as the user knows it (`config.yaml`, `.env.local`). */
  readonly file: string;
  /** 1-based line of the problem. @default {undefined} */
  readonly line?: number | undefined;
  /** 1-based column of the problem. @default {undefined} */
  readonly column?: number | undefined;
  /** The parser's own error. @default {undefined} */
  readonly cause?: unknown;
}

/**
 * A config source (a `.env`, YAML or JSON file) that cannot be read or parsed. The message
 * names the file, line and column and the rule broken — never the text of the offending value.
 * It has a stable `code` and `status` 500; it is not an `AppError` (config depends on no other
 * plinth package), so an HTTP error handler renders it as a generic 500.
 *
 * @example
 * ```ts
 * import { ConfigParseError, parseDotenv } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseDotenv("PORT 8080", { file: ".env" }), (error) => {
 *   assert.ok(error instanceof ConfigParseError);
 *   assert.equal(error.code, "config_invalid_dotenv");
 *   assert.equal(error.status, 500);
 *   assert.equal(error.line, 1);
 *   return true;
 * });
 * ```
 */
export class ConfigParseError extends Error {
  /** What went wrong, for callers that switch on it. */
  readonly code: ConfigParseErrorCode;
  /** The HTTP status of the code: 500. */
  readonly status: number;
  /** The file's name. */
  readonly file: string;
  /** 1-based line, when known. */
  readonly line: number | undefined;
  /** 1-based column, when known. */
  readonly column: number | undefined;

  /**
   * Creates the error; the message is the reason prefixed with `file:line:column`.
   *
   * @param reason The rule broken, without any value from the file.
   * @param options Code, file, position and cause.
   * @throws {TypeError} When `options.code` is not a {@linkcode ConfigParseErrorCode}.
   */
  constructor(reason: string, options: ConfigParseErrorOptions) {
    const status = statusOf(
      "ConfigParseError",
      options?.code,
      (code) => !CONFIG_ERROR_OWN_CODES.has(code),
    );
    const where = options.line === undefined
      ? options.file
      : `${options.file}:${options.line}${
        options.column === undefined ? "" : `:${options.column}`
      }`;
    super(
      `Cannot load config file ${where}: ${reason}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "ConfigParseError";
    this.code = options.code;
    this.status = status;
    this.file = options.file;
    this.line = options.line;
    this.column = options.column;
  }
}

/**
 * One problem found while validating configuration.
 *
 * @example
 * ```ts
 * import { ConfigError, type ConfigIssue } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * const issue: ConfigIssue = { key: "PORT", source: ".env:3", rule: "must be an integer" };
 * const error = new ConfigError("Invalid configuration", { code: "config_invalid", issues: [issue] });
 * assert.equal(error.errors[0].message, "Invalid config PORT (from .env:3): must be an integer");
 * ```
 */
export interface ConfigIssue {
  /** The environment-style key (`DATABASE_URL`). */
  readonly key: string;
  /** Where the value came from (`env`, `.env:3`, `config.yaml:12`, `default`), or `unset`. */
  readonly source: string;
  /** The rule broken, never the value: `required`, `must be an integer`, … */
  readonly rule: string;
}

/**
 * Options of {@linkcode ConfigError}.
 *
 * @example
 * ```ts
 * import { ConfigError, type ConfigErrorOptions } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * const options: ConfigErrorOptions = {
 *   code: "config_invalid",
 *   issues: [{ key: "REPLICAS", source: "env", rule: "must not exceed MAX_REPLICAS" }],
 * };
 * const error = new ConfigError("Invalid configuration: REPLICAS", options);
 * assert.equal(error.issues[0]?.key, "REPLICAS");
 * assert.equal(error.status, 500);
 * ```
 */
export interface ConfigErrorOptions {
  /** What went wrong: `config_invalid` (bad values) or `config_env_unreadable`. */
  readonly code: "config_invalid" | "config_env_unreadable";
  /** The problems, one per key; each becomes one entry of `errors`. @default {[]} */
  readonly issues?: readonly ConfigIssue[] | undefined;
  /** The error behind this one. @default {undefined} */
  readonly cause?: unknown;
}

/**
 * Configuration that cannot be loaded: thrown by `loadConfig()` with code `config_invalid`
 * when any key is missing or invalid — every problem at once — and with
 * `config_env_unreadable` when a variable of the process environment cannot be read. An `AggregateError`
 * whose `errors` hold one `Error` per problem and whose `issues` list the key, source and rule
 * of each; the message lists them all and never a value. It has `status` 500 and is not an
 * `AppError` (config depends on no other plinth package), so an HTTP error handler renders it
 * as a generic 500.
 *
 * @example
 * ```ts
 * import { ConfigError, loadConfig } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const schema = z.object({ DATABASE_URL: z.string(), PORT: z.number().int() });
 * await assert.rejects(loadConfig(schema, { env: { PORT: "80a" }, dir: null }), (error) => {
 *   assert.ok(error instanceof ConfigError);
 *   assert.equal(error.code, "config_invalid");
 *   assert.deepEqual(error.issues.map((issue) => issue.key), ["DATABASE_URL", "PORT"]);
 *   assert.match(error.message, /Missing required config: DATABASE_URL/);
 *   return true;
 * });
 * ```
 */
export class ConfigError extends AggregateError {
  /** What went wrong, for callers that switch on it. */
  readonly code: "config_invalid" | "config_env_unreadable";
  /** The HTTP status of the code: 500. */
  readonly status: number;
  /** The problems, in schema order (empty for `config_env_unreadable`). */
  readonly issues: readonly ConfigIssue[];

  /**
   * Creates the error.
   *
   * @param message What went wrong, for logs; never a value.
   * @param options Code, issues (each also an entry of `errors`) and cause.
   * @throws {TypeError} When `options.code` is not one of ConfigError's codes.
   */
  constructor(message: string, options: ConfigErrorOptions) {
    const status = statusOf(
      "ConfigError",
      options?.code,
      (code) => CONFIG_ERROR_OWN_CODES.has(code),
    );
    const issues = options.issues ?? [];
    super(
      issues.map((issue) => new Error(describeIssue(issue))),
      String(message),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "ConfigError";
    this.code = options.code;
    this.status = status;
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ ...issue })));
  }
}
