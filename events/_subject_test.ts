import { test } from "node:test";
import assert from "node:assert/strict";
import { checkPublishSubject, isName, matchSubject, subjectProblem } from "./_subject.ts";
import { EventError } from "./errors.ts";

test("subjectProblem() accepts valid subjects and names each rule broken", () => {
  assert.equal(subjectProblem("user.created", false), undefined);
  assert.equal(subjectProblem("user.*.created", true), undefined);
  assert.equal(subjectProblem("user.>", true), undefined);
  assert.match(subjectProblem("", false)!, /non-empty/);
  assert.match(subjectProblem(42, false)!, /non-empty string/);
  assert.match(subjectProblem("a b", false)!, /whitespace/);
  assert.match(subjectProblem("a\r\nb", false)!, /whitespace/);
  assert.match(subjectProblem("a..b", false)!, /empty token/);
  assert.match(subjectProblem(".a", false)!, /empty token/);
  assert.match(subjectProblem("a.", false)!, /empty token/);
  assert.match(subjectProblem("a.*", false)!, /wildcards/);
  assert.match(subjectProblem("a.b*", true)!, /whole tokens/);
  assert.match(subjectProblem("a.>.b", true)!, /last token/);
  assert.match(subjectProblem("a".repeat(1025), false)!, /1024/);
  assert.match(subjectProblem("a\u0001b", false)!, /control characters/);
  assert.match(subjectProblem("a\u007fb", false)!, /control characters/);
});

test("subjectProblem() refuses $-prefixed system subjects for publishing only", () => {
  for (const subject of ["$JS.API.STREAM.DELETE.ORDERS", "$SYS.REQ.SERVER.PING", "$KV.a.b", "$"]) {
    assert.match(subjectProblem(subject, false)!, /must not start with \$/, subject);
  }
  assert.equal(subjectProblem("user.$created", false), undefined);
  assert.equal(subjectProblem("$KV.config.>", true), undefined);
});

test("checkPublishSubject() throws an invalid_subject EventError naming the subject", () => {
  assert.throws(() => checkPublishSubject("a b", "Cannot publish event"), (error) => {
    assert.ok(error instanceof EventError);
    assert.equal(error.code, "invalid_subject");
    assert.equal(error.subject, "a b");
    assert.match(error.message, /^Cannot publish event: invalid subject "a b": /);
    return true;
  });
  checkPublishSubject("ok.subject", "x");
  checkPublishSubject("ok.subject", "x");
});

test("matchSubject() follows NATS wildcard rules", () => {
  assert.equal(matchSubject("a.b", "a.b"), true);
  assert.equal(matchSubject("a.*", "a.b"), true);
  assert.equal(matchSubject("a.*", "a.b.c"), false);
  assert.equal(matchSubject("a.>", "a.b.c"), true);
  assert.equal(matchSubject("a.>", "a"), false);
  assert.equal(matchSubject(">", "x"), true);
  assert.equal(matchSubject("a.b.c", "a.b"), false);
  assert.equal(matchSubject("a.x", "a.b"), false);
});

test("isName() allows letters, digits, _ and - only", () => {
  assert.equal(isName("orders_v2-worker"), true);
  assert.equal(isName("a.b"), false);
  assert.equal(isName(""), false);
  assert.equal(isName(undefined), false);
});
