import { ConfigParseError } from "./errors.ts";

/**
 * A note about a `.env` file that is not fatal: a duplicate key, a reference to an unset name.
 *
 * @example
 * ```ts
 * import { type DotenvWarning, parseDotenv } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * const warnings: DotenvWarning[] = [];
 * parseDotenv("A=1\nA=2", { onWarning: (warning) => warnings.push(warning) });
 * assert.equal(warnings[0]?.line, 2);
 * assert.equal(warnings[0]?.key, "A");
 * ```
 */
export interface DotenvWarning {
  /** The file's name. */
  readonly file: string;
  /** 1-based line of the entry concerned. */
  readonly line: number;
  /** The key concerned. */
  readonly key: string;
  /** What happened, without any value. */
  readonly message: string;
}

/**
 * Options of {@linkcode parseDotenv}.
 *
 * @example
 * ```ts
 * import { parseDotenv, type ParseDotenvOptions } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * const options: ParseDotenvOptions = { file: ".env.local", env: { HOME: "/home/app" } };
 * assert.equal(parseDotenv("DATA=${HOME}/data", options).DATA, "/home/app/data");
 * ```
 */
export interface ParseDotenvOptions {
  /** The file's name, for messages. @default {".env"} */
  readonly file?: string | undefined;
  /**
   * Names `${NAME}` may read besides the file's own keys, looked up first (the OS environment
   * beats `.env`, in expansions as in the merged config). @default {{}}
   */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Called for each warning. @default {undefined (warnings are dropped)} */
  readonly onWarning?: ((warning: DotenvWarning) => void) | undefined;
}

/**
 * A parsed `.env` file with the line of each key, as `loadConfig()` needs it.
 *
 * @example
 * ```ts
 * import { type DotenvEntries, parseDotenvEntries } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * const parsed: DotenvEntries = parseDotenvEntries("# comment\nPORT=80");
 * assert.equal(parsed.values.PORT, "80");
 * assert.equal(parsed.lines.PORT, 2);
 * ```
 */
export interface DotenvEntries {
  /** The values, on a null-prototype record. */
  readonly values: Record<string, string>;
  /** The 1-based line where each key's (last) definition starts. */
  readonly lines: Record<string, number>;
}

type Quote = "'" | '"' | "`" | "";

interface RawEntry {
  key: string;
  raw: string;
  quote: Quote;
  line: number;
}

/** How deep `${…}` may nest inside `${NAME:-…}` defaults. */
const MAX_NESTING = 16;
/** How many keys one value may reach through references (`A` → `${B}` → `${C}` …). */
const MAX_CHAIN = 32;
/** How long a value may grow by expansion, in UTF-16 code units (1 MiB). */
const MAX_VALUE_LENGTH = 1_048_576;
/** How long all the expanded values of one file may be together (8 MiB). */
const MAX_EXPANDED_TOTAL = 8_388_608;

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME_START_RE = /[A-Za-z_]/;
const NAME_RE = /[A-Za-z0-9_]/;

/**
 * Parses the text of a `.env` file into a null-prototype record.
 *
 * The rules: `KEY=value` lines, an optional `export ` prefix, spaces around `=`, blank lines
 * and `#` comments. Keys are POSIX names. Unquoted values are trimmed and end at a `#` that
 * follows whitespace. `'single'` and `` `backtick` `` values are literal; `"double"` values
 * unescape `\n \r \t \\ \" \$`; quoted values may span lines. `${NAME}`,
 * `${NAME:-default}` and `${NAME:?message}` expand in unquoted and double-quoted values
 * (`\${` keeps it literal; a bare `$NAME` and `$(command)` are never touched); a key that
 * references itself reads `env`. The last of duplicate keys wins, with a warning.
 *
 * Expansion is bounded: `${…}` nests at most 16 levels deep, a value reaches at most 32 keys
 * through references, a value expands to at most 1 MiB (1 048 576 characters) and a file's
 * expanded values to 8 MiB together; past a limit the parse fails, naming the key.
 *
 * @param text The file's contents (CRLF, lone CR and a UTF-8 BOM are fine).
 * @param options File name for messages, the environment for `${NAME}`, a warning hook.
 * @returns The values on a null-prototype object.
 * @throws {ConfigParseError} With code `config_invalid_dotenv` and `file:line` on any malformed line,
 * an unterminated quote (naming the line where it opened), a reference cycle, a `${NAME:?}`
 * whose name is unset, or an expansion past a limit.
 *
 * @example
 * ```ts
 * import { parseDotenv } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * const env = parseDotenv(
 *   [
 *     "# database",
 *     "export DB_HOST=db.internal",
 *     'DATABASE_URL="postgres://app@${DB_HOST}:5432/app"',
 *     "PASSWORD='pa$$word'",
 *     "URL=http://x/p#frag # a comment",
 *   ].join("\n"),
 * );
 * assert.equal(env.DATABASE_URL, "postgres://app@db.internal:5432/app");
 * assert.equal(env.PASSWORD, "pa$$word");
 * assert.equal(env.URL, "http://x/p#frag");
 * assert.equal(Object.getPrototypeOf(env), null);
 * ```
 */
export function parseDotenv(
  text: string,
  options: ParseDotenvOptions = {},
): Record<string, string> {
  return parseDotenvEntries(text, options).values;
}

/**
 * Like {@linkcode parseDotenv}, and also tells the line of each key (for `explain()`).
 *
 * @param text The file's contents.
 * @param options File name, environment, warning hook.
 * @returns The values and the line of each key.
 * @throws {ConfigParseError} As {@linkcode parseDotenv}.
 *
 * @example
 * ```ts
 * import { parseDotenvEntries } from "@plinth/config";
 * import assert from "node:assert/strict";
 *
 * const { values, lines } = parseDotenvEntries("\nA=1\n\nB=2\n");
 * assert.equal(values.B, "2");
 * assert.equal(lines.B, 4);
 * ```
 */
export function parseDotenvEntries(
  text: string,
  options: ParseDotenvOptions = {},
): DotenvEntries {
  const file = options.file ?? ".env";
  const warn = options.onWarning ?? (() => {});
  const raw = scan(normalise(String(text)), file);

  const entries = new Map<string, RawEntry>();
  for (const entry of raw) {
    const previous = entries.get(entry.key);
    if (previous !== undefined) {
      warn({
        file,
        line: entry.line,
        key: entry.key,
        message: `${entry.key} is defined again (first on line ${previous.line}); the last wins`,
      });
      entries.delete(entry.key); // keep file order of the winning definition
    }
    entries.set(entry.key, entry);
  }

  const env = options.env ?? {};
  const values: Record<string, string> = Object.create(null);
  const lines: Record<string, number> = Object.create(null);
  const resolving: string[] = [];
  let expandedTotal = 0;

  const lookup = (name: string, from: RawEntry): string | undefined => {
    if (name === from.key) return envValue(env, name);
    const fromEnv = envValue(env, name);
    if (fromEnv !== undefined) return fromEnv;
    const entry = entries.get(name);
    return entry === undefined ? undefined : resolve(entry);
  };

  const resolve = (entry: RawEntry): string => {
    const done = values[entry.key];
    if (done !== undefined) return done;
    if (resolving.includes(entry.key)) {
      const cycle = [...resolving.slice(resolving.indexOf(entry.key)), entry.key].join(" → ");
      throw new ConfigParseError(`\${${entry.key}} references itself through ${cycle}`, {
        code: "config_invalid_dotenv",
        file,
        line: entry.line,
      });
    }
    if (resolving.length >= MAX_CHAIN) {
      const first = entries.get(resolving[0] as string) as RawEntry;
      fail(
        `the \${…} references of ${first.key} go more than ${MAX_CHAIN} keys deep (at ${entry.key})`,
        file,
        first.line,
      );
    }
    resolving.push(entry.key);
    let value: string;
    if (entry.quote === "'" || entry.quote === "`") value = entry.raw;
    else {
      value = expand(entry, file, (name) => lookup(name, entry), warn);
      if (entry.raw.includes("${")) {
        expandedTotal += value.length;
        if (expandedTotal > MAX_EXPANDED_TOTAL) {
          fail(
            `the values expanded from \${…} add up to more than ${MAX_EXPANDED_TOTAL} characters (at ${entry.key})`,
            file,
            entry.line,
          );
        }
      }
    }
    resolving.pop();
    values[entry.key] = value;
    return value;
  };

  for (const entry of entries.values()) {
    resolve(entry);
    lines[entry.key] = entry.line;
  }
  // Resolution order can differ from file order; present the keys in file order.
  const ordered: Record<string, string> = Object.create(null);
  for (const key of entries.keys()) ordered[key] = values[key] as string;
  return { values: ordered, lines };
}

function envValue(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  return Object.hasOwn(env, name) ? env[name] : undefined;
}

function normalise(text: string): string {
  const noBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return noBom.replace(/\r\n?/g, "\n");
}

function fail(reason: string, file: string, line: number, column?: number): never {
  throw new ConfigParseError(reason, { code: "config_invalid_dotenv", file, line, column });
}

/** Splits the text into raw entries: key, unprocessed value, quote kind and line. */
function scan(text: string, file: string): RawEntry[] {
  const entries: RawEntry[] = [];
  let pos = 0;
  let line = 1;
  const n = text.length;

  while (pos < n) {
    const lineStart = pos;
    // Leading whitespace, blank lines and comment lines.
    while (pos < n && (text[pos] === " " || text[pos] === "\t")) pos++;
    if (pos >= n) break;
    if (text[pos] === "\n") {
      pos++;
      line++;
      continue;
    }
    if (text[pos] === "#") {
      while (pos < n && text[pos] !== "\n") pos++;
      continue;
    }

    // Key, with an optional `export ` prefix.
    if (text.startsWith("export", pos) && (text[pos + 6] === " " || text[pos + 6] === "\t")) {
      let after = pos + 6;
      while (after < n && (text[after] === " " || text[after] === "\t")) after++;
      if (after < n && text[after] !== "=" && text[after] !== "\n") pos = after;
    }
    const keyStart = pos;
    while (pos < n && !" \t=\n:".includes(text[pos] as string)) pos++;
    const key = text.slice(keyStart, pos);
    const column = keyStart - lineStart + 1;
    if (key === "") fail('expected a key before "="', file, line, column);
    if (!KEY_RE.test(key)) {
      fail(
        "invalid key: keys are letters, digits and underscores, not starting with a digit",
        file,
        line,
        column,
      );
    }
    if (key === "__proto__") fail("the key __proto__ is not allowed", file, line, column);
    while (pos < n && (text[pos] === " " || text[pos] === "\t")) pos++;
    if (text[pos] !== "=") {
      fail(`expected "=" after ${key}`, file, line, pos - lineStart + 1);
    }
    pos++;
    while (pos < n && (text[pos] === " " || text[pos] === "\t")) pos++;

    const entryLine = line;
    const open = text[pos];
    if (open === "'" || open === '"' || open === "`") {
      const quoteLine = line;
      const quoteColumn = pos - lineStart + 1;
      let end = pos + 1;
      for (; end < n; end++) {
        const ch = text[end];
        if (ch === open) break;
        if (ch === "\\" && open === '"' && end + 1 < n) {
          if (text[end + 1] === "\n") line++;
          end++;
        } else if (ch === "\n") line++;
      }
      if (end >= n) {
        fail(`unterminated ${open} quote opened here`, file, quoteLine, quoteColumn);
      }
      entries.push({ key, raw: text.slice(pos + 1, end), quote: open, line: entryLine });
      pos = end + 1;
      // Only whitespace and a ` # comment` may follow a closing quote.
      const restStart = pos;
      while (pos < n && (text[pos] === " " || text[pos] === "\t")) pos++;
      if (pos < n && text[pos] !== "\n") {
        if (text[pos] === "#" && pos > restStart) {
          while (pos < n && text[pos] !== "\n") pos++;
        } else {
          fail(
            `unexpected text after the closing ${open} quote of ${key}`,
            file,
            line,
            pos - text.lastIndexOf("\n", pos - 1),
          );
        }
      }
    } else {
      let end = pos;
      while (end < n && text[end] !== "\n") {
        if (text[end] === "#" && (text[end - 1] === " " || text[end - 1] === "\t")) {
          break;
        }
        end++;
      }
      entries.push({ key, raw: text.slice(pos, end).trim(), quote: "", line: entryLine });
      pos = end;
      while (pos < n && text[pos] !== "\n") pos++;
    }
  }
  return entries;
}

const DOUBLE_ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  r: "\r",
  t: "\t",
  "\\": "\\",
  '"': '"',
  $: "$",
};

/** Unescapes (double quotes) and expands `${…}` in one pass, so `\$` stays literal. */
function expand(
  entry: RawEntry,
  file: string,
  lookup: (name: string) => string | undefined,
  warn: (warning: DotenvWarning) => void,
): string {
  return expandText(entry.raw, entry.quote === '"', entry, file, lookup, warn);
}

function expandText(
  text: string,
  double: boolean,
  entry: RawEntry,
  file: string,
  lookup: (name: string) => string | undefined,
  warn: (warning: DotenvWarning) => void,
): string {
  let out = "";
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i] as string;
    if (ch === "\\") {
      const next = text[i + 1];
      if (double && next !== undefined && Object.hasOwn(DOUBLE_ESCAPES, next)) {
        out += DOUBLE_ESCAPES[next];
        i += 2;
        continue;
      }
      if (!double && next === "$" && text[i + 2] === "{") {
        out += "${";
        i += 3;
        continue;
      }
      out += ch;
      i++;
      continue;
    }
    if (ch === "$" && text[i + 1] === "{") {
      const close = matchingBrace(text, i + 2);
      if (close === TOO_DEEP) {
        fail(
          `the value of ${entry.key} nests \${…} more than ${MAX_NESTING} levels deep`,
          file,
          entry.line,
        );
      }
      if (close === -1) {
        fail(`unterminated \${ in the value of ${entry.key}`, file, entry.line);
      }
      out += reference(text.slice(i + 2, close), double, entry, file, lookup, warn);
      if (out.length > MAX_VALUE_LENGTH && out.length > entry.raw.length) {
        fail(
          `the value of ${entry.key} expands to more than ${MAX_VALUE_LENGTH} characters`,
          file,
          entry.line,
        );
      }
      i = close + 1;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

const TOO_DEEP = -2;

/** The index of the `}` closing a `${`, -1 when there is none, TOO_DEEP past MAX_NESTING. */
function matchingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === "\\") {
      i++;
    } else if (text[i] === "$" && text[i + 1] === "{") {
      depth++;
      if (depth > MAX_NESTING) return TOO_DEEP;
      i++;
    } else if (text[i] === "}") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function reference(
  body: string,
  double: boolean,
  entry: RawEntry,
  file: string,
  lookup: (name: string) => string | undefined,
  warn: (warning: DotenvWarning) => void,
): string {
  let end = 0;
  if (body.length > 0 && NAME_START_RE.test(body[0] as string)) {
    end = 1;
    while (end < body.length && NAME_RE.test(body[end] as string)) end++;
  }
  const name = body.slice(0, end);
  const operator = body.slice(end, end + 2);
  if (name === "" || (end < body.length && operator !== ":-" && operator !== ":?")) {
    fail(
      `invalid reference in the value of ${entry.key}: use \${NAME}, \${NAME:-default} or \${NAME:?message}`,
      file,
      entry.line,
    );
  }
  const value = lookup(name);
  const unset = value === undefined || value === "";
  if (operator === ":-") {
    return unset ? expandText(body.slice(end + 2), double, entry, file, lookup, warn) : value;
  }
  if (operator === ":?") {
    if (!unset) return value;
    const message = body.slice(end + 2);
    fail(
      `${name} is required by ${entry.key}${message === "" ? "" : `: ${message}`}`,
      file,
      entry.line,
    );
  }
  if (value === undefined) {
    warn({
      file,
      line: entry.line,
      key: entry.key,
      message: `${entry.key} references \${${name}}, which is not set; it expands to ""`,
    });
    return "";
  }
  return value;
}
