// Retiring a postgres.js instance after a lost connection. postgres.js can strand a connection
// whose reconnect fails (it stays "connecting" and the queries routed to it never settle), so the
// pool replaces the whole instance (see Pool's #recycle) and retires the old one here.
import type postgres from "postgres";

/** A query the retired instance may never settle: only its `reject` is used. */
export interface Stranded {
  reject(error: unknown): void;
}

/**
 * Ends `old` within `bound` milliseconds (the queries it still runs may finish meanwhile), then
 * rejects each of `stranded` with `lost()`: whatever the old instance has not settled by then it
 * never will (rejecting a query that has settled meanwhile does nothing). Resolves once `old` has
 * ended; never rejects.
 */
export function retireDriver(
  old: postgres.Sql,
  stranded: readonly Stranded[],
  bound: number,
  lost: () => unknown,
): Promise<void> {
  const timer = setTimeout(() => {
    for (const query of stranded) query.reject(lost());
  }, bound);
  (timer as { unref?: () => void }).unref?.();
  return old.end({ timeout: bound / 1000 }).catch(() => {});
}
