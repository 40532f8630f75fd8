/**
 * The names of the log levels, from the most to the least verbose. `silent` is a threshold
 * only: a logger at `silent` writes nothing, and there is no `silent()` method.
 *
 * @example
 * ```ts
 * import type { LogLevel } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const level: LogLevel = "warn";
 * assert.equal(level, "warn");
 * ```
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal" | "silent";

/**
 * Every level name, in order of severity (`debug` first, `silent` last).
 *
 * @example
 * ```ts
 * import { LOG_LEVELS } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(LOG_LEVELS, ["debug", "info", "warn", "error", "fatal", "silent"]);
 * ```
 */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze([
  "debug",
  "info",
  "warn",
  "error",
  "fatal",
  "silent",
]);

/**
 * Reads a level name the way `LOG_LEVEL` is read: trimmed and in any case.
 *
 * @param value The text to read, such as an environment variable.
 * @returns The level, or `undefined` when `value` names none.
 * @throws {never} Never throws; a non-string gives `undefined`.
 *
 * @example
 * ```ts
 * import { parseLogLevel } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseLogLevel(" WARN "), "warn");
 * assert.equal(parseLogLevel("verbose"), undefined);
 * ```
 */
export function parseLogLevel(value: unknown): LogLevel | undefined {
  if (typeof value !== "string") return undefined;
  const name = value.trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(name) ? name as LogLevel : undefined;
}
