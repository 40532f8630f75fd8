// Masking credentials inside values shown by explain() and toJSON(): URL passwords, password
// query parameters and keyword DSN passwords. Masking more than needed is preferred to a leak:
// a value whose credential cannot be told apart from the rest is replaced whole.

/** What a secret is shown as. */
export const REDACTED = "[REDACTED]";

/** Names of DSN keywords, query parameters and nested object keys that hold a secret. */
const SECRET_NAME_RE =
  /secret|passw(?:or)?d|^pass$|pwd|token|private[-_]?key|api[-_]?key|access[-_]?key|credential/i;
/** A character of a URL scheme, before `://`. */
const SCHEME_CHAR_RE = /[A-Za-z0-9+.-]/;
/** `user:password@host` without a scheme, at the start of the value. */
const BARE_USERINFO_RE = /^\s*[\w.~-]+:[^\s@]+@/;
/** `name=` after the start, whitespace, `?`, `&`, `;` or `,`. */
const PARAM_RE = /(^|[\s?&;,])([A-Za-z_][\w.-]*)[ \t]*=/g;
const KEYWORD_START_RE = /^[A-Za-z_][\w.-]*[ \t]*=/;
const QUERY_PARAM_START_RE = /^&[^&=#]*=/;
const MAX_DEPTH = 64;

type Range = [start: number, end: number];

/** Whether a DSN keyword, query parameter or object key names a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME_RE.test(name);
}

/**
 * Masks every credential in a text value: the password of each URL (`scheme://user:pw@host`,
 * even when it holds `@ / ? #` or spaces, by taking the last `@`), password-like query
 * parameters (`?password=`, `&sslpassword=`), and keyword DSN values (`password=pw`,
 * `password='a b'`, `Pwd={x;y}`). A credential that cannot be delimited (an unterminated
 * quote, an unquoted password followed by text that is not `key=value`) masks the whole value.
 */
export function maskCredentials(text: string): string {
  const ranges: Range[] = [];
  const at = text.lastIndexOf("@");
  if (at > 0) {
    // Found with indexOf, not a regex: a scheme pattern would rescan long runs of letters.
    for (let i = text.indexOf("://"); i > 0; i = text.indexOf("://", i + 3)) {
      if (SCHEME_CHAR_RE.test(text[i - 1] as string)) addUserinfo(text, i + 3, at, ranges);
    }
    if (!text.includes("://") && BARE_USERINFO_RE.test(text)) {
      addUserinfo(text, text.search(/\S/), at, ranges);
    }
  }
  if (!addParameters(text, ranges)) return REDACTED;
  return ranges.length === 0 ? text : replaceRanges(text, ranges);
}

/** The password between the first `:` after `start` and the last `@` of the text. */
function addUserinfo(text: string, start: number, at: number, ranges: Range[]): void {
  if (at <= start) return;
  const colon = text.indexOf(":", start);
  if (colon < 0 || colon >= at - 1) return; // no password, or an empty one
  // A user name has no `/ ? #` or whitespace: a `:` past one is a port or part of a path.
  if (/[\s/?#]/.test(text.slice(start, colon))) return;
  ranges.push([colon + 1, at]);
}

/** Adds the values of secret parameters; `false` when one cannot be delimited. */
function addParameters(text: string, ranges: Range[]): boolean {
  const n = text.length;
  for (const match of text.matchAll(PARAM_RE)) {
    if (!isSecretName(match[2] as string)) continue;
    const query = match[1] === "?" || match[1] === "&";
    let pos = match.index + match[0].length;
    while (text[pos] === " " || text[pos] === "\t") pos++;
    const open = text[pos];
    if (!query && (open === "'" || open === '"' || open === "{")) {
      const close = open === "{" ? "}" : open;
      let end = pos + 1;
      for (; end < n; end++) {
        if (text[end] === "\\" && close !== "}") end++; // libpq escapes; braces have none
        else if (text[end] === close) {
          if (close === "}" && text[end + 1] === "}") end++; // `}}` is a literal brace
          else break;
        }
      }
      if (end >= n) return false; // unterminated quote
      ranges.push([pos + 1, end]);
      continue;
    }
    let end = pos;
    if (query) {
      while (end < n && text[end] !== "&") end++;
      // What follows must be another `name=` parameter, else the password held a `&`.
      if (end < n && !QUERY_PARAM_START_RE.test(text.slice(end, end + 256))) return false;
    } else {
      while (end < n && !/[\s;]/.test(text[end] as string)) end++;
      let next = end;
      while (next < n && /\s/.test(text[next] as string)) next++;
      // After whitespace comes another `key=value`, or the password held a space.
      if (next > end && next < n && !KEYWORD_START_RE.test(text.slice(next, next + 256))) {
        return false;
      }
    }
    if (end > pos) ranges.push([pos, end]);
  }
  return true;
}

function replaceRanges(text: string, ranges: Range[]): string {
  ranges.sort((a, b) => a[0] - b[0]);
  let out = "";
  let pos = 0;
  let current: Range | undefined;
  for (const range of ranges) {
    if (current !== undefined && range[0] <= current[1]) {
      current[1] = Math.max(current[1], range[1]);
      continue;
    }
    if (current !== undefined) {
      out += text.slice(pos, current[0]) + REDACTED;
      pos = current[1];
    }
    current = [range[0], range[1]];
  }
  if (current !== undefined) {
    out += text.slice(pos, current[0]) + REDACTED;
    pos = current[1];
  }
  return out + text.slice(pos);
}

/**
 * A copy of a value safe to show: strings have their credentials masked, object keys that name
 * a secret are redacted, arrays and plain objects are walked, BigInt becomes its digits.
 */
export function maskValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskCredentials(value);
  if (typeof value === "bigint") return String(value);
  if (typeof value !== "object" || value === null || value instanceof Date) return value;
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => maskValue(item, depth + 1));
  if (value instanceof Map || value instanceof Set) return REDACTED;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // defineProperty: a `__proto__` key stays a key instead of setting the prototype.
    Object.defineProperty(out, key, {
      value: isSecretName(key) ? REDACTED : maskValue(item, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
