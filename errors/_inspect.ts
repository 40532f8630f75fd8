// Property reads that survive hostile values: throwing getters, revoked proxies.

/** Reads `value[key]`, or `undefined` when the value is not an object or the read throws. */
export function read(value: unknown, key: string): unknown {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) {
    return undefined;
  }
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** Whether `value` is an `AggregateError` (its `errors` are part of the chain). */
export function isAggregate(value: unknown): boolean {
  try {
    return value instanceof AggregateError;
  } catch {
    return false;
  }
}
