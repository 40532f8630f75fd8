// The `pretty` format: one readable line per record for local development.

const COLORS: Record<string, string> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[35m",
};
const RESET = "\x1b[0m";
const HEAD = new Set(["timestamp", "level", "service_name", "message"]);

function text(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/**
 * Turns one JSON line into `01:02:03.456 INFO  service: message key=value …`, with the error's
 * stack (and its causes') on the following lines.
 */
export function prettyLine(json: string, color: boolean): string {
  const record = JSON.parse(json) as Record<string, unknown>;
  const level = String(record.level);
  const time = String(record.timestamp).slice(11, 23);
  let name = level.toUpperCase().padEnd(5);
  if (color) name = `${COLORS[level] ?? ""}${name}${RESET}`;
  let out = `${time} ${name} ${String(record.service_name)}: ${String(record.message)}`;
  let stacks = "";
  for (const [key, value] of Object.entries(record)) {
    if (HEAD.has(key)) continue;
    if (key === "err" && typeof value === "object" && value !== null) {
      let error: unknown = value;
      let prefix = "";
      while (typeof error === "object" && error !== null) {
        const { type, message, stack } = error as Record<string, unknown>;
        stacks += typeof stack === "string"
          ? `\n    ${prefix}${stack.replaceAll("\n", "\n    ")}`
          : `\n    ${prefix}${String(type)}: ${String(message)}`;
        error = (error as { cause?: unknown }).cause;
        prefix = "caused by: ";
      }
      const { stack: _stack, cause: _cause, ...summary } = value as Record<string, unknown>;
      out += ` err=${text(summary)}`;
      continue;
    }
    out += ` ${key}=${text(value)}`;
  }
  return `${out}${stacks}\n`;
}
