import { z } from "zod";
import type postgres from "postgres";
import { type ApiKeyRecord, generateApiKey } from "@plinth/auth";
import { type Role, RoleSchema } from "@plinth/rbac";
import { foreignKeyViolation, listPage, parseInput, timestamp, uuid } from "./_common.ts";
import { ModelsError } from "./models_error.ts";
import type { ListOptions, Page } from "./pagination.ts";
import type { Sql } from "./sql.ts";

/**
 * An API key as stored: its public id and SHA-256 hash, never the key itself. An organisation
 * owns it; its role is an organisation role (`org_admin` or `org_user`, never `system_admin`).
 *
 * @example
 * ```ts
 * import type { ApiKey } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const key: ApiKey = {
 *   id: "3d5f8a2e-0c1b-4e6f-8a9d-7b2c4e6f8a1d", public_id: "AbC123dEf456", prefix: "plk",
 *   org_id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c", name: "CI", key_hash: "0".repeat(64),
 *   scopes: ["usage:read"], role: "org_user", created_by: null, last_used_at: null,
 *   expires_at: null, revoked_at: null, created_at: new Date(), updated_at: new Date(),
 * };
 * assert.equal(key.public_id.length, 12);
 * ```
 */
export interface ApiKey {
  /** The row id, a UUID the database assigns. */
  id: string;
  /** The key's public id (12 base62 characters, inside the key): what `lookupApiKey` takes. */
  public_id: string;
  /** The key's prefix (`plk` by default). */
  prefix: string;
  /** The organisation that owns the key. */
  org_id: string;
  /** A name people read ("CI", "billing job"). */
  name: string;
  /** SHA-256 of the whole key, 64 lower-case hex digits. */
  key_hash: string;
  /** Scopes that narrow what the key may do; empty: none. */
  scopes: string[];
  /** The key's role in its organisation. */
  role: Exclude<Role, "system_admin">;
  /** The user who created it, when known. */
  created_by: string | null;
  /** When it last authenticated a request, written in batches (see `createLastUsedTracker`). */
  last_used_at: Date | null;
  /** When it stops working; `null`: never. */
  expires_at: Date | null;
  /** When it was revoked; `null`: it is not. */
  revoked_at: Date | null;
  /** When it was created. */
  created_at: Date;
  /** When its name, scopes, role, expiry or revocation last changed (set by the database). */
  updated_at: Date;
}

/**
 * An API key without its hash: what the queries return and what a client is shown.
 *
 * @example
 * ```ts
 * import type { PublicApiKey } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const shown: Partial<PublicApiKey> = { public_id: "AbC123dEf456" };
 * assert.equal("key_hash" in shown, false);
 * ```
 */
export type PublicApiKey = Omit<ApiKey, "key_hash">;

/**
 * What a client may send to create an API key: no id, hash, timestamps or usage.
 *
 * @example
 * ```ts
 * import type { CreateApiKey } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const input: CreateApiKey = { org_id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c", name: "CI", role: "org_user" };
 * assert.equal(input.scopes, undefined);
 * ```
 */
export interface CreateApiKey {
  /** The owning organisation. */
  org_id: string;
  /** A name people read. */
  name: string;
  /** `org_admin` or `org_user`. */
  role: Exclude<Role, "system_admin">;
  /** Scopes. @default {[]} */
  scopes?: string[] | undefined;
  /** When it stops working. @default {null (never)} */
  expires_at?: Date | null | undefined;
  /** The user creating it. @default {null} */
  created_by?: string | null | undefined;
  /** The key prefix. @default {"plk"} */
  prefix?: string | undefined;
}

/**
 * What {@linkcode createApiKey} returns: the key — shown to its owner once, never stored — and
 * the stored record without its hash.
 *
 * @example
 * ```ts
 * import type { CreatedApiKey } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const show = (created: CreatedApiKey): string => created.key;
 * assert.equal(typeof show, "function");
 * ```
 */
export interface CreatedApiKey {
  /** The full key, `<prefix>_<public_id>_<secret>_<checksum>`. */
  key: string;
  /** The stored record. */
  api_key: PublicApiKey;
}

const keyRole = RoleSchema.exclude(["system_admin"]);
const scope = z.string().min(1).max(200);

/**
 * zod schema of a stored {@linkcode ApiKey}.
 *
 * @example
 * ```ts
 * import { ApiKeySchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const row = {
 *   id: "3d5f8a2e-0c1b-4e6f-8a9d-7b2c4e6f8a1d", public_id: "AbC123dEf456", prefix: "plk",
 *   org_id: "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c", name: "CI", key_hash: "a".repeat(64),
 *   scopes: [], role: "org_user", created_by: null, last_used_at: null, expires_at: null,
 *   revoked_at: null, created_at: "2026-12-01T00:00:00Z", updated_at: "2026-12-01T00:00:00Z",
 * };
 * assert.equal(ApiKeySchema.safeParse(row).success, true);
 * assert.equal(ApiKeySchema.safeParse({ ...row, role: "system_admin" }).success, false);
 * ```
 */
export const ApiKeySchema: z.ZodType<ApiKey> = z.strictObject({
  id: uuid,
  public_id: z.string().regex(/^[0-9A-Za-z]{12}$/, "must be 12 base62 characters"),
  prefix: z.string().regex(
    /^[a-z][a-z0-9]{1,15}$/,
    "must be 2 to 16 lower-case letters and digits",
  ),
  org_id: uuid,
  name: z.string().min(1).max(200),
  key_hash: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits"),
  scopes: z.array(scope),
  role: keyRole,
  created_by: uuid.nullable(),
  last_used_at: timestamp.nullable(),
  expires_at: timestamp.nullable(),
  revoked_at: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
});

/**
 * zod schema of {@linkcode CreateApiKey}.
 *
 * @example
 * ```ts
 * import { CreateApiKeySchema } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const org_id = "6f1c2f9e-54a4-4c0e-9a51-1f7d3f1e2b3c";
 * assert.equal(CreateApiKeySchema.safeParse({ org_id, name: "CI", role: "org_user" }).success, true);
 * assert.equal(CreateApiKeySchema.safeParse({ org_id, name: "CI", role: "org_user", key_hash: "x" }).success, false);
 * ```
 */
export const CreateApiKeySchema: z.ZodType<CreateApiKey> = z.strictObject({
  org_id: uuid,
  name: z.string().min(1).max(200),
  role: keyRole,
  scopes: z.array(scope).max(100).optional(),
  expires_at: timestamp.nullable().optional(),
  created_by: uuid.nullable().optional(),
  prefix: z.string().regex(/^[a-z][a-z0-9]{1,15}$/, "must be 2 to 16 lower-case letters and digits")
    .optional(),
});

function columns(sql: Sql): postgres.PendingQuery<postgres.Row[]> {
  return (sql as postgres.Sql)`id::text, public_id, prefix, org_id::text, name, scopes, role,
    created_by::text, last_used_at, expires_at, revoked_at, created_at, updated_at`;
}

/**
 * Creates an API key: generates it (`generateApiKey()` of `@plinth/auth`), stores its public
 * id and hash, and returns the key this once.
 *
 * @param sql A postgres.js `sql`.
 * @param input Organisation, name, role, scopes, expiry, creator, prefix ({@linkcode CreateApiKeySchema}).
 * @returns The key and the stored record.
 * @throws {AppError} `validation_failed` (422) when `input` fails the schema.
 * @throws {ModelsError} `organization_not_found`, `user_not_found` (for `created_by`).
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { authenticate } from "@plinth/auth/hono";
 * import { connectDatabase, runMigrations } from "@plinth/database";
 * import { createApiKey, createOrganization, lookupApiKey, MODELS_MIGRATIONS } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * const schema = `doc_${crypto.randomUUID().replaceAll("-", "")}`;
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 1, connection: { search_path: schema } },
 * );
 * await db.sql.unsafe(`create schema ${schema}`);
 * try {
 *   await runMigrations(db, { dir: MODELS_MIGRATIONS });
 *   const org = await createOrganization(db.sql, { name: "acme", display_name: "Acme" });
 *   const { key, api_key } = await createApiKey(db.sql, { org_id: org.id, name: "CI", role: "org_user" });
 *   assert.equal("key_hash" in api_key, false);
 *
 *   const app = new Hono();
 *   app.use(authenticate({ lookupApiKey: (id) => lookupApiKey(db.sql, id) }));
 *   app.get("/", (c) => c.text("ok"));
 *   assert.equal((await app.request("/", { headers: { "x-api-key": key } })).status, 200);
 * } finally {
 *   await db.sql.unsafe(`drop schema ${schema} cascade`);
 * }
 * ```
 */
export async function createApiKey(sql: Sql, input: CreateApiKey): Promise<CreatedApiKey> {
  const data = parseInput(CreateApiKeySchema, input);
  const generated = generateApiKey({ prefix: data.prefix ?? "plk" });
  try {
    const [row] = await (sql as postgres.Sql)`insert into api_keys
      (public_id, prefix, org_id, name, key_hash, scopes, role, created_by, expires_at)
      values (${generated.id}, ${generated.prefix}, ${data.org_id}, ${data.name}, ${generated.hash},
        ${data.scopes ?? []}::text[], ${data.role}, ${data.created_by ?? null}, ${
      data.expires_at ?? null
    })
      returning ${columns(sql)}`;
    return { key: generated.key, api_key: row as PublicApiKey };
  } catch (error) {
    if (foreignKeyViolation(error, "api_keys_org_id_fkey")) {
      throw new ModelsError("Cannot create API key: no organisation has this id", {
        code: "organization_not_found",
        cause: error,
      });
    }
    if (foreignKeyViolation(error, "api_keys_created_by_fkey")) {
      throw new ModelsError("Cannot create API key: no user has the created_by id", {
        code: "user_not_found",
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Reads what `authenticate({ lookupApiKey })` of `@plinth/auth/hono` needs for a key's public
 * id: the hash, organisation, role, scopes, and revocation and expiry as epoch milliseconds.
 * One indexed query; a key whose organisation is suspended is not found (so it is refused).
 *
 * @param sql A postgres.js `sql`.
 * @param publicId The key's public id (what `authenticate()` passes).
 * @returns The record, or `null`.
 * @throws {never} Only the driver's errors (which `authenticate()` answers with a 503).
 *
 * @example
 * ```ts
 * import { lookupApiKey } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * // authenticate({ lookupApiKey: (id) => lookupApiKey(db.sql, id) })
 * assert.equal(await lookupApiKey({} as never, "not a key id"), null);
 * ```
 */
export async function lookupApiKey(sql: Sql, publicId: string): Promise<ApiKeyRecord | null> {
  if (typeof publicId !== "string" || !/^[0-9A-Za-z]{12}$/.test(publicId)) return null;
  const [row] = await (sql as postgres.Sql)`select k.key_hash, k.org_id::text as org_id, k.role,
      k.scopes,
      (extract(epoch from k.revoked_at) * 1000)::float8 as revoked_at,
      (extract(epoch from k.expires_at) * 1000)::float8 as expires_at
    from api_keys k join organizations o on o.id = k.org_id
    where k.public_id = ${publicId} and o.status = 'active'`;
  if (row === undefined) return null;
  return {
    hash: row.key_hash as string,
    orgId: row.org_id as string,
    role: row.role as string,
    scopes: row.scopes as string[],
    revokedAt: row.revoked_at as number | null,
    expiresAt: row.expires_at as number | null,
  };
}

/**
 * Revokes an API key from now on (a key revoked before keeps its first revocation time).
 *
 * @param sql A postgres.js `sql`.
 * @param id The key's row id.
 * @returns The revoked key.
 * @throws {ModelsError} `api_key_not_found`.
 *
 * @example
 * ```ts
 * import { revokeApiKey } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(revokeApiKey({} as never, "nope"), { code: "api_key_not_found" });
 * ```
 */
export async function revokeApiKey(sql: Sql, id: string): Promise<PublicApiKey> {
  const missing = (): ModelsError =>
    new ModelsError("Cannot revoke API key: no key has this id", { code: "api_key_not_found" });
  if (!uuid.safeParse(id).success) throw missing();
  const [row] = await (sql as postgres.Sql)`update api_keys
    set revoked_at = coalesce(revoked_at, now()) where id = ${id} returning ${columns(sql)}`;
  if (row === undefined) throw missing();
  return row as PublicApiKey;
}

/**
 * Lists an organisation's API keys (without hashes) by id, one keyset page at a time.
 *
 * @param sql A postgres.js `sql`.
 * @param orgId The organisation.
 * @param options `after` and `limit`.
 * @returns The page.
 * @throws {TypeError} When `orgId` or `after` is not a UUID.
 * @throws {RangeError} When `limit` is not an integer from 1 to 1000.
 *
 * @example
 * ```ts
 * import { listApiKeys } from "@plinth/models";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(listApiKeys({} as never, "acme"), TypeError);
 * ```
 */
export async function listApiKeys(
  sql: Sql,
  orgId: string,
  options: ListOptions = {},
): Promise<Page<PublicApiKey>> {
  if (!uuid.safeParse(orgId).success) {
    throw new TypeError("Cannot list API keys: orgId must be a UUID");
  }
  return await listPage(sql, "list API keys", "api_keys", columns, orgId, options);
}
