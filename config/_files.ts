// Config files (YAML 1.2 and JSON) parsed into flat environment-style keys with their lines.
import { isMap, isScalar, LineCounter, parseDocument, visit } from "yaml";
import { ConfigParseError } from "./errors.ts";
import { lineColumn, parseJson } from "./_json.ts";
import { UNSAFE_KEYS } from "./_schema.ts";
import { yamlReason } from "./_yaml_errors.ts";
import { isDenoPermissionError } from "./_read.ts";

/** One flattened value of a file and the line it is on. */
export interface FlatEntry {
  value: unknown;
  line: number | undefined;
}

/** `databaseUrl`, `database-url`, `database.url` → `DATABASE_URL`. */
export function toEnvKey(segment: string): string {
  return segment
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toUpperCase();
}

/** Whether a file name is parsed as JSON (else YAML). */
export function isJsonFile(name: string): boolean {
  return name.toLowerCase().endsWith(".json");
}

/**
 * Parses a config file and flattens nested mappings into environment-style keys
 * (`database: { url }` → `DATABASE_URL`), keeping whole the values of keys for which
 * `keepWhole` is true (object-typed schema fields) and every array.
 */
export function parseConfigFile(
  name: string,
  text: string,
  keepWhole: (key: string) => boolean,
): Map<string, FlatEntry> {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const { data, lineOf } = isJsonFile(name) ? readJson(name, source) : readYaml(name, source);
  const out = new Map<string, FlatEntry>();
  if (data === null || data === undefined) return out;
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigParseError("the top level must be a mapping of keys to values", {
      code: isJsonFile(name) ? "config_invalid_json" : "config_invalid_yaml",
      file: name,
      line: 1,
      column: 1,
    });
  }
  const walk = (object: Record<string, unknown>, prefix: string, path: string[]): void => {
    for (const key of Object.keys(object)) {
      const memberPath = [...path, key];
      const segment = toEnvKey(key);
      if (segment === "") {
        throw new ConfigParseError("a key has no letters or digits", {
          code: "config_unsafe_key",
          file: name,
          line: lineOf(memberPath),
        });
      }
      const envKey = prefix === "" ? segment : `${prefix}_${segment}`;
      const value = object[key];
      if (
        typeof value === "object" && value !== null && !Array.isArray(value) &&
        !(value instanceof Date) && !keepWhole(envKey)
      ) {
        walk(value as Record<string, unknown>, envKey, memberPath);
      } else {
        out.set(envKey, { value, line: lineOf(memberPath) });
      }
    }
  };
  walk(data as Record<string, unknown>, "", []);
  return out;
}

interface Parsed {
  data: unknown;
  lineOf: (path: string[]) => number | undefined;
}

function unsafeKey(name: string, key: string, line: number | undefined, column?: number): never {
  throw new ConfigParseError(`the key ${JSON.stringify(key)} is not allowed`, {
    code: "config_unsafe_key",
    file: name,
    line,
    column,
  });
}

function readJson(name: string, text: string): Parsed {
  let parsed;
  try {
    parsed = parseJson(text);
  } catch (error) {
    const offset = (error as { offset?: number }).offset ?? 0;
    const { line, column } = lineColumn(text, offset);
    throw new ConfigParseError(`invalid JSON: ${(error as Error).message}`, {
      code: "config_invalid_json",
      file: name,
      line,
      column,
      cause: error,
    });
  }
  for (const [path, offset] of parsed.offsets) {
    const key = path.split("\u0000").pop() as string;
    if (UNSAFE_KEYS.has(key)) {
      const { line, column } = lineColumn(text, offset);
      unsafeKey(name, key, line, column);
    }
  }
  return {
    data: parsed.value,
    lineOf: (path) => {
      const offset = parsed.offsets.get(path.join("\u0000"));
      return offset === undefined ? undefined : lineColumn(text, offset).line;
    },
  };
}

function readYaml(name: string, text: string): Parsed {
  const lineCounter = new LineCounter();
  let doc;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    // The yaml package reads LOG_TOKENS and LOG_STREAM while parsing (its debug switches).
    if (!isDenoPermissionError(error)) throw error;
    throw new ConfigParseError(
      "cannot parse YAML: the yaml package reads the LOG_TOKENS and LOG_STREAM variables: " +
        "run Deno with --allow-env=LOG_TOKENS,LOG_STREAM (or --allow-env), or use a JSON file",
      { code: "config_file_unreadable", file: name, cause: error },
    );
  }
  // Messages name the kind of error and where, never the parser's words: they can quote the file.
  function fail(code: string | undefined, offset: number | undefined): never {
    const position = offset === undefined ? undefined : lineCounter.linePos(offset);
    throw new ConfigParseError(yamlReason(code), {
      code: "config_invalid_yaml",
      file: name,
      line: position?.line,
      column: position?.col,
    });
  }
  const [first] = doc.errors;
  if (first !== undefined) fail(first.code, first.pos[0]);
  visit(doc, {
    Alias(_key, alias) {
      if (alias.resolve(doc) === undefined) fail("BAD_ALIAS", alias.range?.[0]);
    },
  });
  const lines = new Map<string, number>();
  const walk = (node: unknown, path: string[]): void => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const keyNode = pair.key;
      if (!isScalar(keyNode)) {
        fail("NON_STRING_KEY", (keyNode as { range?: [number] } | null)?.range?.[0]);
      }
      const key = String(keyNode.value);
      const keyPosition = keyNode.range ? lineCounter.linePos(keyNode.range[0]) : undefined;
      if (UNSAFE_KEYS.has(key)) unsafeKey(name, key, keyPosition?.line, keyPosition?.col);
      const memberPath = [...path, key];
      if (keyPosition !== undefined) lines.set(memberPath.join("\u0000"), keyPosition.line);
      walk(pair.value, memberPath);
    }
  };
  walk(doc.contents, []);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch {
    // Unresolved aliases were caught above; what throws here is expansion past maxAliasCount.
    fail("RESOURCE_EXHAUSTION", undefined);
  }
  return { data, lineOf: (path) => lines.get(path.join("\u0000")) };
}
