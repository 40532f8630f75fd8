import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { maskCredentials, maskValue } from "./_mask.ts";

test("maskCredentials() masks the password of every URL, DSN and query form", () => {
  const cases: [string, string][] = [
    ["postgres://app:pw@db:5432/app", "postgres://app:[REDACTED]@db:5432/app"],
    ["postgres://app:p w@db/app", "postgres://app:[REDACTED]@db/app"],
    ["postgres://app:p#w@db/app", "postgres://app:[REDACTED]@db/app"],
    ["postgres://app:p?w@db/app", "postgres://app:[REDACTED]@db/app"],
    ["postgres://app:p/w@db/app", "postgres://app:[REDACTED]@db/app"],
    ["postgres://app:p@w@db/app", "postgres://app:[REDACTED]@db/app"],
    ["postgres://app:a:b@db/app", "postgres://app:[REDACTED]@db/app"],
    ["postgres://:pw@db/app", "postgres://:[REDACTED]@db/app"],
    ["  postgres://app:pw@db/app", "  postgres://app:[REDACTED]@db/app"],
    ["\tredis://default:pw@cache:6379", "\tredis://default:[REDACTED]@cache:6379"],
    ["jdbc:postgresql://app:pw@db/app", "jdbc:postgresql://app:[REDACTED]@db/app"],
    ["app:pw@db:5432/app", "app:[REDACTED]@db:5432/app"],
    [
      "postgres://a:pw1@h1/db,postgres://b:pw2@h2/db",
      "postgres://a:[REDACTED]@h2/db",
    ],
    ["http://h1/x,postgres://b:pw@h2/db", "http://h1/x,postgres://b:[REDACTED]@h2/db"],
    ["postgres://app@db/app?password=pw", "postgres://app@db/app?password=[REDACTED]"],
    [
      "postgres://db/app?sslmode=require&password=pw&connect_timeout=5",
      "postgres://db/app?sslmode=require&password=[REDACTED]&connect_timeout=5",
    ],
    ["postgres://db/app?sslpassword=p%20w", "postgres://db/app?sslpassword=[REDACTED]"],
    ["https://api.example/v1?api_key=k&x=1", "https://api.example/v1?api_key=[REDACTED]&x=1"],
    ["https://h/?token=t#frag", "https://h/?token=[REDACTED]"],
    ["host=db user=app password=pw dbname=app", "host=db user=app password=[REDACTED] dbname=app"],
    ["host=db password = pw", "host=db password = [REDACTED]"],
    ["password=pw", "password=[REDACTED]"],
    ["host=db password='a b' port=5432", "host=db password='[REDACTED]' port=5432"],
    ["host=db password='it\\'s' port=5432", "host=db password='[REDACTED]' port=5432"],
    ['host=db password="a b"', 'host=db password="[REDACTED]"'],
    ["Server=db;User Id=app;Password=pw;", "Server=db;User Id=app;Password=[REDACTED];"],
    ["Server=db;Pwd={a;b}}c};", "Server=db;Pwd={[REDACTED]};"],
    // Cannot be delimited: the whole value goes.
    ["host=db password='unterminated", "[REDACTED]"],
    ["host=db password=a b dbname=app", "[REDACTED]"],
    ["postgres://db/app?password=a&b&sslmode=require", "[REDACTED]"],
    // A port followed by an `@` in the path reads like a password: masked, never leaked.
    ["https://example.com:8443/a@b", "https://example.com:[REDACTED]@b"],
    // Nothing to mask.
    ["postgres://app@db:5432/app", "postgres://app@db:5432/app"],
    ["https://user@example.com:8443/a", "https://user@example.com:8443/a"],
    ["https://example.com:8443/a", "https://example.com:8443/a"],
    ["postgres://me@corp.example:pw@db/app", "postgres://me@corp.example:[REDACTED]@db/app"],
    ["https://example.com/a:b@c", "https://example.com/a:b@c"],
    ["postgres://app:@db/app", "postgres://app:@db/app"],
    ["host=db port=5432", "host=db port=5432"],
    ["plain text: no secrets @ all", "plain text: no secrets @ all"],
    ["", ""],
  ];
  for (const [input, expected] of cases) {
    assert.equal(maskCredentials(input), expected, input);
  }
});

test("maskValue() masks strings inside arrays and objects and redacts secret-named keys", () => {
  assert.deepEqual(
    maskValue({
      replicas: ["postgres://a:pw1@h1/db", "postgres://b@h2/db"],
      nested: { password: "pw2", apiKey: "k", host: "db", port: 5432 },
      count: 12n,
      when: new Date(0),
    }),
    {
      replicas: ["postgres://a:[REDACTED]@h1/db", "postgres://b@h2/db"],
      nested: { password: "[REDACTED]", apiKey: "[REDACTED]", host: "db", port: 5432 },
      count: "12",
      when: new Date(0),
    },
  );
  const hostile = maskValue(JSON.parse('{"__proto__": {"password": "pw"}}')) as object;
  assert.equal(Object.getPrototypeOf(hostile), Object.prototype);
  assert.deepEqual(Object.keys(hostile), ["__proto__"]);
});

test("maskCredentials() takes linear time on long values", () => {
  // Each would take minutes if a pattern rescanned the text from every position.
  const long = "a".repeat(1_000_000);
  assert.equal(maskCredentials(`${long}://u:pw@h`), `${long}://u:[REDACTED]@h`);
  assert.equal(maskCredentials(`${long}:${long}@`), `${long}:[REDACTED]@`);
  assert.equal(maskCredentials(`x ${long}=${long}`).length, 2_000_003);
  const spaced = ` password=${" ".repeat(1_000_000)}`;
  assert.equal(maskCredentials(`${spaced}s3cr3t`), `${spaced}[REDACTED]`);
  assert.equal(maskCredentials("://:@".repeat(200_000)).length > 0, true);
});

const PIECES = [" ", "\t", "#", "?", "/", "@", ":", "&", "=", ";", "'", '"', "\\", "%", "{", "}"];
const PIECES_EXTRA = ["://", "password=", "?password=", "@db/", "'"];

/** A random password between two markers, so a partial leak shows a marker. */
const password = fc.array(
  fc.oneof(
    fc.constantFrom(...PIECES, ...PIECES_EXTRA),
    fc.string({ unit: "grapheme", maxLength: 3 }),
  ),
  { maxLength: 12 },
).map((parts) => `Q7${parts.join("")}Z9`);

const libpqQuote = (pw: string): string => `'${pw.replace(/[\\']/g, "\\$&")}'`;
const plainKeyword = (pw: string): boolean => !/[\s;'"{]/.test(pw);

/** Each form a password is written in, or `undefined` when the form cannot hold it. */
const FORMS: ((pw: string) => string | undefined)[] = [
  (pw) => `postgres://app:${pw}@db:5432/app`,
  (pw) => `  postgres://app:${pw}@db:5432/app?sslmode=require`,
  (pw) => `mysql://root:${pw}@localhost/db`,
  (pw) => `postgres://app@db/app?password=${encodeURIComponent(pw)}`,
  (pw) => `postgres://db/app?sslmode=require&password=${encodeURIComponent(pw)}&x=1`,
  (pw) => `host=db user=app password=${libpqQuote(pw)} dbname=app`,
  (pw) => `password=${libpqQuote(pw)}`,
  (pw) => plainKeyword(pw) ? `host=db user=app password=${pw} dbname=app` : undefined,
  (pw) => plainKeyword(pw) ? `Server=db;User Id=app;Password=${pw};` : undefined,
  (pw) => `Server=db;Pwd={${pw.replaceAll("}", "}}")}};`,
];

test("maskCredentials() never shows any part of a random password in any form", () => {
  fc.assert(
    fc.property(password, (pw) => {
      for (const form of FORMS) {
        const value = form(pw);
        if (value === undefined) continue;
        const masked = maskCredentials(value);
        assert.ok(!masked.includes("Q7"), `${JSON.stringify(value)} → ${JSON.stringify(masked)}`);
        assert.ok(!masked.includes("Z9"), `${JSON.stringify(value)} → ${JSON.stringify(masked)}`);
      }
    }),
    { numRuns: 2000 },
  );
});
