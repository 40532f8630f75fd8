// How validation problems read: one line per issue, and the summary message of a ConfigError
// that loadConfig() throws. Never a value: a key, a source and a rule.
import type { ConfigIssue } from "./errors.ts";

/** One problem as a sentence: `Missing required config: KEY` or `Invalid config KEY (from src): rule`. */
export function describeIssue(issue: ConfigIssue): string {
  if (issue.rule === "required") return `Missing required config: ${issue.key}`;
  const from = issue.source === "unset" ? "" : ` (from ${issue.source})`;
  return `Invalid config ${issue.key}${from}: ${issue.rule}`;
}

/** `Invalid configuration (N problems):` followed by one indented line per problem. */
export function invalidConfigMessage(issues: readonly ConfigIssue[]): string {
  const count = `${issues.length} ${issues.length === 1 ? "problem" : "problems"}`;
  return `Invalid configuration (${count}):\n${
    issues.map((issue) => `  - ${describeIssue(issue)}`).join("\n")
  }`;
}
