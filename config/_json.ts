// A JSON parser that knows where everything is: the line of each member (for explain()) and
// the line and column of a syntax error (runtimes word and place JSON.parse errors differently).

/** A syntax error at an offset of the text. */
export class JsonSyntaxError extends Error {
  /** 0-based offset of the problem. */
  readonly offset: number;
  constructor(reason: string, offset: number) {
    super(reason);
    this.name = "JsonSyntaxError";
    this.offset = offset;
  }
}

/** A parsed JSON value plus the offset where each object member's value starts. */
export interface PositionedJson {
  value: unknown;
  /** Offsets of member values, keyed by their path joined with "\u0000". */
  offsets: Map<string, number>;
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_DEPTH = 512;

/** Parses JSON text, rejecting duplicate keys. @throws {JsonSyntaxError} */
export function parseJson(text: string): PositionedJson {
  const offsets = new Map<string, number>();
  let pos = 0;

  const ws = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };

  const string = (): string => {
    const start = pos;
    pos++; // opening quote
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        try {
          return JSON.parse(text.slice(start, pos)) as string;
        } catch {
          throw new JsonSyntaxError("invalid escape in string", start);
        }
      }
      if (c === 0x5c) pos += 2;
      else if (c < 0x20) throw new JsonSyntaxError("control character in string", pos);
      else pos++;
    }
    throw new JsonSyntaxError("unterminated string", start);
  };

  const value = (path: string[], depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError("nesting is too deep", pos);
    ws();
    const c = text[pos];
    if (c === "{") {
      pos++;
      const object: Record<string, unknown> = Object.create(null);
      ws();
      if (text[pos] === "}") {
        pos++;
        return object;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') {
          throw new JsonSyntaxError(
            text[pos] === "}" ? "trailing comma" : "expected a string key",
            pos,
          );
        }
        const keyOffset = pos;
        const key = string();
        if (Object.hasOwn(object, key)) {
          throw new JsonSyntaxError("duplicate key", keyOffset); // the key itself is file content
        }
        ws();
        if (text[pos] !== ":") throw new JsonSyntaxError('expected ":" after a key', pos);
        pos++;
        ws();
        const memberPath = [...path, key];
        offsets.set(memberPath.join("\u0000"), pos);
        object[key] = value(memberPath, depth + 1);
        ws();
        if (text[pos] === ",") {
          pos++;
          continue;
        }
        if (text[pos] === "}") {
          pos++;
          return object;
        }
        throw new JsonSyntaxError('expected "," or "}"', pos);
      }
    }
    if (c === "[") {
      pos++;
      const array: unknown[] = [];
      ws();
      if (text[pos] === "]") {
        pos++;
        return array;
      }
      for (;;) {
        array.push(value([...path, String(array.length)], depth + 1));
        ws();
        if (text[pos] === ",") {
          pos++;
          ws();
          if (text[pos] === "]") throw new JsonSyntaxError("trailing comma", pos);
          continue;
        }
        if (text[pos] === "]") {
          pos++;
          return array;
        }
        throw new JsonSyntaxError('expected "," or "]"', pos);
      }
    }
    if (c === '"') return string();
    for (const [word, literal] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return literal;
      }
    }
    NUMBER_RE.lastIndex = pos;
    const match = NUMBER_RE.exec(text);
    if (match !== null && match[0] !== "" && match[0] !== "-") {
      pos += match[0].length;
      return Number(match[0]);
    }
    throw new JsonSyntaxError(
      pos >= text.length ? "unexpected end of input" : "unexpected character",
      pos,
    );
  };

  const result = value([], 0);
  ws();
  if (pos < text.length) throw new JsonSyntaxError("unexpected text after the value", pos);
  return { value: result, offsets };
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
