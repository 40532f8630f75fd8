// Puts a connection's session back to its defaults after migrations ran on it, so nothing a
// migration set (settings, role, temporary tables, LISTEN, held cursors) reaches the connection's
// next user in the pool. DISCARD ALL is not used: it also deallocates the prepared statements
// postgres.js keeps per connection (a cached statement would then fail inside a transaction) and
// cannot run inside a transaction block.
import type postgres from "postgres";

/**
 * What a migration may leave on its session, undone. `RESET ALL` returns every setting to the
 * connection's own default (including what the client sent at startup, such as
 * `statement_timeout`), but skips the role and the session user, hence the two `RESET`s after it.
 * Each statement works inside a transaction block too.
 */
const RESET_SESSION = [
  "reset all",
  "reset session authorization",
  "reset role",
  "close all",
  "unlisten *",
  "discard temp",
  "discard sequences",
].join("; ");

/** Options of {@linkcode resetSession}. */
export interface ResetSessionOptions {
  /** Also release every session-level advisory lock (only once the runner's own is released). */
  readonly unlockAll?: boolean | undefined;
}

/** Resets the session of `sql` to the connection's defaults. */
export async function resetSession(
  sql: postgres.ReservedSql,
  options: ResetSessionOptions = {},
): Promise<void> {
  const unlock = options.unlockAll === true ? "; select pg_advisory_unlock_all()" : "";
  await sql.unsafe(RESET_SESSION + unlock).simple();
}
