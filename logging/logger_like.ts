/**
 * The logger every plinth package accepts: any object with `debug`, `info`, `warn` and `error`
 * methods taking a message and, optionally, fields. A plinth {@linkcode Logger}, `console` and
 * a pino logger all fit; nothing requires the full `Logger` type. Packages that take a logger
 * call only these four methods (anything else, such as `isLevelEnabled`, is optional and
 * feature-detected).
 *
 * @example A plinth logger, console, or your own object
 * ```ts
 * import { createLogger, type LoggerLike } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * function connect(logger: LoggerLike): void {
 *   logger.info("connected", { host: "db-1" });
 * }
 *
 * const seen: string[] = [];
 * const mine: LoggerLike = {
 *   debug: () => {},
 *   info: (message) => seen.push(message),
 *   warn: () => {},
 *   error: () => {},
 * };
 * connect(mine);
 * connect(createLogger({ service: "svc", destination: { write: () => {} } }));
 * const quiet: LoggerLike = console;
 * assert.equal(typeof quiet.warn, "function");
 * assert.deepEqual(seen, ["connected"]);
 * ```
 */
export interface LoggerLike {
  /** Writes a `debug` line. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Writes an `info` line. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Writes a `warn` line. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Writes an `error` line; put a caught error in `fields` (for example under `err`). */
  error(message: string, fields?: Record<string, unknown>): void;
}
