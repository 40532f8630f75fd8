/**
 * The error codes that mean a connection could not be made or was lost: postgres.js's own, Node's
 * socket errors, and the SQLSTATEs of a server shutting down or refusing connections. One list,
 * used both to map an error to a 503 ({@link fromPostgresError}) and to retire the driver
 * instance whose connection failed (the pool's recycle).
 */
export const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
]);

/** Whether `error` has a `code` of {@linkcode CONNECTION_ERROR_CODES}. */
export function isConnectionError(error: unknown): boolean {
  const code = typeof error === "object" && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
  return typeof code === "string" && CONNECTION_ERROR_CODES.has(code);
}
