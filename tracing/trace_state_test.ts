import { test } from "node:test";
import assert from "node:assert/strict";
import { formatTracestate, MAX_TRACESTATE_MEMBERS, parseTracestate } from "./trace_state.ts";

// W3C Trace Context level 1, section 3.3: list members, keys, values, limits.
const CASES:
  readonly (readonly [string, string | undefined, readonly (readonly [string, string])[]])[] = [
    ["no header", undefined, []],
    ["an empty header", "", []],
    ["one member", "congo=t61rcWkgMzE", [["congo", "t61rcWkgMzE"]]],
    ["two members with spaces and tabs around", " a=1 ,\tb=2\t", [["a", "1"], ["b", "2"]]],
    ["empty members skipped", "a=1,,, ,b=2", [["a", "1"], ["b", "2"]]],
    ["a multi-tenant key", "fw529a3039@dt=FIXED", [["fw529a3039@dt", "FIXED"]]],
    ["a key with every allowed character", "a0_-*/z=x", [["a0_-*/z", "x"]]],
    ["a value with an inner space and punctuation", "a=x y!~", [["a", "x y!~"]]],
    ["an uppercase key dropped", "Key=1,ok=2", [["ok", "2"]]],
    ["a key starting with a digit dropped (simple key)", "1a=1,ok=2", [["ok", "2"]]],
    ["a key over 256 characters dropped", `${"k".repeat(257)}=1,ok=2`, [["ok", "2"]]],
    ["a key of 256 characters kept", `${"k".repeat(256)}=1`, [["k".repeat(256), "1"]]],
    ["a system id over 14 characters dropped", `t@${"s".repeat(15)}=1,ok=2`, [["ok", "2"]]],
    ["a tenant id over 241 characters dropped", `${"t".repeat(242)}@s=1,ok=2`, [["ok", "2"]]],
    ["an empty value dropped", "a=,ok=2", [["ok", "2"]]],
    ["spaces before a comma are OWS, not part of the value", "a=x  ,ok=2", [["a", "x"], [
      "ok",
      "2",
    ]]],
    ["a value with = dropped", "a=x=y,ok=2", [["ok", "2"]]],
    ["a value over 256 characters dropped", `a=${"v".repeat(257)},ok=2`, [["ok", "2"]]],
    ["a value of 256 characters kept", `a=${"v".repeat(256)}`, [["a", "v".repeat(256)]]],
    ["a non-ASCII value dropped", "a=caf\u00e9,ok=2", [["ok", "2"]]],
    ["a member without = dropped", "novalue,ok=2", [["ok", "2"]]],
    ["a member with no key dropped", "=x,ok=2", [["ok", "2"]]],
    ["a repeated key kept where it first appears", "a=1,b=2,a=3", [["a", "1"], ["b", "2"]]],
  ];

for (const [name, text, expected] of CASES) {
  test(`parseTracestate() handles ${name}`, () => {
    assert.deepEqual(parseTracestate(text), expected);
  });
}

test("parseTracestate() keeps at most 32 members", () => {
  const members = Array.from({ length: 40 }, (_, i) => `k${i}=v${i}`);
  const parsed = parseTracestate(members.join(","));
  assert.equal(parsed.length, MAX_TRACESTATE_MEMBERS);
  assert.deepEqual(parsed[31], ["k31", "v31"]);
  assert.equal(parseTracestate(members.slice(0, 32).join(",")).length, 32);
  // Malformed members do not count towards the limit.
  const mixed = ["BAD=1", ...members.slice(0, 32)].join(",");
  assert.deepEqual(parseTracestate(mixed)[31], ["k31", "v31"]);
});

test("parseTracestate() gives [] for anything that is not a string", () => {
  assert.deepEqual(parseTracestate(null), []);
  assert.deepEqual(parseTracestate(42 as never), []);
});

test("formatTracestate() writes members in order and round-trips", () => {
  const state = [["a", "1"], ["t@s", "x y"]] as const;
  assert.equal(formatTracestate(state), "a=1,t@s=x y");
  assert.deepEqual(parseTracestate(formatTracestate(state)), state);
  assert.equal(formatTracestate([]), "");
});

test("formatTracestate() refuses what the grammar forbids", () => {
  assert.throws(() => formatTracestate([["A", "1"]]), { name: "TypeError", message: /key/ });
  assert.throws(() => formatTracestate([["a", "1,2"]]), { name: "TypeError", message: /"a"/ });
  assert.throws(() => formatTracestate([["a", ""]]), TypeError);
  assert.throws(() => formatTracestate([["a", "x "]]), TypeError);
  assert.throws(() => formatTracestate([["a", "1"], ["a", "2"]]), {
    name: "TypeError",
    message: /repeats/,
  });
  assert.throws(() => formatTracestate("a=1" as never), TypeError);
  assert.throws(() => formatTracestate([["a"]] as never), TypeError);
  const many = Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"] as const);
  assert.throws(() => formatTracestate(many), { name: "RangeError", message: /32/ });
});
