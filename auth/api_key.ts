import { base62Fixed, crc32, randomBase62 } from "./_encoding.ts";
import { nodeCrypto, sha256HexWith } from "./_sha256.ts";

/**
 * A new API key: the key itself (show it once, never store it), its public `id` (the lookup
 * key) and the SHA-256 `hash` to store.
 *
 * @example
 * ```ts
 * import { type ApiKey, generateApiKey } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const created: ApiKey = generateApiKey({ prefix: "plk" });
 * assert.ok(created.key.startsWith(`plk_${created.id}_`));
 * assert.equal(created.hash.length, 64);
 * ```
 */
export interface ApiKey {
  /** The full key, `<prefix>_<id>_<secret>_<checksum>`. */
  readonly key: string;
  /** The public id: 12 base62 characters, unique per key, safe to log and to index. */
  readonly id: string;
  /** SHA-256 of the whole key, 64 lower-case hex digits: what to store. */
  readonly hash: string;
  /** The prefix. */
  readonly prefix: string;
}

/**
 * Options of {@linkcode generateApiKey}.
 *
 * @example
 * ```ts
 * import { type GenerateApiKeyOptions, generateApiKey } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const options: GenerateApiKeyOptions = { prefix: "live" };
 * assert.equal(generateApiKey(options).prefix, "live");
 * ```
 */
export interface GenerateApiKeyOptions {
  /** Lower-case letters and digits, starting with a letter, 2 to 16 characters. @default {"plk"} */
  readonly prefix?: string | undefined;
}

/**
 * The parts of a well-formed API key (checksum verified).
 *
 * @example
 * ```ts
 * import { generateApiKey, type ParsedApiKey, parseApiKey } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const { key, id } = generateApiKey();
 * const parsed: ParsedApiKey | null = parseApiKey(key);
 * assert.equal(parsed?.id, id);
 * ```
 */
export interface ParsedApiKey {
  /** The prefix. */
  readonly prefix: string;
  /** The public id. */
  readonly id: string;
}

const PREFIX_RE = /^[a-z][a-z0-9]{1,15}$/;
const KEY_RE = /^([a-z][a-z0-9]{1,15})_([0-9A-Za-z]{12})_([0-9A-Za-z]{32})_([0-9A-Za-z]{6})$/;
const HASH_RE = /^[0-9a-f]{64}$/i;
const ID_LENGTH = 12;
/** 32 base62 characters: about 190 bits of randomness. */
const SECRET_LENGTH = 32;
const MAX_KEY_LENGTH = 16 + 1 + ID_LENGTH + 1 + SECRET_LENGTH + 1 + 6;

let sha256: ((text: string) => string) | undefined;

/** SHA-256 in hex: node:crypto where the runtime has it, else JavaScript (chosen on first use). */
function sha256Hex(key: string): string {
  sha256 ??= sha256HexWith(nodeCrypto());
  return sha256(key);
}

/**
 * Compares two 64-character hex digests without an early exit: every character is looked at,
 * whatever differs, so the time taken says nothing about where they differ. (Faster than
 * `Buffer.from()` + `timingSafeEqual()` on every runtime, and on Deno by a wide margin.)
 */
function equalDigests(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < 64; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function checksum(body: string): string {
  return base62Fixed(crc32(body), 6);
}

/**
 * Generates an API key, `<prefix>_<id>_<secret>_<checksum>`: a 12-character public id, a
 * 32-character base62 secret from the Web Crypto random generator (about 190 bits), and a
 * CRC-32 checksum (6 base62 characters) that lets a scanner or the middleware reject a
 * mistyped or made-up key without a database lookup. Store only `hash` (and `id`); show `key`
 * once.
 *
 * @param options The prefix.
 * @returns The key, its id and its hash.
 * @throws {TypeError} When `prefix` is not 2–16 lower-case letters and digits starting with a letter.
 *
 * @example
 * ```ts
 * import { generateApiKey, verifyApiKey } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const { key, id, hash } = generateApiKey({ prefix: "plk" });
 * assert.match(key, /^plk_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}$/);
 * assert.equal(key.split("_")[1], id);
 * assert.equal(verifyApiKey(key, hash), true);
 * ```
 */
export function generateApiKey(options: GenerateApiKeyOptions = {}): ApiKey {
  const prefix = options.prefix ?? "plk";
  if (typeof prefix !== "string" || !PREFIX_RE.test(prefix)) {
    throw new TypeError(
      "Cannot generate API key: prefix must be 2 to 16 lower-case letters and digits, starting with a letter",
    );
  }
  const id = randomBase62(ID_LENGTH);
  const body = `${prefix}_${id}_${randomBase62(SECRET_LENGTH)}`;
  const key = `${body}_${checksum(body)}`;
  return { key, id, hash: hashApiKey(key), prefix };
}

/**
 * Reads an API key's prefix and id, checking its shape and checksum (no lookup, no secret
 * compared).
 *
 * @param key Anything a client sent.
 * @returns The prefix and id, or `null` when the value is not a well-formed key.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { generateApiKey, parseApiKey } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const { key } = generateApiKey({ prefix: "plk" });
 * assert.equal(parseApiKey(key)?.prefix, "plk");
 * const typo = key.slice(0, 20) + (key[20] === "a" ? "b" : "a") + key.slice(21);
 * assert.equal(parseApiKey(typo), null);
 * assert.equal(parseApiKey("eyJhbGciOiJIUzI1NiJ9.e30.sig"), null);
 * ```
 */
export function parseApiKey(key: unknown): ParsedApiKey | null {
  if (typeof key !== "string" || key.length > MAX_KEY_LENGTH) return null;
  const match = KEY_RE.exec(key);
  if (match === null) return null;
  const body = key.slice(0, key.length - 7);
  if (checksum(body) !== match[4]) return null;
  return { prefix: match[1] as string, id: match[2] as string };
}

/**
 * Hashes an API key for storage: SHA-256 of the whole key, in lower-case hex. A fast hash is
 * right here: keys carry about 190 random bits, so there is nothing to brute-force. The hash is
 * computed synchronously by `node:crypto` where the runtime has it (Node, Deno, Bun, workerd with
 * `nodejs_compat`) and by a JavaScript SHA-256 elsewhere (edge runtimes): the same digest.
 *
 * @param key The API key.
 * @returns 64 hex digits.
 * @throws {TypeError} When `key` is not a string.
 *
 * @example
 * ```ts
 * import { hashApiKey } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   hashApiKey("abc"),
 *   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * ```
 */
export function hashApiKey(key: string): string {
  if (typeof key !== "string") throw new TypeError("Cannot hash API key: key must be a string");
  return sha256Hex(key);
}

/**
 * Checks an API key against a stored hash in constant time (for equal-length inputs).
 *
 * @param key The key a client sent.
 * @param hash The stored hash, from {@linkcode hashApiKey}.
 * @returns `true` when the key hashes to `hash`.
 * @throws {TypeError} When `hash` is not 64 hex digits (a storage bug, not a client error).
 *
 * @example
 * ```ts
 * import { generateApiKey, verifyApiKey } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const { key, hash } = generateApiKey();
 * assert.equal(verifyApiKey(key, hash), true);
 * assert.equal(verifyApiKey(generateApiKey().key, hash), false);
 * ```
 */
export function verifyApiKey(key: string, hash: string): boolean {
  if (typeof hash !== "string" || !HASH_RE.test(hash)) {
    throw new TypeError("Cannot verify API key: the stored hash must be 64 hex digits");
  }
  if (typeof key !== "string") return false;
  return equalDigests(sha256Hex(key), hash.toLowerCase());
}
