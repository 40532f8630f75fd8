// JSON helpers that never throw: problem bodies must render whatever the extensions hold.

function replacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/**
 * `JSON.stringify` that turns BigInt into strings and falls back to `fallback()` when the
 * value cannot be serialised (a cycle, a throwing `toJSON` or getter).
 */
export function stringifyOr(value: unknown, fallback: () => unknown): string {
  try {
    return JSON.stringify(value, replacer) ?? "null";
  } catch {
    return JSON.stringify(fallback(), replacer) ?? "null";
  }
}

/** Cuts `text` to at most `max` UTF-16 units, never splitting a surrogate pair, marking the cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}
