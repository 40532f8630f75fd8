import { EventError } from "./errors.ts";

// deno-lint-ignore no-control-regex
const BAD_CHARS = /[\s\u0000-\u001f\u007f]/;
const NAME = /^[A-Za-z0-9_-]{1,200}$/;

/** Why `subject` is not a valid subject, or `undefined` when it is. */
export function subjectProblem(subject: unknown, wildcards: boolean): string | undefined {
  if (typeof subject !== "string" || subject === "") return "must be a non-empty string";
  if (subject.length > 1024) return "must be at most 1024 characters";
  if (BAD_CHARS.test(subject)) return "must not contain whitespace or control characters";
  if (!wildcards && subject.startsWith("$")) {
    return "must not start with $ (system subjects such as $JS.API are reserved)";
  }
  const tokens = subject.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token === "") return "must not have an empty token (a leading, trailing or double dot)";
    const wild = token.includes("*") || token.includes(">");
    if (!wild) continue;
    if (!wildcards) return "must not contain the wildcards * or > when publishing";
    if (token !== "*" && token !== ">") return "must use * and > only as whole tokens";
    if (token === ">" && i !== tokens.length - 1) return "must use > only as the last token";
  }
  return undefined;
}

const checked = new Set<string>();

/** Throws an `invalid_subject` {@linkcode EventError} unless `subject` can be published to. */
export function checkPublishSubject(subject: string, action: string): void {
  if (checked.has(subject)) return;
  const problem = subjectProblem(subject, false);
  if (problem !== undefined) {
    throw new EventError(`${action}: invalid subject ${JSON.stringify(subject)}: ${problem}`, {
      code: "invalid_subject",
      subject: typeof subject === "string" ? subject : undefined,
    });
  }
  if (checked.size > 10_000) checked.clear();
  checked.add(subject);
}

/** Throws an `invalid_subject` {@linkcode EventError} unless `subject` can be subscribed to. */
export function checkSubscribeSubject(subject: string, action: string): void {
  const problem = subjectProblem(subject, true);
  if (problem !== undefined) {
    throw new EventError(`${action}: invalid subject ${JSON.stringify(subject)}: ${problem}`, {
      code: "invalid_subject",
      subject: typeof subject === "string" ? subject : undefined,
    });
  }
}

/** Whether a stream, durable or prefix name is made of letters, digits, `_` and `-` only. */
export function isName(value: unknown): value is string {
  return typeof value === "string" && NAME.test(value);
}

/** Whether `subject` (no wildcards) matches `pattern` (NATS wildcards `*` and `>`). */
export function matchSubject(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === ">") return s.length > i;
    if (i >= s.length) return false;
    if (token !== "*" && token !== s[i]) return false;
  }
  return p.length === s.length;
}
