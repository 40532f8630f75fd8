// The NOTIFY that revoke() of the PostgreSQL token store sends and the cached token store
// listens for. Its payload is JSON: a revocation `{"table":<oid>,"id":"…","expires_at":<ms>}`
// (the table's oid tells apart stores on other schemas of the same database, which share the
// channel), or the cached store's heartbeat `{"ping":"<nonce>"}`.

/** The channel both stores use. */
export const REVOCATIONS_CHANNEL = "plinth_token_revocations";

/** A revocation as notified: the oid of the table it was written to, the id and its expiry. */
export interface RevocationNotice {
  readonly table: number;
  readonly id: string;
  readonly expiresAt: number;
}

/** What a payload on the channel says; `undefined` for one that is neither shape. */
export type Notice =
  | { readonly kind: "revocation"; readonly revocation: RevocationNotice }
  | { readonly kind: "ping"; readonly nonce: string };

/** Reads a payload of the channel. */
export function parseNotice(payload: string): Notice | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.ping === "string") return { kind: "ping", nonce: v.ping };
  const { table, id, expires_at } = v;
  if (
    typeof table !== "number" || typeof id !== "string" || id === "" ||
    typeof expires_at !== "number" || !Number.isFinite(expires_at)
  ) {
    return undefined;
  }
  return { kind: "revocation", revocation: { table, id, expiresAt: expires_at } };
}

/** The heartbeat payload with `nonce`. */
export function pingPayload(nonce: string): string {
  return JSON.stringify({ ping: nonce });
}
