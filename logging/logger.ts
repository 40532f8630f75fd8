import { serializeError } from "@plinth/errors";
import { type ContextRecord, currentContext } from "./_context_store.ts";
import { LINE_KEYS, quote, Serializer } from "./_json.ts";
import { builtin, envVar } from "./_node.ts";
import { prettyLine } from "./_pretty.ts";
import { isoTime } from "./_time.ts";
import { fileDestination, type LogWriter, stdoutDestination } from "./destination.ts";
import { type LogLevel, parseLogLevel } from "./level.ts";
import { DEFAULT_REDACT_KEYS, QUERY_REDACT_KEYS } from "./redact.ts";
import { hasEmptyKey, secretKeyMatcher } from "./_secret_keys.ts";

/**
 * Fields of one line or bound to a logger: a plain object whose values may be anything
 * (strings, numbers, BigInt, Date, Map, Set, typed arrays, errors, nested objects, cycles).
 * `undefined` values are left out.
 *
 * @example
 * ```ts
 * import { createLogger, type LogFields } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const fields: LogFields = { org_id: 42n, tags: new Set(["a"]) };
 * createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } }).info("x", fields);
 * const line = JSON.parse(lines[0]!);
 * assert.equal(line.org_id, "42");
 * assert.deepEqual(line.tags, ["a"]);
 * ```
 */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The line formats: `json` (one JSON object per line) or `pretty` (readable, for local use).
 *
 * @example
 * ```ts
 * import type { LogFormat } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const format: LogFormat = "pretty";
 * assert.equal(format, "pretty");
 * ```
 */
export type LogFormat = "json" | "pretty";

/**
 * A structured logger. Each method writes one line when its level is enabled; none of them
 * throws, whatever the fields hold (fields that cannot be read at all, such as a revoked proxy,
 * are written as `"fields":"[Unserializable]"`). Each method takes the message first, or — as
 * pino does — the fields (or, for `error` and `fatal`, an `Error`) first and the message second.
 *
 * @example
 * ```ts
 * import { createLogger, type Logger } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger: Logger = createLogger({
 *   service: "user-svc",
 *   level: "debug",
 *   destination: { write: (line) => lines.push(line) },
 * });
 * logger.debug("cache miss", { key: "user:1" });
 * assert.equal(JSON.parse(lines[0]!).level, "debug");
 * ```
 *
 * @example pino's argument order works too
 * ```ts
 * import { createLogger } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({ service: "svc", destination: { write: (l) => lines.push(l) } });
 * logger.info({ user_id: 1 }, "user loaded");
 * logger.error(new Error("db down"), "query failed");
 * const [info, error] = lines.map((line) => JSON.parse(line));
 * assert.deepEqual([info.message, info.user_id], ["user loaded", 1]);
 * assert.deepEqual([error.message, error.err.message], ["query failed", "db down"]);
 * ```
 */
export interface Logger {
  /** The lowest level written; set it at run time (a level name in any case). */
  level: LogLevel;
  /** Writes a `debug` line. */
  debug(message: string, fields?: LogFields): void;
  /** Writes a `debug` line; pino's argument order (fields first, then the message). */
  debug(fields: LogFields, message?: string): void;
  /** Writes an `info` line. */
  info(message: string, fields?: LogFields): void;
  /** Writes an `info` line; pino's argument order (fields first, then the message). */
  info(fields: LogFields, message?: string): void;
  /** Writes a `warn` line. */
  warn(message: string, fields?: LogFields): void;
  /** Writes a `warn` line; pino's argument order (fields first, then the message). */
  warn(fields: LogFields, message?: string): void;
  /** Writes an `error` line. */
  error(message: string, fields?: LogFields): void;
  /** Writes an `error` line with `error` (any thrown value) serialised under `err`. */
  error(message: string, error: unknown, fields?: LogFields): void;
  /**
   * Writes an `error` line; pino's argument order: an `Error` (written under `err`) or fields
   * first, then the message (an error's own message when there is none).
   */
  error(errorOrFields: Error | LogFields, message?: string): void;
  /** Writes a `fatal` line and flushes the destination (it does not exit the process). */
  fatal(message: string, fields?: LogFields): void;
  /** Writes a `fatal` line with `error` under `err`, and flushes. */
  fatal(message: string, error: unknown, fields?: LogFields): void;
  /** Writes a `fatal` line, pino's argument order (an `Error` or fields first), and flushes. */
  fatal(errorOrFields: Error | LogFields, message?: string): void;
  /** A logger that adds `fields` to every line (serialised once, now). */
  child(fields: LogFields): Logger;
  /** Whether a line at `level` would be written. */
  isLevelEnabled(level: LogLevel): boolean;
  /** Writes out whatever the destination buffers. */
  flush(): Promise<void>;
}

/**
 * Options of {@linkcode createLogger}.
 *
 * @example
 * ```ts
 * import { createLogger, type LoggerOptions } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const options: LoggerOptions = {
 *   service: "billing",
 *   level: "warn",
 *   fields: { region: "eu-west-1" },
 *   redact: ["card_number"],
 *   destination: { write: (line) => lines.push(line) },
 *   now: () => Date.UTC(2026, 10, 22, 1, 2, 3, 456),
 * };
 * createLogger(options).warn("charge declined", { card_number: "4111…" });
 * assert.equal(
 *   lines[0],
 *   '{"timestamp":"2026-11-22T01:02:03.456Z","level":"warn","service_name":"billing",' +
 *     '"message":"charge declined","region":"eu-west-1","card_number":"[REDACTED]"}\n',
 * );
 * ```
 */
export interface LoggerOptions {
  /** `service_name` of every line. @default {the SERVICE_NAME variable, else "unknown_service"} */
  readonly service?: string | undefined;
  /** Lowest level written. @default {the LOG_LEVEL variable, else "info"} */
  readonly level?: LogLevel | undefined;
  /** Fields on every line (serialised once). @default {{}} */
  readonly fields?: LogFields | undefined;
  /** Where lines go: a writer, or a file path (appended). @default {stdoutDestination()} */
  readonly destination?: LogWriter | string | undefined;
  /**
   * Keys redacted besides {@linkcode DEFAULT_REDACT_KEYS}, matched the same way: by normalised
   * name (any case, `-` and `_` ignored) and by suffix (`card_number` also covers
   * `primaryCardNumber`). @default {[]}
   */
  readonly redact?: readonly string[] | undefined;
  /** `json`, or `pretty` for local development. @default {the LOG_FORMAT variable, else "json"} */
  readonly format?: LogFormat | undefined;
  /** The clock for `timestamp`: epoch milliseconds, like `Date.now`. @default {Date.now} */
  readonly now?: (() => number) | undefined;
  /** Where SERVICE_NAME, LOG_LEVEL and LOG_FORMAT are read. @default {process.env} */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

const LEVEL_NAMES = ["debug", "info", "warn", "error", "fatal"] as const;
const LEVEL_RANK: Readonly<Record<LogLevel, number>> = {
  debug: 0,
  info: 1,
  warn: 2,
  error: 3,
  fatal: 4,
  silent: 5,
};
const DEBUG = 0;
const INFO = 1;
const WARN = 2;
const ERROR = 3;
const FATAL = 4;
const NO_FIELDS: LogFields = Object.freeze({});

interface Core {
  readonly prefixes: readonly string[];
  readonly serializer: Serializer;
  readonly writer: LogWriter;
  readonly now: () => number;
  readonly pretty: ((line: string) => string) | undefined;
}

interface Bound {
  readonly fields: LogFields;
  readonly keys: ReadonlySet<string>;
  readonly chunk: string;
}

interface LevelCell {
  rank: number;
}

function safeText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return "[Unprintable]";
  }
}

/** What a non-string first argument is: pino's order puts fields or an error first. */
function kindOf(value: unknown): "fields" | "error" | "other" {
  if (typeof value !== "object" || value === null) return "other";
  try {
    if (Array.isArray(value)) return "other";
    return value instanceof Error ? "error" : "fields";
  } catch {
    // A revoked proxy answers nothing: it is written as unreadable fields.
    return "fields";
  }
}

function isFields(value: unknown): value is LogFields {
  return kindOf(value) === "fields";
}

function isErrorValue(value: unknown): boolean {
  return kindOf(value) === "error";
}

function errorMessage(error: unknown): string {
  try {
    const message = (error as { message?: unknown }).message;
    return typeof message === "string" ? message : "";
  } catch {
    return "";
  }
}

/** Marks call or bound fields that could not be read (their keys trap and throw). */
const UNREADABLE_FIELDS = "[Unserializable]";

/** Copies the own enumerable fields, reading each safely; `undefined` values are dropped. */
function copyFields(
  fields: LogFields,
  into: Record<string, unknown> = {},
): Record<string, unknown> {
  let keys: string[];
  try {
    keys = Object.keys(fields);
  } catch {
    into["fields"] = UNREADABLE_FIELDS;
    return into;
  }
  for (const key of keys) {
    let value: unknown;
    try {
      value = fields[key];
    } catch {
      value = "[Unreadable]";
    }
    if (value !== undefined) into[key] = value;
  }
  return into;
}

/**
 * The fields part of a line, merged key by key: context fields, then bound fields, then the
 * error, then call fields; a later value replaces an earlier one in its place. Line keys are
 * renamed `fields.<key>`; a context id is kept, and a field of the same name is dropped when
 * equal, else renamed `fields.<key>`; a call field `err` beside an error argument is renamed.
 */
function mergedFields(
  serializer: Serializer,
  ctx: ContextRecord | undefined,
  bound: LogFields,
  error: { value: unknown } | undefined,
  call: LogFields | undefined,
): string {
  const ids = ctx?.idValues;
  const entries = new Map<string, unknown>();
  const put = (key: string, value: unknown, isCall: boolean): void => {
    if (LINE_KEYS.has(key)) key = `fields.${key}`;
    else if (ids !== undefined && ids.has(key)) {
      if (Object.is(ids.get(key), value)) return;
      key = `fields.${key}`;
    } else if (isCall && error !== undefined && key === "err") key = "fields.err";
    entries.set(key, value);
  };
  if (ctx !== undefined) { for (const [key, value] of ctx.extras) put(key, value, false); }
  for (const [key, value] of Object.entries(bound)) put(key, value, false);
  if (error !== undefined) entries.set("err", serializeError(error.value));
  if (call !== undefined) {
    for (const [key, value] of Object.entries(copyFields(call))) put(key, value, true);
  }
  let out = ctx === undefined ? "" : ctx.ids;
  for (const [key, value] of entries) out += serializer.entry(key, value);
  return out;
}

function makeBound(serializer: Serializer, fields: Record<string, unknown>): Bound {
  const frozen = Object.freeze(fields);
  return {
    fields: frozen,
    keys: new Set(Object.keys(frozen)),
    chunk: mergedFields(serializer, undefined, frozen, undefined, undefined),
  };
}

class PlinthLogger implements Logger {
  readonly #core: Core;
  readonly #bound: Bound;
  #cell: LevelCell;
  #ownsCell: boolean;

  constructor(core: Core, bound: Bound, cell: LevelCell, ownsCell: boolean) {
    this.#core = core;
    this.#bound = bound;
    this.#cell = cell;
    this.#ownsCell = ownsCell;
  }

  get level(): LogLevel {
    return this.#cell.rank === 5 ? "silent" : LEVEL_NAMES[this.#cell.rank] ?? "info";
  }

  set level(value: LogLevel) {
    const level = parseLogLevel(value);
    if (level === undefined) {
      throw new RangeError(
        "Invalid log level: must be one of debug, info, warn, error, fatal, silent",
      );
    }
    if (this.#ownsCell) this.#cell.rank = LEVEL_RANK[level];
    else {
      this.#cell = { rank: LEVEL_RANK[level] };
      this.#ownsCell = true;
    }
  }

  isLevelEnabled(level: LogLevel): boolean {
    const name = parseLogLevel(level);
    return name !== undefined && name !== "silent" && LEVEL_RANK[name] >= this.#cell.rank;
  }

  debug(message: string | LogFields, fields?: LogFields | string): void {
    if (this.#cell.rank > DEBUG) return;
    this.#emit(DEBUG, message, false, undefined, fields);
  }

  info(message: string | LogFields, fields?: LogFields | string): void {
    if (this.#cell.rank > INFO) return;
    this.#emit(INFO, message, false, undefined, fields);
  }

  warn(message: string | LogFields, fields?: LogFields | string): void {
    if (this.#cell.rank > WARN) return;
    this.#emit(WARN, message, false, undefined, fields);
  }

  error(message: string | Error | LogFields, errorOrFields?: unknown, fields?: LogFields): void {
    if (this.#cell.rank > ERROR) return;
    this.#emitWithError(ERROR, message, errorOrFields, fields);
  }

  fatal(message: string | Error | LogFields, errorOrFields?: unknown, fields?: LogFields): void {
    if (this.#cell.rank > FATAL) return;
    this.#emitWithError(FATAL, message, errorOrFields, fields);
    try {
      const flushed = this.#core.writer.flush?.();
      if (flushed instanceof Promise) flushed.catch(() => {});
    } catch {
      // fatal() never throws; the line was handed over.
    }
  }

  child(fields: LogFields): Logger {
    if (!isFields(fields)) {
      throw new TypeError("Cannot create child logger: fields must be an object");
    }
    const merged = copyFields(fields, { ...this.#bound.fields });
    return new PlinthLogger(
      this.#core,
      makeBound(this.#core.serializer, merged),
      this.#cell,
      false,
    );
  }

  async flush(): Promise<void> {
    await this.#core.writer.flush?.();
  }

  #emitWithError(
    level: number,
    message: unknown,
    errorOrFields: unknown,
    fields: LogFields | undefined,
  ): void {
    if (typeof message !== "string") {
      // pino's order, `error(err, "message")`: #emit sorts the first argument out.
      this.#emit(level, message, false, undefined, errorOrFields);
      return;
    }
    if (fields === undefined && (errorOrFields === undefined || isFields(errorOrFields))) {
      this.#emit(level, message, false, undefined, errorOrFields as LogFields | undefined);
    } else this.#emit(level, message, errorOrFields !== undefined, errorOrFields, fields);
  }

  #emit(
    level: number,
    message: unknown,
    hasError: boolean,
    error: unknown,
    fields: unknown,
  ): void {
    const core = this.#core;
    let line: string;
    if (typeof message !== "string") {
      // pino's order puts fields (or an error) first and the message second.
      const kind = hasError ? "other" : kindOf(message);
      const pinoOrder = fields === undefined || typeof fields === "string";
      if (kind === "error") {
        hasError = true;
        error = message;
        message = typeof fields === "string" ? fields : errorMessage(error);
        if (pinoOrder) fields = undefined;
      } else if (kind === "fields" && pinoOrder) {
        const text = fields ?? "";
        fields = message;
        message = text;
      } else message = safeText(message);
    }
    try {
      line = this.#line(level, message as string, hasError, error, fields as LogFields);
    } catch {
      try {
        line = this.#safeLine(level, message as string, hasError, error, fields as LogFields);
      } catch {
        line = this.#lastResortLine(level, message as string);
      }
    }
    try {
      if (core.pretty !== undefined) line = core.pretty(line);
      core.writer.write(line);
    } catch {
      // Logging never throws; a writer that throws loses this line.
    }
  }

  /** A line with no fields at all, for when even the general path failed. */
  #lastResortLine(level: number, message: string): string {
    return '{"timestamp":"' + isoTime(Date.now()) + this.#core.prefixes[level] +
      quote(this.#core.serializer.mask(message)) + ',"log_error":"Cannot serialise this line"}\n';
  }

  #head(level: number, message: string): string {
    const core = this.#core;
    return '{"timestamp":"' + isoTime(core.now()) + core.prefixes[level] +
      quote(core.serializer.mask(message));
  }

  #line(
    level: number,
    message: string,
    hasError: boolean,
    error: unknown,
    fields: LogFields | undefined,
  ): string {
    const core = this.#core;
    const ctx = currentContext();
    const bound = this.#bound;
    const boundKeys = bound.keys;
    if (ctx !== undefined && boundKeys.size > 0 && ctx.overlaps(boundKeys)) {
      return this.#safeLine(level, message, hasError, error, fields);
    }
    const serializer = core.serializer;
    let tail = "";
    if (hasError) tail = ',"err":' + serializer.value(serializeError(error), 0, undefined);
    if (fields !== undefined) {
      if (typeof fields !== "object" || fields === null || fields instanceof Error) {
        return this.#safeLine(level, message, hasError, error, fields);
      }
      for (const key in fields) {
        const value = fields[key];
        if (value === undefined || !Object.hasOwn(fields, key)) continue;
        const info = serializer.key(key);
        if (
          info.reserved || (boundKeys.size > 0 && boundKeys.has(key)) ||
          (ctx !== undefined && ctx.keys.has(key)) || (hasError && key === "err")
        ) {
          return this.#safeLine(level, message, hasError, error, fields);
        }
        if (info.redacted && typeof value !== "boolean" && value !== null) {
          tail += info.prefix + '"[REDACTED]"';
        } else {
          const json = serializer.value(value, 0, undefined);
          if (json !== undefined) tail += info.prefix + json;
        }
      }
    }
    const head = this.#head(level, message);
    return ctx === undefined
      ? head + bound.chunk + tail + "}\n"
      : head + ctx.chunk(serializer) + bound.chunk + tail + "}\n";
  }

  /** The general path: collisions, hostile field objects. */
  #safeLine(
    level: number,
    message: string,
    hasError: boolean,
    error: unknown,
    fields: LogFields | undefined,
  ): string {
    const head = this.#head(level, message);
    if (!hasError && isErrorValue(fields)) {
      hasError = true;
      error = fields;
      fields = undefined;
    }
    try {
      const body = mergedFields(
        this.#core.serializer,
        currentContext(),
        this.#bound.fields,
        hasError ? { value: error } : undefined,
        fields === undefined ? undefined : isFields(fields) ? fields : { fields },
      );
      return head + body + "}\n";
    } catch {
      return head + ',"log_error":"Cannot serialise the fields of this line"}\n';
    }
  }
}

function checkOptions(options: LoggerOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("Invalid logger options: must be an object");
  }
  const { service, level, fields, destination, redact, format, now, env } = options;
  if (service !== undefined && (typeof service !== "string" || service === "")) {
    throw new TypeError("Invalid logger option service: must be a non-empty string");
  }
  if (level !== undefined && parseLogLevel(level) === undefined) {
    throw new RangeError(
      "Invalid logger option level: must be one of debug, info, warn, error, fatal, silent",
    );
  }
  if (fields !== undefined && !isFields(fields)) {
    throw new TypeError("Invalid logger option fields: must be a plain object");
  }
  if (
    destination !== undefined && !(typeof destination === "string" && destination !== "") &&
    !(typeof destination === "object" && destination !== null &&
      typeof destination.write === "function")
  ) {
    throw new TypeError(
      "Invalid logger option destination: must be a file path or an object with write()",
    );
  }
  if (
    redact !== undefined &&
    !(Array.isArray(redact) && redact.every((key) => typeof key === "string"))
  ) {
    throw new TypeError("Invalid logger option redact: must be an array of key names");
  }
  if (redact !== undefined && hasEmptyKey(redact)) {
    throw new TypeError("Invalid logger option redact: every key name needs a letter or digit");
  }
  if (format !== undefined && format !== "json" && format !== "pretty") {
    throw new RangeError('Invalid logger option format: must be "json" or "pretty"');
  }
  if (now !== undefined && typeof now !== "function") {
    throw new TypeError("Invalid logger option now: must be a function");
  }
  if ((options as { clock?: unknown }).clock !== undefined) {
    throw new TypeError("Invalid logger option clock: the clock option is called now");
  }
  if (env !== undefined && (typeof env !== "object" || env === null)) {
    throw new TypeError("Invalid logger option env: must be an object");
  }
}

function colorWanted(env: (name: string) => string | undefined): boolean {
  if (env("NO_COLOR") !== undefined && env("NO_COLOR") !== "") return false;
  const tty = builtin<{ isatty(fd: number): boolean }>("node:tty");
  try {
    return tty?.isatty(1) === true;
  } catch {
    return false;
  }
}

/**
 * Creates a logger. Each line is one JSON object, keys in this order: `timestamp` (UTC,
 * RFC 3339 with milliseconds), `level`, `service_name`, `message`, the request context's
 * `request_id`, `trace_id` and `span_id` (when present) and other context fields, the bound
 * `fields` (and those of `child()`), then the call's fields. Values that collide with those
 * line keys are renamed `fields.<key>`; see the package README for the whole rule.
 *
 * An invalid `LOG_LEVEL` variable is reported as one `warn` line and `info` is used; an
 * invalid `level` option throws.
 *
 * @param options Service name, level, bound fields, destination, redaction, format, clock, environment.
 * @returns The logger.
 * @throws {TypeError} When an option has the wrong type.
 * @throws {RangeError} When `level` or `format` names no level or format.
 * @throws {LoggingError} When `destination` is a file path that cannot be opened (`log_file_unavailable`).
 *
 * @example
 * ```ts
 * import { createLogger } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const logger = createLogger({
 *   service: "user-svc",
 *   destination: { write: (line) => lines.push(line) },
 *   now: () => Date.UTC(2026, 10, 22, 1, 2, 3, 456),
 * }).child({ module: "orgs" });
 * logger.info("org created", { org_id: 7 });
 * logger.debug("not written at info");
 * assert.deepEqual(lines.map((line) => JSON.parse(line)), [{
 *   timestamp: "2026-11-22T01:02:03.456Z",
 *   level: "info",
 *   service_name: "user-svc",
 *   message: "org created",
 *   module: "orgs",
 *   org_id: 7,
 * }]);
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  checkOptions(options);
  const env = options.env === undefined
    ? envVar
    : (name: string): string | undefined => options.env?.[name];
  const service = options.service ?? (env("SERVICE_NAME") || "unknown_service");
  let invalidLevel: string | undefined;
  let level = options.level === undefined ? undefined : parseLogLevel(options.level);
  if (level === undefined) {
    const fromEnv = env("LOG_LEVEL");
    if (fromEnv !== undefined && fromEnv !== "") {
      level = parseLogLevel(fromEnv);
      if (level === undefined) invalidLevel = fromEnv;
    }
  }
  const formatEnv = env("LOG_FORMAT")?.trim().toLowerCase();
  const format = options.format ?? (formatEnv === "pretty" ? "pretty" : "json");
  const serializer = new Serializer(
    secretKeyMatcher([...DEFAULT_REDACT_KEYS, ...(options.redact ?? [])]),
    secretKeyMatcher([...DEFAULT_REDACT_KEYS, ...QUERY_REDACT_KEYS, ...(options.redact ?? [])]),
  );
  const destination = options.destination;
  const writer = destination === undefined
    ? stdoutDestination()
    : typeof destination === "string"
    ? fileDestination(destination)
    : destination;
  const color = format === "pretty" && destination === undefined && colorWanted(env);
  const serviceJson = quote(service);
  const core: Core = {
    prefixes: LEVEL_NAMES.map((name) =>
      `","level":"${name}","service_name":${serviceJson},"message":`
    ),
    serializer,
    writer,
    now: options.now ?? Date.now,
    pretty: format === "pretty" ? (line) => prettyLine(line, color) : undefined,
  };
  const bound = makeBound(serializer, copyFields(options.fields ?? NO_FIELDS));
  const logger = new PlinthLogger(core, bound, { rank: LEVEL_RANK[level ?? "info"] }, true);
  if (invalidLevel !== undefined) {
    logger.warn(
      "Invalid LOG_LEVEL: must be one of debug, info, warn, error, fatal, silent; using info",
      {
        log_level: invalidLevel.slice(0, 64),
      },
    );
  }
  return logger;
}
