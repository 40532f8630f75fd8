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
 * `text` with the password of every URL in it (`postgres://app:pw@db/x`) replaced by
 * `[REDACTED]`; the scheme, user, host, path and query are kept. Linear in the length of
 * `text`: each authority is scanned once, up to its first `/`, `?`, `#` or space.
 */
export function maskUrlPasswords(text: string): string {
  let index = text.indexOf("://");
  if (index === -1) return text;
  let out = "";
  let pos = 0;
  for (; index !== -1; index = text.indexOf("://", index + 3)) {
    // The userinfo ends at the authority's last "@"; its password starts after the first ":".
    const start = index + 3;
    let at = -1;
    let colon = -1;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      // Whitespace and controls, "/", "?", "#" end the authority.
      if (c <= 0x20 || c === 0x2f || c === 0x3f || c === 0x23 || c === 0x7f) break;
      if (c === 0x40) at = i;
      else if (c === 0x3a && colon === -1) colon = i;
    }
    if (at === -1 || colon === -1 || colon > at) continue;
    out += text.slice(pos, colon + 1) + REDACTED;
    pos = at;
  }
  return pos === 0 ? text : out + text.slice(pos);
}
