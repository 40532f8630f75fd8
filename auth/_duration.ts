import type { Duration } from "./duration.ts";

const DURATION_RE = /^(\d{1,12})(ms|s|m|h|d)$/;
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Reads a duration option (milliseconds, or a string such as `"15m"`) as milliseconds.
 * Throws a `RangeError` naming the option, never its value, when it is not one.
 */
export function toMilliseconds(
  value: Duration | undefined,
  fallback: number,
  where: string,
  name: string,
  allowZero = false,
): number {
  if (value === undefined) return fallback;
  let ms: number | undefined;
  if (typeof value === "number") {
    ms = Number.isSafeInteger(value) ? value : undefined;
  } else if (typeof value === "string") {
    const match = DURATION_RE.exec(value);
    if (match !== null) ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  if (ms === undefined || ms < 0 || (!allowZero && ms === 0)) {
    throw new RangeError(
      `Cannot create ${where}: ${name} must be ${
        allowZero ? "0 or more" : "a positive"
      } milliseconds or a duration such as "15m" (ms, s, m, h, d)`,
    );
  }
  return ms;
}
