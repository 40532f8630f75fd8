// UTC RFC 3339 timestamps with milliseconds, formatted once per millisecond.

let lastMs = Number.NaN;
let lastText = "";

/** `ms` (milliseconds since the epoch) as `2026-11-22T01:02:03.456Z`, cached per millisecond. */
export function isoTime(ms: number): string {
  if (ms === lastMs) return lastText;
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return new Date().toISOString();
  lastMs = ms;
  lastText = date.toISOString();
  return lastText;
}
