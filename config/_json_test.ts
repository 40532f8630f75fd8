import { test } from "node:test";
import assert from "node:assert/strict";
import { JsonSyntaxError, lineColumn, parseJson } from "./_json.ts";

test("parseJson() parses what JSON.parse parses, onto null-prototype objects", () => {
  const text = '{"a": [1, -2.5e3, true, false, null, "x\\u0041\\n"], "b": {"c": {}}, "d": []}';
  const { value } = parseJson(text);
  assert.deepEqual(JSON.parse(JSON.stringify(value)), JSON.parse(text));
  assert.equal(Object.getPrototypeOf(value), null);
  assert.deepEqual(parseJson(" 42 ").value, 42);
  assert.deepEqual(parseJson('"s"').value, "s");
});

test("parseJson() records where each member's value starts", () => {
  const text = '{\n  "server": {\n    "port": 80\n  },\n  "list": [1]\n}';
  const { offsets } = parseJson(text);
  assert.equal(lineColumn(text, offsets.get("server\u0000port") ?? -1).line, 3);
  assert.equal(lineColumn(text, offsets.get("list") ?? -1).line, 5);
});

test("parseJson() reports each syntax error at its offset", () => {
  const cases: [string, RegExp, number][] = [
    ['{"a": 1,}', /trailing comma/, 8],
    ["[1, 2,]", /trailing comma/, 6],
    ["{a: 1}", /expected a string key/, 1],
    ['{"a" 1}', /expected ":"/, 5],
    ['{"a": 1 "b": 2}', /expected "," or "}"/, 8],
    ["[1 2]", /expected "," or "]"/, 3],
    ['"a\tb"', /control character/, 2],
    ['"\\x"', /invalid escape/, 0],
    ['"abc', /unterminated string/, 0],
    ["", /unexpected end of input/, 0],
    ["{", /expected a string key|unexpected end/, 1],
    ["nul", /unexpected character/, 0],
    ["-", /unexpected character/, 0],
    ["1 2", /unexpected text after the value/, 2],
    ['{"a": 1, "a": 2}', /^duplicate key$/, 9],
  ];
  for (const [text, message, offset] of cases) {
    assert.throws(() => parseJson(text), (error: unknown) => {
      assert.ok(error instanceof JsonSyntaxError, text);
      assert.match(error.message, message, text);
      assert.equal(error.offset, offset, text);
      return true;
    });
  }
});

test("parseJson() refuses nesting deep enough to exhaust the stack", () => {
  assert.throws(() => parseJson("[".repeat(100_000)), /nesting is too deep/);
  assert.equal(Array.isArray(parseJson(`${"[".repeat(100)}${"]".repeat(100)}`).value), true);
});

test("lineColumn() counts lines and columns from 1", () => {
  assert.deepEqual(lineColumn("ab\ncd", 4), { line: 2, column: 2 });
  assert.deepEqual(lineColumn("", 0), { line: 1, column: 1 });
});
