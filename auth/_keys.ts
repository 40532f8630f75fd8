import { exportJWK, importJWK, importPKCS8 } from "jose";
import type { Jwk, SigningAlgorithm } from "./keys.ts";

/** A verification key, imported lazily; `key` is set once the import has finished. */
export interface KeyEntry {
  readonly kid: string | undefined;
  readonly alg: SigningAlgorithm;
  key: CryptoKey | undefined;
  readonly ready: Promise<CryptoKey>;
}

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const MIN_SECRET_BYTES = 32;
const textEncoder = new TextEncoder();

/** The secret's bytes; a `RangeError` naming the option when shorter than 32 bytes. */
export function secretBytes(secret: unknown, where: string, name: string): Uint8Array {
  let bytes: Uint8Array;
  if (typeof secret === "string") bytes = textEncoder.encode(secret);
  else if (secret instanceof Uint8Array) bytes = secret.slice();
  else throw new TypeError(`Cannot create ${where}: ${name} must be a string or a Uint8Array`);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new RangeError(
      `Cannot create ${where}: ${name} must be at least ${MIN_SECRET_BYTES} bytes (HS256)`,
    );
  }
  return bytes;
}

function base64UrlBytes(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") +
    "===".slice((text.length + 3) % 4);
  try {
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** The algorithm a JWK is for, from `alg` or from its type and curve. */
export function jwkAlgorithm(jwk: Jwk): SigningAlgorithm | undefined {
  const inferred: SigningAlgorithm | undefined = jwk.kty === "RSA"
    ? "RS256"
    : jwk.kty === "EC" && jwk.crv === "P-256"
    ? "ES256"
    : jwk.kty === "OKP" && jwk.crv === "Ed25519"
    ? "EdDSA"
    : jwk.kty === "oct"
    ? "HS256"
    : undefined;
  if (jwk.alg === undefined) return inferred;
  return jwk.alg === inferred || (jwk.alg === "Ed25519" && inferred === "EdDSA")
    ? inferred
    : undefined;
}

/** The algorithm a Web Crypto key is for. */
export function cryptoKeyAlgorithm(
  key: Pick<CryptoKey, "algorithm">,
): SigningAlgorithm | undefined {
  const algorithm = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string };
  if (algorithm.name === "RSASSA-PKCS1-v1_5" && algorithm.hash?.name === "SHA-256") return "RS256";
  if (algorithm.name === "ECDSA" && algorithm.namedCurve === "P-256") return "ES256";
  if (algorithm.name === "Ed25519") return "EdDSA";
  return undefined;
}

export function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey === "function" && value instanceof CryptoKey;
}

export function isJwk(value: unknown): value is Jwk {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as { kty?: unknown }).kty === "string";
}

/** The public members of a private JWK. */
export function publicJwk(jwk: Jwk): Jwk {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(jwk)) {
    if (!PRIVATE_MEMBERS.includes(name)) out[name] = value;
  }
  return out as unknown as Jwk;
}

export function hmacKey(bytes: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    bytes as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

function entry(
  kid: string | undefined,
  alg: SigningAlgorithm,
  load: () => Promise<CryptoKey>,
): KeyEntry {
  const result: {
    kid: string | undefined;
    alg: SigningAlgorithm;
    key: CryptoKey | undefined;
    ready: Promise<CryptoKey>;
  } = {
    kid,
    alg,
    key: undefined,
    ready: Promise.resolve(undefined as never),
  };
  result.ready = load().then((key) => {
    result.key = key;
    return key;
  });
  // Reported when a token first needs the key, not as an unhandled rejection now.
  result.ready.catch(() => {});
  return result;
}

/** A verification key entry from a secret. */
export function secretEntry(bytes: Uint8Array, kid: string | undefined): KeyEntry {
  return entry(kid, "HS256", () => hmacKey(bytes));
}

/** A verification key entry from an already imported public key. */
export function cryptoKeyEntry(
  key: CryptoKey,
  alg: SigningAlgorithm,
  kid: string | undefined,
): KeyEntry {
  return entry(kid, alg, () => Promise.resolve(key));
}

/** A verification key entry from a lazily computed public key. */
export function pendingEntry(
  load: () => Promise<CryptoKey>,
  alg: SigningAlgorithm,
  kid: string | undefined,
): KeyEntry {
  return entry(kid, alg, load);
}

/** Checks one member of a verifier's `keys` and makes its entry. */
export function jwkEntry(jwk: unknown, where: string, name: string): KeyEntry {
  if (!isJwk(jwk)) throw new TypeError(`Cannot create ${where}: ${name} must be a JWK object`);
  if (jwk.kid !== undefined && (typeof jwk.kid !== "string" || jwk.kid === "")) {
    throw new TypeError(`Cannot create ${where}: ${name}.kid must be a non-empty string`);
  }
  if (jwk.use !== undefined && jwk.use !== "sig") {
    throw new TypeError(`Cannot create ${where}: ${name}.use must be "sig" when present`);
  }
  const alg = jwkAlgorithm(jwk);
  if (alg === undefined) {
    throw new TypeError(
      `Cannot create ${where}: ${name} must be an RSA, EC P-256, OKP Ed25519 or oct key ` +
        "whose alg (when present) is RS256, ES256, EdDSA or HS256",
    );
  }
  if (alg === "HS256") {
    const bytes = typeof jwk["k"] === "string" ? base64UrlBytes(jwk["k"]) : undefined;
    if (bytes === undefined) {
      throw new TypeError(`Cannot create ${where}: ${name}.k must be base64url`);
    }
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new RangeError(
        `Cannot create ${where}: ${name}.k must be at least ${MIN_SECRET_BYTES} bytes (HS256)`,
      );
    }
    return secretEntry(bytes, jwk.kid);
  }
  if (jwk["d"] !== undefined) {
    throw new TypeError(`Cannot create ${where}: ${name} must be a public key (it has "d")`);
  }
  const material = { ...publicJwk(jwk), alg };
  return entry(
    jwk.kid,
    alg,
    async () => await importJWK(material as never, alg) as CryptoKey,
  );
}

/** Imports a PKCS#8 PEM private key, extractable so that its public half can be derived. */
export function importPem(pem: string, alg: SigningAlgorithm): Promise<CryptoKey> {
  return importPKCS8(pem, alg, { extractable: true }) as unknown as Promise<CryptoKey>;
}

/** The public key of an extractable private key, as a verification key. */
export async function publicKeyOf(key: CryptoKey, alg: SigningAlgorithm): Promise<CryptoKey> {
  const jwk = publicJwk(await exportJWK(key) as Jwk);
  return await importJWK({ ...jwk, alg } as never, alg) as CryptoKey;
}

/** The public JWK of a public or private key. */
export async function publicJwkOf(key: CryptoKey): Promise<Jwk> {
  return publicJwk(await exportJWK(key) as Jwk);
}

/** Imports a private JWK for signing. */
export async function importPrivateJwk(jwk: Jwk, alg: SigningAlgorithm): Promise<CryptoKey> {
  return await importJWK({ ...jwk, alg } as never, alg, { extractable: true }) as CryptoKey;
}
