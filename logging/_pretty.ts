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

// C0 and C1 controls, DEL, line and paragraph separators, bidirectional overrides and isolates:
// anything that could end a line, recolour the terminal or reorder what is shown.
const UNSAFE_CLASS = "[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]";
const UNSAFE = new RegExp(UNSAFE_CLASS);
const UNSAFE_ALL = new RegExp(UNSAFE_CLASS, "g");

/** `text` with every unsafe character written as a `\uXXXX` escape (newlines included). */
function escape(text: string): string {
  return UNSAFE.test(text)
    ? text.replace(UNSAFE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    : text;
}

function text(value: unknown): string {
  if (typeof value === "string" && /^[^\s"=]+$/.test(value) && !UNSAFE.test(value)) return value;
  return escape(JSON.stringify(value) ?? String(value));
}

/** A stack's own lines, each escaped and indented: `\n    at …`. */
function stackLines(stack: string): string {
  return stack.split("\n").map(escape).join("\n    ");
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
  let out = `${escape(time)} ${name} ${escape(String(record.service_name))}: ${
    escape(String(record.message))
  }`;
  let stacks = "";
  for (const [key, value] of Object.entries(record)) {
    if (HEAD.has(key)) continue;
    if (key === "err" && typeof value === "object" && value !== null) {
      let error: unknown = value;
      let prefix = "";
      while (typeof error === "object" && error !== null) {
        const { type, message, stack } = error as Record<string, unknown>;
        const header = `${String(type)}: ${String(message)}`;
        stacks += `\n    ${prefix}`;
        if (typeof stack !== "string") stacks += escape(header);
        else if (stack.startsWith(header)) {
          // The message is one line however many it holds; the frames after it stay lines.
          stacks += escape(header) + stackLines(stack.slice(header.length));
        } else stacks += stackLines(stack);
        error = (error as { cause?: unknown }).cause;
        prefix = "caused by: ";
      }
      const { stack: _stack, cause: _cause, ...summary } = value as Record<string, unknown>;
      out += ` err=${text(summary)}`;
      continue;
    }
    out += ` ${escape(key)}=${text(value)}`;
  }
  return `${out}${stacks}\n`;
}
