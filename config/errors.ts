/**
 * Machine codes of {@linkcode ConfigParseError}: which kind of file could not be read.
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
 * assert.equal(code, "invalid_dotenv");
 * ```
 */
export type ConfigParseErrorCode =
  | "invalid_dotenv"
  | "invalid_yaml"
  | "invalid_json"
  | "unsafe_key"
  | "unreadable_file";

/**
 * Options of {@linkcode ConfigParseError}.
 *
 * @example
 * ```ts
 * import { ConfigParseError, type ConfigParseErrorOptions } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * const options: ConfigParseErrorOptions = { code: "invalid_yaml", file: "config.yaml", line: 4, column: 3 };
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
 * A config source (a `.env`, YAML or JSON file) that cannot be parsed. The message names the
 * file, line and column and the rule broken — never the text of the offending value.
 *
 * @example
 * ```ts
 * import { ConfigParseError, parseDotenv } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseDotenv("PORT 8080", { file: ".env" }), (error) => {
 *   assert.ok(error instanceof ConfigParseError);
 *   assert.equal(error.code, "invalid_dotenv");
 *   assert.equal(error.line, 1);
 *   return true;
 * });
 * ```
 */
export class ConfigParseError extends Error {
  /** What went wrong, for callers that switch on it. */
  readonly code: ConfigParseErrorCode;
  /** The file's name. */
  readonly file: string;
  /** 1-based line, when known. */
  readonly line: number | undefined;
  /** 1-based column, when known. */
  readonly column: number | undefined;

  /**
   * Creates the error; the message is prefixed with `file:line:column`.
   *
   * @param reason The rule broken, without any value from the file.
   * @param options Code, file, position and cause.
   */
  constructor(reason: string, options: ConfigParseErrorOptions) {
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
 * assert.match(new ConfigError([issue]).message, /Invalid config PORT \(from \.env:3\): must be an integer/);
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
 * Every problem of a configuration at once: thrown by `loadConfig()` when any key is missing
 * or invalid. An `AggregateError` whose `errors` hold one `Error` per problem and whose
 * `issues` list the key, source and rule of each; the message lists them all and never a value.
 *
 * @example
 * ```ts
 * import { ConfigError, loadConfig } from "@plinth/config";
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 *
 * const schema = z.object({ DATABASE_URL: z.string(), PORT: z.number().int() });
 * await assert.rejects(loadConfig(schema, { source: { PORT: "80a" }, dir: null }), (error) => {
 *   assert.ok(error instanceof ConfigError);
 *   assert.deepEqual(error.issues.map((issue) => issue.key), ["DATABASE_URL", "PORT"]);
 *   assert.match(error.message, /Missing required config: DATABASE_URL/);
 *   return true;
 * });
 * ```
 */
export class ConfigError extends AggregateError {
  /** The problems, in schema order. */
  readonly issues: readonly ConfigIssue[];

  /**
   * Creates the error from its issues.
   *
   * @param issues The problems; the message lists each.
   */
  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map(describeIssue);
    super(
      lines.map((line) => new Error(line)),
      `Invalid configuration (${issues.length} ${issues.length === 1 ? "problem" : "problems"}):\n${
        lines.map((line) => `  - ${line}`).join("\n")
      }`,
    );
    this.name = "ConfigError";
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ ...issue })));
  }
}

function describeIssue(issue: ConfigIssue): string {
  if (issue.rule === "required") return `Missing required config: ${issue.key}`;
  const from = issue.source === "unset" ? "" : ` (from ${issue.source})`;
  return `Invalid config ${issue.key}${from}: ${issue.rule}`;
}
