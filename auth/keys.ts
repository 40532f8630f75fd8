/**
 * The JWS algorithms plinth signs and verifies with: HMAC with SHA-256 (`HS256`, a shared
 * secret of at least 32 bytes), RSA PKCS#1 v1.5 with SHA-256 (`RS256`, 2048-bit keys or
 * larger), ECDSA on P-256 (`ES256`) and Ed25519 (`EdDSA`). Verification pins the algorithm to
 * the key, so a token cannot choose a weaker one (`none`, or `HS256` with an RSA public key).
 *
 * @example
 * ```ts
 * import type { SigningAlgorithm } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const algorithms: SigningAlgorithm[] = ["HS256", "RS256", "ES256", "EdDSA"];
 * assert.equal(algorithms.length, 4);
 * ```
 */
export type SigningAlgorithm = "HS256" | "RS256" | "ES256" | "EdDSA";

/**
 * A JSON Web Key (RFC 7517) as plinth reads it: public keys for verification (`RSA`, `EC`
 * P-256, `OKP` Ed25519, or `oct` for HS256 secrets), private keys for signing.
 *
 * @example
 * ```ts
 * import type { Jwk } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const secret: Jwk = { kty: "oct", kid: "hs-1", alg: "HS256", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg" };
 * assert.equal(secret.kty, "oct");
 * ```
 */
export interface Jwk {
  /** Key type: `RSA`, `EC`, `OKP` or `oct` (required; optional in the type so jose's JWKs fit). */
  readonly kty?: string | undefined;
  /** Key id, matched against a token's `kid` header. */
  readonly kid?: string | undefined;
  /** The algorithm the key is for. */
  readonly alg?: string | undefined;
  /** Intended use; `sig` or absent. */
  readonly use?: string | undefined;
  /** Curve of an `EC` or `OKP` key. */
  readonly crv?: string | undefined;
  /** Other members (`n`, `e`, `x`, `y`, `k`, `d`, …). */
  readonly [member: string]: unknown;
}

/**
 * A JSON Web Key Set: what a JWKS endpoint serves.
 *
 * @example
 * ```ts
 * import type { JwkSet } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const set: JwkSet = { keys: [] };
 * assert.deepEqual(set.keys, []);
 * ```
 */
export interface JwkSet {
  /** The keys. */
  readonly keys: readonly Jwk[];
}

/**
 * A Web Crypto `CryptoKey`, typed by the members plinth reads, so that keys typed by
 * `node:crypto`'s `webcrypto` (as jose's `generateKeyPair` returns them under Node types)
 * fit as well as the global `CryptoKey`.
 *
 * @example
 * ```ts
 * import type { WebCryptoKey } from "@plinth/auth";
 * import { generateKeyPair } from "jose";
 * import assert from "node:assert/strict";
 *
 * const { privateKey } = await generateKeyPair("ES256");
 * const key: WebCryptoKey = privateKey;
 * assert.equal(key.type, "private");
 * ```
 */
export type WebCryptoKey = Pick<CryptoKey, "algorithm" | "extractable" | "type">;
