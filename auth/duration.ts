/**
 * A length of time in an option: a number of milliseconds, or a whole number followed by a
 * unit, `ms`, `s`, `m`, `h` or `d` (`"15m"`, `"30d"`).
 *
 * @example
 * ```ts
 * import type { Duration } from "@plinth/auth";
 * import assert from "node:assert/strict";
 *
 * const accessTtl: Duration = "15m";
 * const grace: Duration = 10_000;
 * assert.equal(typeof accessTtl, "string");
 * assert.equal(grace, 10_000);
 * ```
 */
export type Duration = number | `${number}${"ms" | "s" | "m" | "h" | "d"}`;
