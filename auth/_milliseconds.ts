/**
 * Reads a duration option, a number of milliseconds. A string (`"15m"`) or any other type is a
 * `TypeError`, a number that is not a whole number in range a `RangeError`; both name the
 * option, never its value.
 */
export function milliseconds(
  value: unknown,
  fallback: number,
  where: string,
  name: string,
  allowZero = false,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(`Cannot create ${where}: ${name} must be a number of milliseconds`);
  }
  if (!Number.isSafeInteger(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(
      `Cannot create ${where}: ${name} must be ${
        allowZero ? "0 or more" : "a positive whole number of"
      } milliseconds`,
    );
  }
  return value;
}
