import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseDotenv } from "./dotenv.ts";
import { ConfigParseError } from "./errors.ts";

const PIECES = [
  "=",
  "'",
  '"',
  "`",
  "#",
  " ",
  "\t",
  "\n",
  "\r",
  "\\",
  "$",
  "{",
  "}",
  ":-",
  ":?",
  "export ",
];

/** Text that is mostly the format's own punctuation, to reach the parser's corners. */
const tricky = fc.array(
  fc.oneof(
    fc.constantFrom(...PIECES),
    fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/),
    fc.string({ unit: "grapheme", maxLength: 4 }),
  ),
  { maxLength: 40 },
).map((parts) => parts.join(""));

function parsesOrFailsCleanly(text: string): void {
  try {
    const env = parseDotenv(text);
    assert.equal(Object.getPrototypeOf(env), null);
    for (const value of Object.values(env)) assert.equal(typeof value, "string");
  } catch (error) {
    assert.ok(error instanceof ConfigParseError, `unexpected ${String(error)}`);
    assert.ok(error.line !== undefined && error.line >= 1);
  }
}

test("parseDotenv() never crashes or hangs on random printable input", () => {
  fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), parsesOrFailsCleanly), {
    numRuns: 1000,
  });
});

test("parseDotenv() never crashes or hangs on random punctuation-heavy input", () => {
  fc.assert(fc.property(tricky, parsesOrFailsCleanly), { numRuns: 2000 });
});

test("parseDotenv() round-trips single-quoted values of any printable text", () => {
  const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/).filter((k) => k !== "__proto__");
  const value = fc.string({ unit: "grapheme", maxLength: 50 }).filter((v) => !v.includes("'"));
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 10 }), (record) => {
      const text = Object.entries(record).map(([k, v]) => `${k}='${v}'`).join("\n");
      const parsed = parseDotenv(text);
      const expected = Object.fromEntries(
        Object.entries(record).map(([k, v]) => [k, v.replace(/\r\n?/g, "\n")]),
      );
      assert.deepEqual({ ...parsed }, expected);
    }),
    { numRuns: 300 },
  );
});
