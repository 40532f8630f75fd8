// Which keys name a secret: matched by normalised name, so `accessToken`, `ACCESS-TOKEN` and
// `access_token` are one key, and `db_password` or `dbPassword` end in a secret word.
import { REDACTED } from "./redact.ts";

/** Lower case, with everything but letters and digits removed (`X-Api-Key` → `xapikey`). */
export function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
}

/**
 * A predicate for secret keys: a key is secret when its normalised name equals or ends with the
 * normalised form of one of `words`.
 */
export function secretKeyMatcher(words: readonly string[]): (key: string) => boolean {
  const normalised = [...new Set(words.map(normaliseKey).filter((word) => word !== ""))];
  return (key: string): boolean => {
    const name = normaliseKey(key);
    for (const word of normalised) {
      if (name.endsWith(word)) return true;
    }
    return false;
  };
}

/** Whether `words` holds a name that has no letter or digit (it would match every key). */
export function hasEmptyKey(words: readonly string[]): boolean {
  return words.some((word) => normaliseKey(word) === "");
}

/**
 * Whether a query parameter is secret: its percent-decoded name (`user%5Bpassword%5D`), or that
 * name without trailing brackets (`password[]`, `password[0]`), matches `isSecret`.
 */
export function isSecretParam(rawName: string, isSecret: (name: string) => boolean): boolean {
  let name = rawName;
  try {
    name = decodeURIComponent(rawName.replaceAll("+", " "));
  } catch {
    // Keep the raw name.
  }
  return isSecret(name) || isSecret(name.replace(/(?:\[[^\]]*\])+$/, ""));
}

const WHITESPACE = /\s/;

/** Whether the character at `i` ends a word: whitespace or a control character. */
function endsWord(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c <= 0x20 || c === 0x7f || (c > 0x7f && WHITESPACE.test(text[i] as string));
}

function wordEndFrom(text: string, i: number): number {
  while (i < text.length && !endsWord(text, i)) i++;
  return i;
}

function isDigits(text: string, start: number, end: number): boolean {
  if (start >= end) return true;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

type Range = [start: number, end: number];

/**
 * `text` with the password of every URL in it (`postgres://app:pw@db/x`) and the values of its
 * secret query parameters (`?password=pw`, when `isSecretName` is given) replaced by
 * `[REDACTED]`; the scheme, user, host and path are kept. A password that holds `/ ? #` (up to
 * the word's last `@`) or one space (up to an `@` in the next word) is masked too; a `:` followed
 * by digits only is a port. Linear in the length of `text`.
 */
export function maskUrlPasswords(
  text: string,
  isSecretName?: (name: string) => boolean,
): string {
  let index = text.indexOf("://");
  if (index === -1) return text;
  const ranges: Range[] = [];
  let wordEnd = -1;
  while (index !== -1) {
    const start = index + 3;
    const next = text.indexOf("://", start);
    if (start > wordEnd) wordEnd = wordEndFrom(text, start);
    const limit = next !== -1 && next < wordEnd ? next : wordEnd;
    maskUrl(text, start, limit, wordEnd, isSecretName, ranges);
    index = next;
  }
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = "";
  let pos = 0;
  for (const [from, to] of ranges) {
    if (to <= pos) continue;
    out += text.slice(pos, Math.max(pos, from)) + REDACTED;
    pos = to;
  }
  return out + text.slice(pos);
}

/** Adds the ranges to mask in one URL, `text[start, limit)` after its `://`. */
function maskUrl(
  text: string,
  start: number,
  limit: number,
  wordEnd: number,
  isSecretName: ((name: string) => boolean) | undefined,
  ranges: Range[],
): void {
  // The authority ends at "/", "?" or "#"; its userinfo at its last "@", the password after
  // the userinfo's first ":".
  let at = -1;
  let colon = -1;
  let stop = limit;
  for (let i = start; i < limit; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2f || c === 0x3f || c === 0x23) {
      stop = i;
      break;
    }
    if (c === 0x40) at = i;
    else if (c === 0x3a && colon === -1) colon = i;
  }
  if (colon !== -1 && at === -1 && !isDigits(text, colon + 1, stop) && text[start] !== "[") {
    // No "@" before "/ ? #" or a space, and not a port: the password may hold one of them.
    if (stop < limit) {
      for (let i = stop; i < limit; i++) if (text.charCodeAt(i) === 0x40) at = i;
    } else if (limit === wordEnd) at = atInNextWord(text, wordEnd);
  }
  if (colon !== -1 && at !== -1 && colon < at) ranges.push([colon + 1, at]);
  if (isSecretName === undefined) return;
  let query = Math.max(stop, at + 1);
  while (query < limit && text.charCodeAt(query) !== 0x3f) query++;
  let end = query;
  while (end < limit && text.charCodeAt(end) !== 0x23) end++;
  let pairStart = query + 1;
  let eq = -1;
  for (let i = pairStart; i <= end; i++) {
    const c = text.charCodeAt(i);
    if (i < end && c === 0x3d && eq === -1) eq = i;
    if (i < end && c !== 0x26 && c !== 0x3b) continue; // "&" and ";" separate pairs
    if (eq !== -1 && eq + 1 < i && isSecretParam(text.slice(pairStart, eq), isSecretName)) {
      ranges.push([eq + 1, i]);
    }
    pairStart = i + 1;
    eq = -1;
  }
}

/** The "@" of the word after `wordEnd` (one space on), if it comes before any "/ ? #". */
function atInNextWord(text: string, wordEnd: number): number {
  if (wordEnd >= text.length || text[wordEnd] !== " ") return -1;
  for (let i = wordEnd + 1; i < text.length && !endsWord(text, i); i++) {
    const c = text.charCodeAt(i);
    if (c === 0x40) return i;
    if (c === 0x2f || c === 0x3f || c === 0x23 || c === 0x3a) return -1;
  }
  return -1;
}
