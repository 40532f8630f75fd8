// Reading just enough of a zod v4 schema to coerce environment strings into its types.
import { z } from "zod";

/** The type a field wants, seen through optional/default/nullable/pipe wrappers. */
export type FieldKind =
  | { kind: "string" | "number" | "integer" | "boolean" | "bigint" | "date" | "object" | "other" }
  | { kind: "array"; element: FieldKind }
  | { kind: "literal"; values: readonly unknown[] };

interface ZodInternals {
  _zod?: { def?: Record<string, unknown> };
}

function defOf(schema: unknown): Record<string, unknown> | undefined {
  try {
    return (schema as ZodInternals)?._zod?.def;
  } catch {
    return undefined;
  }
}

const WRAPPERS = new Set([
  "optional",
  "nullable",
  "default",
  "prefault",
  "catch",
  "readonly",
  "nonoptional",
]);
const INT_FORMATS = new Set(["safeint", "int32", "uint32", "int64", "uint64"]);

/** Each layer of a schema, outermost first, following wrappers and pipes' input side. */
function layers(schema: unknown): unknown[] {
  const out: unknown[] = [];
  let current = schema;
  for (let i = 0; i < 32 && current !== undefined; i++) {
    out.push(current);
    const def = defOf(current);
    if (def === undefined) break;
    const type = def["type"];
    if (typeof type === "string" && WRAPPERS.has(type)) current = def["innerType"];
    else if (type === "pipe") current = def["in"];
    else if (type === "lazy" && typeof def["getter"] === "function") {
      current = (def["getter"] as () => unknown)();
    } else break;
  }
  return out;
}

function isInteger(schema: unknown, def: Record<string, unknown>): boolean {
  if (typeof def["format"] === "string" && INT_FORMATS.has(def["format"])) return true;
  const checks = def["checks"];
  if (Array.isArray(checks)) {
    for (const check of checks) {
      const format = defOf(check)?.["format"];
      if (typeof format === "string" && INT_FORMATS.has(format)) return true;
    }
  }
  return (schema as { isInt?: unknown }).isInt === true;
}

/** What to coerce an environment string into for this field. */
export function fieldKind(schema: unknown): FieldKind {
  const all = layers(schema);
  const base = all[all.length - 1];
  const def = defOf(base);
  switch (def?.["type"]) {
    case "string":
    case "enum":
    case "template_literal":
      return { kind: "string" };
    case "number":
      return { kind: isInteger(base, def) ? "integer" : "number" };
    case "int":
      return { kind: "integer" };
    case "boolean":
      return { kind: "boolean" };
    case "bigint":
      return { kind: "bigint" };
    case "date":
      return { kind: "date" };
    case "object":
    case "record":
      return { kind: "object" };
    case "array":
      return { kind: "array", element: fieldKind(def["element"]) };
    case "literal":
      return { kind: "literal", values: (def["values"] as unknown[] | undefined) ?? [] };
    default:
      return { kind: "other" };
  }
}

/** Whether any layer of the field is marked secret with `.meta({ secret: true })`. */
export function isMarkedSecret(schema: unknown): boolean {
  for (const layer of layers(schema)) {
    try {
      const meta = z.globalRegistry.get(layer as z.ZodType);
      if (meta !== undefined && (meta as Record<string, unknown>)["secret"] === true) return true;
    } catch {
      // Not a zod schema: nothing registered.
    }
  }
  return false;
}

/** The object schema's fields, or undefined when it is not a zod object. */
export function shapeOf(schema: unknown): Record<string, unknown> | undefined {
  const def = defOf(schema);
  if (def?.["type"] !== "object") return undefined;
  const shape = (schema as { shape?: unknown }).shape;
  return typeof shape === "object" && shape !== null ? shape as Record<string, unknown> : undefined;
}

const INT_RE = /^-?\d+$/;
const NUMBER_RE = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  "1": true,
  "0": false,
  yes: true,
  no: false,
  on: true,
  off: false,
};

/** The result of coercing one string. */
export type Coerced = { ok: true; value: unknown } | { ok: false; rule: string };

/** Turns an environment string into the field's type, strictly. */
export function coerce(raw: string, kind: FieldKind): Coerced {
  const text = raw.trim();
  switch (kind.kind) {
    case "integer":
      return INT_RE.test(text)
        ? { ok: true, value: Number(text) }
        : { ok: false, rule: "must be an integer (digits with an optional leading -)" };
    case "number":
      return NUMBER_RE.test(text)
        ? { ok: true, value: Number(text) }
        : { ok: false, rule: "must be a number" };
    case "boolean": {
      const value = BOOLEANS[text.toLowerCase()];
      return value === undefined
        ? { ok: false, rule: "must be a boolean (true/false, 1/0, yes/no, on/off)" }
        : { ok: true, value };
    }
    case "bigint":
      return INT_RE.test(text)
        ? { ok: true, value: BigInt(text) }
        : { ok: false, rule: "must be an integer" };
    case "date": {
      const time = Date.parse(text);
      return /^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(time)
        ? { ok: true, value: new Date(time) }
        : { ok: false, rule: "must be an ISO 8601 date" };
    }
    case "object":
      return parseJsonText(text, "{", "must be a JSON object");
    case "array": {
      let items: unknown[];
      if (text.startsWith("[")) {
        const parsed = parseJsonText(text, "[", "must be a JSON array or a comma-separated list");
        if (!parsed.ok) return parsed;
        items = parsed.value as unknown[];
      } else {
        items = text === ""
          ? []
          : text.split(",").map((item) => item.trim()).filter((s) => s !== "");
      }
      const out: unknown[] = [];
      for (const [index, item] of items.entries()) {
        if (typeof item !== "string") {
          out.push(item);
          continue;
        }
        const element = coerce(item, kind.element);
        if (!element.ok) return { ok: false, rule: `item ${index + 1} ${element.rule}` };
        out.push(element.value);
      }
      return { ok: true, value: out };
    }
    case "literal": {
      for (const literal of kind.values) {
        if (String(literal) === text) return { ok: true, value: literal };
      }
      return { ok: true, value: raw };
    }
    default:
      return { ok: true, value: raw };
  }
}

function parseJsonText(text: string, opener: string, rule: string): Coerced {
  if (!text.startsWith(opener)) return { ok: false, rule };
  try {
    const value: unknown = JSON.parse(text);
    if (opener === "[" ? Array.isArray(value) : typeof value === "object" && value !== null) {
      if (containsUnsafeKey(value)) {
        return { ok: false, rule: "must not contain __proto__, prototype or constructor keys" };
      }
      return { ok: true, value };
    }
  } catch {
    // Reported below.
  }
  return { ok: false, rule };
}

/** Keys that could reach a prototype when merged. */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(["__proto__", "prototype", "constructor"]);

function containsUnsafeKey(value: unknown, depth = 0): boolean {
  if (depth > 64 || typeof value !== "object" || value === null) return false;
  for (const key of Object.keys(value)) {
    if (UNSAFE_KEYS.has(key)) return true;
    if (containsUnsafeKey((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}
