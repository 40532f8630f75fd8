import { test } from "node:test";
import assert from "node:assert/strict";
import { type DotenvWarning, parseDotenv, parseDotenvEntries } from "./dotenv.ts";
import { ConfigParseError } from "./errors.ts";

type Expected = Record<string, string> | { error: RegExp; line: number };

// The corpus: every rule of the format, each with its expected values or error.
const CORPUS: [name: string, input: string, expected: Expected, env?: Record<string, string>][] = [
  ["simple pair", "A=1", { A: "1" }],
  ["several pairs", "A=1\nB=2\nC=3", { A: "1", B: "2", C: "3" }],
  ["export prefix", "export A=1", { A: "1" }],
  ["export prefix with tabs", "export\t\tA=1", { A: "1" }],
  ["export as a key", "export=1", { export: "1" }],
  ["spaces around =", "A = 1", { A: "1" }],
  ["tabs around =", "A\t=\t1", { A: "1" }],
  ["indented line", "   A=1", { A: "1" }],
  ["blank lines", "\n\nA=1\n\n\nB=2\n", { A: "1", B: "2" }],
  ["comment lines", "# comment\nA=1\n  # indented comment", { A: "1" }],
  ["empty value", "A=", { A: "" }],
  ["empty value with spaces", "A=   ", { A: "" }],
  ["unquoted trimmed", "A=  hello world  ", { A: "hello world" }],
  ["inline comment after space", "A=value # comment", { A: "value" }],
  ["inline comment after tab", "A=value\t# comment", { A: "value" }],
  ["hash without space is kept", "URL=http://x/p#frag", { URL: "http://x/p#frag" }],
  ["hash starting the value", "A=#notcomment", { A: "#notcomment" }],
  ["space then hash empties", "A= # only a comment", { A: "" }],
  ["equals in value", "A=b=c=d", { A: "b=c=d" }],
  ["colon in value", "A=http://host:80", { A: "http://host:80" }],
  ["underscore key", "_A_1=x", { _A_1: "x" }],
  ["lower-case key", "lower=x", { lower: "x" }],
  ["constructor is a plain key", "constructor=x", { constructor: "x" }],
  ["toString is a plain key", "toString=x", { toString: "x" }],
  ["single quotes literal", "A='a ${B} \\n $C'", { A: "a ${B} \\n $C" }],
  ["single quotes keep #", "A='a # b'", { A: "a # b" }],
  ["single quotes multiline", "A='line1\nline2'\nB=2", { A: "line1\nline2", B: "2" }],
  ["double quotes", 'A="hello world"', { A: "hello world" }],
  ["double quote escapes", 'A="a\\nb\\rc\\td\\\\e\\"f"', { A: 'a\nb\rc\td\\e"f' }],
  ["double quote escaped dollar", 'A="\\$HOME and \\${X}"', { A: "$HOME and ${X}" }],
  ["double quote unknown escape kept", 'A="a\\qb"', { A: "a\\qb" }],
  ["double quotes multiline", 'A="one\ntwo"\nB=3', { A: "one\ntwo", B: "3" }],
  ["double quotes keep #", 'A="a # b"', { A: "a # b" }],
  ["double quoted then comment", 'A="v" # comment', { A: "v" }],
  ["single quoted then comment", "A='v'\t# comment", { A: "v" }],
  ["backticks literal", 'A=`it\'s "quoted" ${X}`', { A: 'it\'s "quoted" ${X}' }],
  ["backticks multiline", "A=`a\nb`", { A: "a\nb" }],
  ["quoted spaces kept", 'A="  padded  "', { A: "  padded  " }],
  ["empty double quotes", 'A=""', { A: "" }],
  ["empty single quotes", "A=''", { A: "" }],
  ["expansion in unquoted", "A=1\nB=${A}2", { A: "1", B: "12" }],
  ["expansion in double quotes", 'A=x\nB="<${A}>"', { A: "x", B: "<x>" }],
  ["forward reference", "B=${A}\nA=late", { B: "late", A: "late" }],
  ["bare $NAME stays literal", "A=1\nB=$A", { A: "1", B: "$A" }],
  ["pa$$word survives", "P=pa$$word", { P: "pa$$word" }],
  ["command substitution never runs", "A=$(rm -rf /)", { A: "$(rm -rf /)" }],
  ["command substitution in double quotes", 'A="$(whoami)"', { A: "$(whoami)" }],
  ["escaped expansion unquoted", "A=\\${B}", { A: "${B}" }],
  ["other backslashes unquoted kept", "A=C:\\path\\to", { A: "C:\\path\\to" }],
  ["default when unset", "A=${NOPE:-fallback}", { A: "fallback" }],
  ["default when empty", "E=\nA=${E:-fallback}", { E: "", A: "fallback" }],
  ["default not used when set", "S=set\nA=${S:-fallback}", { S: "set", A: "set" }],
  ["nested default", "B=b\nA=${NOPE:-${B}}", { B: "b", A: "b" }],
  ["default with spaces in double quotes", 'A="${NOPE:-a b}"', { A: "a b" }],
  ["required reference set", "S=1\nA=${S:?S is needed}", { S: "1", A: "1" }],
  ["missing reference becomes empty", "A=x${MISSING}y", { A: "xy" }],
  ["env beats the file in expansion", "HOST=file\nURL=http://${HOST}/", {
    HOST: "file",
    URL: "http://os/",
  }, { HOST: "os" }],
  ["self reference reads env", "PATH=${PATH}:/extra", { PATH: "/bin:/extra" }, { PATH: "/bin" }],
  ["self reference without env is empty", "A=${A}x", { A: "x" }],
  ["env name not in file", "A=${HOME}/app", { A: "/home/u/app" }, { HOME: "/home/u" }],
  ["CRLF line endings", "A=1\r\nB=2\r\n", { A: "1", B: "2" }],
  ["lone CR line endings", "A=1\rB=2", { A: "1", B: "2" }],
  ["UTF-8 BOM", "\ufeffA=1", { A: "1" }],
  ["non-ASCII value", "A=héllo wörld ✓", { A: "héllo wörld ✓" }],
  ["duplicate: last wins", "A=1\nA=2", { A: "2" }],
  ["no trailing newline", "A=1", { A: "1" }],
  ["only comments", "# nothing\n# here", {}],
  ["empty input", "", {}],
  // Errors, each naming its line.
  ["dotted key", "a.b=1", { error: /invalid key/, line: 1 }],
  ["dashed key", "\nA-B=1", { error: /invalid key/, line: 2 }],
  ["leading digit", "1A=1", { error: /invalid key/, line: 1 }],
  ["non-ASCII key", "KÉY=1", { error: /invalid key/, line: 1 }],
  ["empty key", "=1", { error: /expected a key/, line: 1 }],
  ["YAML-style colon", "KEY: value", { error: /expected "=" after KEY/, line: 1 }],
  ["line without =", "A=1\nJUSTAKEY", { error: /expected "=" after JUSTAKEY/, line: 2 }],
  ["space inside key", "MY KEY=1", { error: /expected "=" after MY/, line: 1 }],
  ["__proto__ rejected", "__proto__=x", { error: /__proto__ is not allowed/, line: 1 }],
  ["unterminated double quote", 'A=1\nB="open\nC=3', { error: /unterminated " quote/, line: 2 }],
  ["unterminated single quote", "A='open", { error: /unterminated ' quote/, line: 1 }],
  ["unterminated backtick", "\n\nA=`x", { error: /unterminated ` quote/, line: 3 }],
  ["text after closing quote", 'A="x"y', {
    error: /unexpected text after the closing " quote of A/,
    line: 1,
  }],
  ["hash glued to closing quote", "A='x'#c", { error: /unexpected text after/, line: 1 }],
  ["reference cycle", "A=${B}\nB=${A}", { error: /references itself through A → B → A/, line: 1 }],
  ["required reference unset", "\nA=${NEED:?set NEED first}", {
    error: /NEED is required by A: set NEED first/,
    line: 2,
  }],
  ["required reference empty", "E=\nA=${E:?}", { error: /E is required by A/, line: 2 }],
  ["unterminated reference", "A=${B", { error: /unterminated \$\{/, line: 1 }],
  ["invalid reference", "A=${1B}", { error: /invalid reference/, line: 1 }],
  ["unsupported operator", "A=${B/x/y}", { error: /invalid reference/, line: 1 }],
];

test("parseDotenv() handles the corpus of tricky inputs", () => {
  assert.ok(CORPUS.length >= 60, `corpus has ${CORPUS.length} cases`);
  for (const [name, input, expected, env] of CORPUS) {
    if ("error" in expected && expected.error instanceof RegExp) {
      const pattern = expected.error;
      const line = Number(expected.line);
      assert.throws(
        () => parseDotenv(input, { file: ".env.test", env }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigParseError, name);
          assert.equal(error.code, "config_invalid_dotenv", name);
          assert.equal(error.line, line, `${name}: line`);
          assert.match(error.message, pattern, name);
          assert.match(
            error.message,
            new RegExp(`^Cannot load config file \\.env\\.test:${line}`),
            name,
          );
          return true;
        },
        name,
      );
    } else {
      assert.deepEqual({ ...parseDotenv(input, { env }) }, expected, name);
    }
  }
});

test("parseDotenv() returns a null-prototype record", () => {
  const env = parseDotenv("constructor=1\nhasOwnProperty=2");
  assert.equal(Object.getPrototypeOf(env), null);
  assert.equal(env["constructor"], "1");
  assert.equal(({} as Record<string, unknown>)["hasOwnProperty"] === "2", false);
});

test("parseDotenv() never puts a value in an error message", () => {
  const secret = "s3cr3t-Value";
  const inputs = [
    `PASSWORD="${secret}`,
    `PASSWORD='${secret}'trailing`,
    `PASSWORD: ${secret}`,
    `PASS WORD=${secret}`,
    `A=\${${secret}`,
  ];
  for (const input of inputs) {
    assert.throws(() => parseDotenv(input), (error: unknown) => {
      assert.ok(error instanceof ConfigParseError);
      assert.ok(!error.message.includes(secret), error.message);
      return true;
    });
  }
});

test("parseDotenv() warns about duplicates and unset references, naming file and line", () => {
  const warnings: DotenvWarning[] = [];
  const env = parseDotenv("A=1\nB=${NOPE}\nA=2", {
    file: ".env.local",
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(env["A"], "2");
  assert.deepEqual(warnings.map((w) => [w.file, w.line, w.key]).sort(), [
    [".env.local", 2, "B"],
    [".env.local", 3, "A"],
  ]);
  assert.match(warnings.find((w) => w.key === "A")?.message ?? "", /first on line 1/);
  assert.match(warnings.find((w) => w.key === "B")?.message ?? "", /\$\{NOPE\}, which is not set/);
});

test("parseDotenv() keeps keys in file order and the last definition's position", () => {
  const { values, lines } = parseDotenvEntries("B=${A}\nA=1\nC='x\ny'\nD=4\nB=2");
  assert.deepEqual(Object.keys(values), ["A", "C", "D", "B"]);
  assert.equal(lines["D"], 5);
  assert.equal(lines["B"], 6);
  assert.equal(lines["C"], 3);
});

test("parseDotenv() counts lines across multi-line values and CRLF", () => {
  assert.throws(() => parseDotenv('A="x\r\ny"\r\nB=\'z\r\n\r\nBAD LINE'), (error: unknown) => {
    assert.ok(error instanceof ConfigParseError);
    assert.equal(error.line, 3);
    return true;
  });
  const { lines } = parseDotenvEntries('A="x\\\ny"\nB=1');
  assert.equal(lines["B"], 3);
});

/** Asserts a `ConfigParseError` at `file:line` whose message matches and holds no value. */
function rejectsAt(text: string, line: number, message: RegExp, secret = "s3cr3t"): void {
  assert.throws(() => parseDotenv(text, { file: ".env.local" }), (error: unknown) => {
    assert.ok(error instanceof ConfigParseError, String(error));
    assert.equal(error.code, "config_invalid_dotenv");
    assert.equal(error.file, ".env.local");
    assert.equal(error.line, line);
    assert.ok(error.message.startsWith(`Cannot load config file .env.local:${line}: `));
    assert.match(error.message, message);
    assert.ok(!error.message.includes(secret), error.message);
    return true;
  });
}

test("parseDotenv() refuses ${…} nested more than 16 levels deep, naming file, line and key", () => {
  const nest = (levels: number): string =>
    `${"${UNSET:-".repeat(levels)}s3cr3t${"}".repeat(levels)}`;
  assert.equal(parseDotenv(`A=1\nTOKEN=${nest(16)}`).TOKEN, "s3cr3t");
  rejectsAt(`A=1\nTOKEN=${nest(17)}`, 2, /TOKEN nests \$\{…\} more than 16 levels deep/);
  rejectsAt(`A=1\nTOKEN=${nest(50_000)}`, 2, /TOKEN nests/);
  rejectsAt(`A=1\nTOKEN="${nest(50_000)}"`, 2, /TOKEN nests/);
});

test("parseDotenv() refuses reference chains longer than 32 keys, naming the first key", () => {
  // Last key first, so resolving the first line follows the whole chain.
  const chain = (length: number): string =>
    [
      ...Array.from({ length }, (_, i) => `K${length - i}=\${K${length - i - 1}}`),
      "K0=s3cr3t",
    ].join("\n");
  assert.equal(parseDotenv(chain(31)).K31, "s3cr3t");
  rejectsAt(chain(32), 1, /references of K32 go more than 32 keys deep \(at K0\)/);
  rejectsAt(chain(20_000), 1, /references of K20000 go more than 32 keys deep/);
});

test("parseDotenv() refuses values that expand past 1 MiB, or 8 MiB together", () => {
  // Each line repeats the one before ten times: K7 would be 100 MB.
  const lines = ["K0=s3cr3t7890"];
  for (let i = 1; i <= 7; i++) lines.push(`K${i}=${`\${K${i - 1}}`.repeat(10)}`);
  rejectsAt(lines.join("\n"), 7, /value of K6 expands to more than 1048576 characters/);
  const big = lines.slice(0, 6).join("\n"); // K5 is 1 000 000 characters: allowed
  assert.equal(parseDotenv(big).K5?.length, 1_000_000);
  const copies = Array.from({ length: 9 }, (_, i) => `COPY${i}=\${K5}`).join("\n");
  rejectsAt(`${big}\n${copies}`, 14, /add up to more than 8388608 characters \(at COPY7\)/);
  // A long literal value is the file's own size, not an expansion.
  assert.equal(parseDotenv(`A=${"x".repeat(2_000_000)}`).A?.length, 2_000_000);
});
