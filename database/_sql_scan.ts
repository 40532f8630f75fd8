// Counts the statements of a SQL script: semicolons outside string literals, quoted
// identifiers, dollar-quoted bodies and comments, ignoring empty statements.

/** The number of non-empty statements in `sql`. */
export function countStatements(sql: string): number {
  let count = 0;
  let content = false;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === "/" && sql[i + 1] === "*") (depth++, i += 2);
        else if (sql[i] === "*" && sql[i + 1] === "/") (depth--, i += 2);
        else i++;
      }
      continue;
    }
    if (c === "'" || c === '"') {
      i++;
      while (i < n) {
        if (sql[i] === c) {
          if (sql[i + 1] === c) i += 2;
          else break;
        } else i++;
      }
      i++;
      content = true;
      continue;
    }
    if (c === "$") {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag !== null && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? "")) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? n : end + tag[0].length;
        content = true;
        continue;
      }
    }
    if (c === ";") {
      if (content) count++;
      content = false;
    } else if (!/\s/.test(c)) content = true;
    i++;
  }
  return content ? count + 1 : count;
}
