/** The default outbox table. */
export const DEFAULT_TABLE = "plinth_outbox";

/** Number of partitions subjects hash into; one relay at a time publishes a partition. */
export const PARTITIONS = 16;

/** The advisory-lock class id of the outbox (the partition is the second key). */
export const LOCK_CLASS = 0x0b0c;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/;

/** Checks a table name (lower-case SQL identifier, ≤ 48 characters so index names fit). */
export function tableName(value: unknown, action: string): string {
  if (value === undefined) return DEFAULT_TABLE;
  if (typeof value !== "string" || !IDENTIFIER.test(value)) {
    throw new TypeError(
      `${action}: table must be a lower-case SQL identifier (letters, digits, _; at most 48)`,
    );
  }
  return value;
}

/** Checks an integer option within `[min, max]`, or returns `fallback` when it is undefined. */
export function intOption(
  value: unknown,
  name: string,
  action: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(`${action}: ${name} must be an integer`);
  }
  if (value < min || value > max) {
    throw new RangeError(`${action}: ${name} must be between ${min} and ${max}`);
  }
  return value;
}

/** Checks that `value` is an object (or undefined) and returns it. */
export function optionsObject<T extends object>(value: T | undefined, action: string): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`${action}: options must be an object`);
  }
  return value;
}
