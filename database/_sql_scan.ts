// Splits a SQL script into statements the way PostgreSQL's simple query protocol sees them,
// without parsing it: semicolons inside string literals (including E'' escapes), quoted
// identifiers, dollar-quoted bodies, comments, parentheses (rule actions) and SQL-standard
// `BEGIN ATOMIC … END` function bodies do not end a statement. For each statement it keeps its
// line and its leading keywords, which is enough to recognise transaction control.

/** One statement of a script. */
export interface ScannedStatement {
  /** The 1-based line of the statement's first token. */
  readonly line: number;
  /**
   * The statement's leading bare words, lower-cased (at most {@linkcode HEAD_WORDS}); a string
   * literal among them is recorded as `'`. The head stops at the first other token.
   */
  readonly head: readonly string[];
}

const HEAD_WORDS = 6;
const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

function isRoutine(head: readonly string[]): boolean {
  const [first, second, third, fourth] = head;
  if (first !== "create") return false;
  const kind = second === "or" && third === "replace" ? fourth : second;
  return kind === "function" || kind === "procedure";
}

/** The statements of `sql`, in order; empty statements (`;;`, comments only) are left out. */
export function scanStatements(sql: string): ScannedStatement[] {
  const statements: ScannedStatement[] = [];
  const n = sql.length;
  let i = 0;
  let line = 1;
  // The statement being read.
  let started = false;
  let startLine = 1;
  let head: string[] = [];
  let headOpen = true;
  let parens = 0;
  let atomic = 0;
  let previousWord = "";

  const newlines = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (sql.charCodeAt(k) === 10) line++;
  };
  const token = (word?: string): void => {
    if (!started) {
      started = true;
      startLine = line;
    }
    if (headOpen && word !== undefined && head.length < HEAD_WORDS) head.push(word);
    else headOpen = false;
  };
  const finish = (): void => {
    if (started) statements.push({ line: startLine, head });
    started = false;
    head = [];
    headOpen = true;
    parens = 0;
    atomic = 0;
    previousWord = "";
  };
  /** Skips a quoted run that starts at `i` (the opening quote); doubled quotes stay inside. */
  const skipQuoted = (quote: string, backslashEscapes: boolean): void => {
    let k = i + 1;
    while (k < n) {
      const c = sql[k];
      if (backslashEscapes && c === "\\") k += 2;
      else if (c === quote) {
        if (sql[k + 1] === quote) k += 2;
        else break;
      } else k++;
    }
    const end = Math.min(k + 1, n);
    newlines(i, end);
    i = end;
  };

  while (i < n) {
    const c = sql[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      i = end === -1 ? n : end;
    } else if (c === "/" && sql[i + 1] === "*") {
      let depth = 1;
      let k = i + 2;
      while (k < n && depth > 0) {
        if (sql[k] === "/" && sql[k + 1] === "*") (depth++, k += 2);
        else if (sql[k] === "*" && sql[k + 1] === "/") (depth--, k += 2);
        else k++;
      }
      newlines(i, k);
      i = k;
    } else if (c === "'") {
      token("'");
      skipQuoted("'", false);
    } else if (c === '"') {
      token();
      skipQuoted('"', false);
    } else if (c === "$" && DOLLAR_TAG.test(sql.slice(i, i + 64))) {
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 64))![0];
      const close = sql.indexOf(tag, i + tag.length);
      const end = close === -1 ? n : close + tag.length;
      token();
      newlines(i, end);
      i = end;
    } else if (WORD_START.test(c)) {
      let k = i + 1;
      while (k < n && WORD_PART.test(sql[k]!)) k++;
      const word = sql.slice(i, k).toLowerCase();
      i = k;
      if (word === "e" && sql[i] === "'") {
        // E'…': backslash escapes, so \' does not end it.
        token("'");
        skipQuoted("'", true);
        continue;
      }
      token(word);
      if (isRoutine(head)) {
        if (word === "atomic" && previousWord === "begin") atomic++;
        else if (atomic > 0 && word === "case") atomic++;
        else if (atomic > 0 && word === "end") atomic--;
      }
      previousWord = word;
    } else if (c === ";") {
      if (parens === 0 && atomic === 0) finish();
      else previousWord = "";
      i++;
    } else {
      if (c === "(") parens++;
      else if (c === ")" && parens > 0) parens--;
      token();
      previousWord = "";
      if (/[0-9.]/.test(c)) {
        // A number (1e5, 0x1F, 1_000) is one token, not a word.
        i++;
        while (i < n && /[A-Za-z0-9_.]/.test(sql[i]!)) i++;
      } else i++;
    }
  }
  finish();
  return statements;
}

/** The number of non-empty statements in `sql`. */
export function countStatements(sql: string): number {
  return scanStatements(sql).length;
}

const NOISE = new Set(["work", "transaction"]);

/**
 * The transaction-control command a statement is, upper-cased (`COMMIT`, `ROLLBACK AND CHAIN`,
 * `START TRANSACTION`, `PREPARE TRANSACTION`, …), or undefined when it is none: a command that
 * begins, ends or hands over the current transaction. `SAVEPOINT`, `RELEASE`, `ROLLBACK TO` stay
 * inside it, and `COMMIT PREPARED`/`ROLLBACK PREPARED` act on another one, so none of them counts.
 */
export function transactionControl(
  statement: ScannedStatement,
): string | undefined {
  const [first, ...rest] = statement.head;
  const after = NOISE.has(rest[0] ?? "") ? rest.slice(1) : rest;
  const chain = after[0] === "and" && after[1] === "chain" ? " AND CHAIN" : "";
  switch (first) {
    case "begin":
      return "BEGIN";
    case "start":
      return rest[0] === "transaction" ? "START TRANSACTION" : undefined;
    case "commit":
    case "end":
    case "abort":
      return after[0] === "prepared" ? undefined : `${first.toUpperCase()}${chain}`;
    case "rollback":
      return after[0] === "prepared" || after[0] === "to" ? undefined : `ROLLBACK${chain}`;
    case "prepare":
      // PREPARE TRANSACTION 'id', not a prepared statement named "transaction".
      return rest[0] === "transaction" && rest[1] === "'" ? "PREPARE TRANSACTION" : undefined;
    default:
      return undefined;
  }
}
