import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createLogger, type Logger, type LoggerOptions } from "./logger.ts";
import { runWithContext, withRequestId } from "./context.ts";

/** Reads `value[path[0]][path[1]]…`, or `undefined`. */
function at(value: unknown, ...path: (string | number)[]): unknown {
  for (const key of path) value = (value as Record<string | number, unknown> | undefined)?.[key];
  return value;
}

const T0 = Date.UTC(2026, 10, 22, 1, 2, 3, 456);

function capture(
  options: LoggerOptions = {},
): { raw: string[]; lines: () => Record<string, unknown>[]; logger: Logger } {
  const raw: string[] = [];
  const logger = createLogger({
    service: "user-svc",
    now: () => T0,
    destination: { write: (line) => raw.push(line) },
    ...options,
  });
  return { raw, lines: () => raw.map((line) => JSON.parse(line)), logger };
}

test("createLogger() writes one JSON object per line with keys in the documented order", () => {
  const { raw, logger } = capture({ fields: { region: "eu" } });
  runWithContext({ span_id: "s1", request_id: "r1", trace_id: "t1", tenant: "acme" }, () => {
    logger.child({ module: "orgs" }).info("org created", { org_id: 7 });
  });
  assert.equal(raw.length, 1);
  assert.ok(raw[0]!.endsWith("}\n"));
  assert.equal(raw[0]!.indexOf("\n"), raw[0]!.length - 1);
  const line = JSON.parse(raw[0]!);
  assert.deepEqual(Object.keys(line), [
    "timestamp",
    "level",
    "service_name",
    "message",
    "request_id",
    "trace_id",
    "span_id",
    "tenant",
    "region",
    "module",
    "org_id",
  ]);
  assert.equal(line.timestamp, "2026-11-22T01:02:03.456Z");
  assert.equal(line.level, "info");
  assert.equal(line.service_name, "user-svc");
});

test("createLogger() writes the timestamp in UTC RFC 3339 with milliseconds from the now option", () => {
  let time = Date.UTC(2026, 0, 1, 0, 0, 0, 7);
  const { lines, logger } = capture({ now: () => time });
  logger.info("a");
  time += 1001;
  logger.info("b");
  logger.info("c");
  assert.deepEqual(lines().map((l) => l.timestamp), [
    "2026-01-01T00:00:00.007Z",
    "2026-01-01T00:00:01.008Z",
    "2026-01-01T00:00:01.008Z",
  ]);
  const real = createLogger({
    service: "s",
    destination: { write: (l) => lines().push(JSON.parse(l)) },
  });
  assert.doesNotThrow(() => real.info("real clock"));
  const bad = capture({ now: () => Number.NaN });
  bad.logger.info("nan clock");
  assert.match(String(bad.lines()[0]?.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test("createLogger() filters by level and writes each level's name", () => {
  const { lines, logger } = capture({ level: "warn" });
  logger.debug("d");
  logger.info("i");
  logger.warn("w");
  logger.error("e");
  logger.fatal("f");
  assert.deepEqual(lines().map((l) => l.level), ["warn", "error", "fatal"]);
});

test("createLogger() takes the level from LOG_LEVEL in any case", () => {
  for (
    const [value, expected] of [["DEBUG", 5], ["Warn", 3], [" error ", 2], ["silent", 0]] as const
  ) {
    const { lines, logger } = capture({ env: { LOG_LEVEL: value } });
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    logger.fatal("f");
    assert.equal(lines().length, expected, value);
  }
  const explicit = capture({ level: "error", env: { LOG_LEVEL: "debug" } });
  explicit.logger.warn("w");
  assert.equal(explicit.lines().length, 0, "the option wins over the variable");
});

test("createLogger() warns once about an invalid LOG_LEVEL and uses info", () => {
  const { lines, logger } = capture({ env: { LOG_LEVEL: "verbose" } });
  logger.debug("hidden");
  logger.info("shown");
  const out = lines();
  assert.equal(out.length, 2);
  assert.equal(out[0]?.level, "warn");
  assert.match(String(out[0]?.message), /^Invalid LOG_LEVEL/);
  assert.equal(out[0]?.log_level, "verbose");
  assert.equal(logger.level, "info");
  assert.equal(out.filter((l) => l.level === "warn").length, 1);
});

test("createLogger() reads SERVICE_NAME and LOG_FORMAT, with defaults", () => {
  const named = capture({ service: undefined, env: { SERVICE_NAME: "from-env" } });
  named.logger.info("x");
  assert.equal(named.lines()[0]?.service_name, "from-env");
  const unnamed = capture({ service: undefined, env: {} });
  unnamed.logger.info("x");
  assert.equal(unnamed.lines()[0]?.service_name, "unknown_service");
  const pretty = capture({ env: { LOG_FORMAT: "PRETTY" } });
  pretty.logger.info("x");
  assert.match(pretty.raw[0]!, /^01:02:03\.456 INFO {2}user-svc: x\n$/);
});

test("createLogger() validates its options", () => {
  const write = (): void => {};
  assert.throws(() => createLogger(null as never), TypeError);
  assert.throws(() => createLogger({ service: "" }), TypeError);
  assert.throws(() => createLogger({ level: "loud" as never }), RangeError);
  assert.throws(() => createLogger({ fields: [] as never }), TypeError);
  assert.throws(() => createLogger({ destination: 5 as never }), TypeError);
  assert.throws(() => createLogger({ destination: {} as never }), TypeError);
  assert.throws(
    () => createLogger({ redact: "token" as never, destination: { write } }),
    TypeError,
  );
  assert.throws(() => createLogger({ format: "xml" as never, destination: { write } }), RangeError);
  assert.throws(() => createLogger({ now: 5 as never, destination: { write } }), /option now/);
  assert.throws(
    () => createLogger({ clock: () => 0, destination: { write } } as never),
    (error: Error) =>
      error instanceof TypeError && /option clock: .* called now/.test(error.message),
  );
  assert.throws(() => createLogger({ env: "x" as never, destination: { write } }), TypeError);
  const options = { service: "s", fields: { a: 1 }, destination: { write } };
  createLogger(options).child({ b: 2 });
  assert.deepEqual(options.fields, { a: 1 }, "the caller's object is not changed");
});

test("logger.level reads and sets the level at run time; children follow until they set their own", () => {
  const { lines, logger } = capture();
  const child = logger.child({ c: 1 });
  assert.equal(logger.level, "info");
  logger.level = "DEBUG" as never;
  assert.equal(child.level, "debug");
  child.debug("child debug");
  child.level = "error";
  assert.equal(logger.level, "debug");
  child.warn("dropped");
  logger.debug("root debug");
  logger.level = "silent";
  logger.fatal("dropped too");
  assert.equal(logger.level, "silent");
  assert.deepEqual(lines().map((l) => l.message), ["child debug", "root debug"]);
  assert.throws(() => {
    logger.level = "loud" as never;
  }, RangeError);
});

test("logger.isLevelEnabled() answers for every level", () => {
  const { logger } = capture({ level: "warn" });
  assert.equal(logger.isLevelEnabled("debug"), false);
  assert.equal(logger.isLevelEnabled("info"), false);
  assert.equal(logger.isLevelEnabled("warn"), true);
  assert.equal(logger.isLevelEnabled("FATAL" as never), true);
  assert.equal(logger.isLevelEnabled("silent"), false);
  assert.equal(logger.isLevelEnabled("nope" as never), false);
});

test("logger.child() binds fields once, merging with the parent's; call fields override", () => {
  const { raw, lines, logger } = capture({ fields: { a: 1, b: 1 } });
  const child = logger.child({ b: 2, c: 2, skip: undefined }).child({ c: 3 });
  child.info("m", { a: 9, d: 4 });
  assert.deepEqual(lines()[0], {
    timestamp: "2026-11-22T01:02:03.456Z",
    level: "info",
    service_name: "user-svc",
    message: "m",
    a: 9,
    b: 2,
    c: 3,
    d: 4,
  });
  assert.equal(raw[0]!.match(/"a":/g)?.length, 1, "no duplicate keys");
  assert.throws(() => logger.child("x" as never), TypeError);
  assert.throws(() => logger.child(new Error("x") as never), TypeError);
});

test("createLogger() renames custom fields that collide with line keys to fields.<key>", () => {
  const { raw, lines, logger } = capture({ fields: { level: "bound" } });
  logger.child({ message: "bound message" }).warn("real", {
    timestamp: "fake",
    service_name: "other",
  });
  const line = lines()[0]!;
  assert.equal(line.level, "warn");
  assert.equal(line.message, "real");
  assert.equal(line.timestamp, "2026-11-22T01:02:03.456Z");
  assert.equal(line.service_name, "user-svc");
  assert.equal(line["fields.level"], "bound");
  assert.equal(line["fields.message"], "bound message");
  assert.equal(line["fields.timestamp"], "fake");
  assert.equal(line["fields.service_name"], "other");
  assert.equal(raw[0]!.match(/"level":/g)?.length, 1);
});

test("createLogger() keeps the context's request_id: an equal field is dropped, a different one renamed", () => {
  const { raw, lines, logger } = capture();
  withRequestId("r-1", () => {
    logger.error("Request failed", { request_id: "r-1", status: 500 });
    logger.info("other", { request_id: "r-2" });
    logger.child({ trace_id: "bound" }).info("bound");
  });
  logger.info("no context", { request_id: "r-3" });
  const out = lines();
  assert.equal(out[0]?.request_id, "r-1");
  assert.ok(!("fields.request_id" in out[0]!));
  assert.equal(raw[0]!.match(/request_id/g)?.length, 1);
  assert.equal(out[1]?.request_id, "r-1");
  assert.equal(out[1]?.["fields.request_id"], "r-2");
  assert.equal(out[2]?.trace_id, "bound", "no context trace id: the bound one is a plain field");
  assert.equal(out[3]?.request_id, "r-3", "outside a context the field is written as is");
});

test("createLogger() lets bound and call fields override context fields other than the ids", () => {
  const { raw, lines, logger } = capture();
  runWithContext({ request_id: "r", user: "ctx", message: "ctx message" }, () => {
    logger.child({ user: "bound" }).info("m");
    logger.info("n", { user: "call" });
  });
  const out = lines();
  assert.equal(out[0]?.user, "bound");
  assert.equal(out[1]?.user, "call");
  assert.equal(out[1]?.["fields.message"], "ctx message");
  assert.equal(raw[0]!.match(/"user":/g)?.length, 1);
});

test("logger.error() writes the error and its whole cause chain under err", () => {
  const { lines, logger } = capture();
  const root = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
  const middle = new TypeError("Cannot query", { cause: root });
  const top = new Error("Cannot load user", { cause: middle });
  logger.error("load failed", top, { user_id: 1 });
  logger.fatal("fatal", new AggregateError([new Error("a"), "b"], "many"));
  const [first, second] = lines();
  const err = first?.err as Record<string, Record<string, Record<string, unknown>>>;
  assert.equal(err.type, "Error");
  assert.equal(err.message, "Cannot load user");
  assert.match(String(err.stack), /Cannot load user/);
  assert.equal(err.cause?.type, "TypeError");
  assert.equal(err.cause?.cause?.code, "ECONNREFUSED");
  assert.equal(first?.user_id, 1);
  const agg = second?.err as { errors: { message: string }[] };
  assert.deepEqual(agg.errors.map((e) => e.message), ["a", "b"]);
});

test("logger.error() is safe against cyclic causes and accepts any thrown value", () => {
  const { lines, logger } = capture();
  const a = new Error("a");
  const b = new Error("b", { cause: a });
  (a as { cause?: unknown }).cause = b;
  logger.error("cycle", a);
  logger.error("string thrown", "just text", {});
  logger.error("fields only", { status: 503 });
  logger.error("nothing");
  logger.fatal("error and err field", new Error("x"), { err: "field" });
  logger.info("error as fields", new Error("as fields") as never);
  logger.error(new Error("as message") as never);
  const out = lines();
  assert.equal((out[0]?.err as { cause: { cause: string } }).cause.cause, "[Circular]");
  assert.deepEqual(out[1]?.err, { type: "string", message: "just text" });
  assert.equal(out[2]?.status, 503);
  assert.equal(out[2]?.err, undefined);
  assert.equal(out[3]?.err, undefined);
  assert.equal((out[4]?.err as { message: string }).message, "x");
  assert.equal(out[4]?.["fields.err"], "field");
  assert.equal((out[5]?.err as { message: string }).message, "as fields");
  assert.equal(out[6]?.message, "as message");
  assert.equal((out[6]?.err as { message: string }).message, "as message");
});

test("createLogger() serialises errors nested in fields", () => {
  const { lines, logger } = capture();
  logger.warn("retry", { attempts: [new RangeError("first")], last: { err: new Error("second") } });
  const line = lines()[0] as { attempts: { type: string }[]; last: { err: { message: string } } };
  assert.equal(line.attempts[0]?.type, "RangeError");
  assert.equal(line.last.err.message, "second");
});

test("createLogger() redacts default and extra keys at any depth, in any case", () => {
  const { raw, lines, logger } = capture({ redact: ["Card_Number"] });
  logger.info("m", {
    Authorization: "Bearer abc",
    headers: { cookie: "sid=1", "Set-Cookie": ["a=1"], "x-ok": "yes" },
    user: { name: "ann", password: "hunter2", nested: [{ API_KEY: "k", card_number: "4111" }] },
    map: new Map([["token", "t"], ["ok", "v"]]),
  });
  logger.child({ secret: { deep: 1 } }).info("bound");
  runWithContext({ access_token: "ctx-token" }, () => logger.info("ctx"));
  const [line, bound, ctx] = lines() as unknown[];
  assert.equal(at(line, "Authorization"), "[REDACTED]");
  assert.equal(at(line, "headers", "cookie"), "[REDACTED]");
  assert.equal(at(line, "headers", "Set-Cookie"), "[REDACTED]");
  assert.equal(at(line, "headers", "x-ok"), "yes");
  assert.equal(at(line, "user", "name"), "ann");
  assert.equal(at(line, "user", "password"), "[REDACTED]");
  assert.deepEqual(at(line, "user", "nested"), [{
    API_KEY: "[REDACTED]",
    card_number: "[REDACTED]",
  }]);
  assert.deepEqual(at(line, "map"), { token: "[REDACTED]", ok: "v" });
  assert.equal(at(bound, "secret"), "[REDACTED]");
  assert.equal(at(ctx, "access_token"), "[REDACTED]");
  for (const secret of ["abc", "sid=1", "hunter2", "4111", "ctx-token"]) {
    assert.ok(!raw.join("").includes(secret), secret);
  }
});

test("createLogger() redacts keys by normalised name: camelCase, dashes and secret-word suffixes", () => {
  const { raw, lines, logger } = capture({ redact: ["card_number"] });
  const secrets = {
    accessToken: "s-1",
    clientSecret: "s-2",
    privateKey: "s-3",
    "x-api-key": "s-4",
    "api-key": "s-5",
    db_password: "s-6",
    dbPassword: "s-7",
    "X-Refresh-Token": "s-8",
    primaryCardNumber: "s-9",
    nested: { smtpPassword: "s-10", list: [{ AccessToken: "s-11" }] },
  };
  logger.info("m", secrets);
  logger.child({ githubToken: "s-12" }).info("bound");
  runWithContext({ sessionSecret: "s-13" }, () => logger.info("ctx"));
  const [line, bound, ctx] = lines() as unknown[];
  for (const key of Object.keys(secrets).filter((k) => k !== "nested")) {
    assert.equal(at(line, key), "[REDACTED]", key);
  }
  assert.equal(at(line, "nested", "smtpPassword"), "[REDACTED]");
  assert.deepEqual(at(line, "nested", "list"), [{ AccessToken: "[REDACTED]" }]);
  assert.equal(at(bound, "githubToken"), "[REDACTED]");
  assert.equal(at(ctx, "sessionSecret"), "[REDACTED]");
  for (let i = 1; i <= 13; i++) assert.ok(!raw.join("").includes(`"s-${i}"`), `s-${i}`);
  logger.info("not secrets", { tokens_used: 10, keyboard: "qwerty", monkey: 1, name: "ann" });
  assert.deepEqual(lines()[3], {
    ...lines()[3],
    tokens_used: 10,
    keyboard: "qwerty",
    monkey: 1,
    name: "ann",
  });
  assert.throws(() => createLogger({ redact: ["-"], destination: { write: () => {} } }), TypeError);
});

test("createLogger() masks the password of URL strings and URL objects, keeping the rest", () => {
  const { raw, lines, logger } = capture();
  logger.info("connecting to postgres://app:pa55word@db.internal:5432/main?sslmode=require", {
    dsn: "postgres://app:pa55word@db.internal:5432/main",
    url: new URL("https://svc:t0ps3cret@api.example.com/v1?x=1"),
    text: "retry nats://u:p%40ss@nats:4222 then redis://:r3dis@cache:6379/0",
    user_only: "https://user@example.com/a@b",
    broker: "amqp://u:p@ss@mq/vhost",
  });
  const line = lines()[0]!;
  assert.equal(
    line.message,
    "connecting to postgres://app:[REDACTED]@db.internal:5432/main?sslmode=require",
  );
  assert.equal(line.dsn, "postgres://app:[REDACTED]@db.internal:5432/main");
  assert.equal(line.url, "https://svc:[REDACTED]@api.example.com/v1?x=1");
  assert.equal(
    line.text,
    "retry nats://u:[REDACTED]@nats:4222 then redis://:[REDACTED]@cache:6379/0",
  );
  assert.equal(line.user_only, "https://user@example.com/a@b");
  assert.equal(line.broker, "amqp://u:[REDACTED]@mq/vhost");
  for (const secret of ["pa55word", "t0ps3cret", "p%40ss", "r3dis", "p@ss"]) {
    assert.ok(!raw[0]!.includes(secret), secret);
  }
});

test("createLogger() masks URL passwords holding / ? # or a space, and secret query parameters", () => {
  const { raw, lines, logger } = capture({ redact: ["otp"] });
  logger.info("cannot reach postgres://app:p w1@db/main", {
    slash: "postgres://app:ab/c2@db/main",
    question: "postgres://app:ab?c3@db/main",
    hash: "postgres://app:ab#c4@db/main",
    query: "https://api.example.com/v1?password=s5&page=2;token=s6&X-Amz-Signature=s7",
    bracket: "https://h/x?password[0]=s8&otp=s9#token=frag",
    dsn_query: "postgres://db/main?sslmode=require&password=s10",
    object: new URL("https://h/cb?jwt=s11&state=ok"),
    port: "http://localhost:3000/users/@me",
    port_query_email: "https://h:8443/invite?email=a@b.example",
    ipv6: "http://[::1]:8080/x@y",
  });
  const line = lines()[0]!;
  assert.equal(line.message, "cannot reach postgres://app:[REDACTED]@db/main");
  assert.equal(line.slash, "postgres://app:[REDACTED]@db/main");
  assert.equal(line.question, "postgres://app:[REDACTED]@db/main");
  assert.equal(line.hash, "postgres://app:[REDACTED]@db/main");
  assert.equal(
    line.query,
    "https://api.example.com/v1?password=[REDACTED]&page=2;token=[REDACTED]&X-Amz-Signature=[REDACTED]",
  );
  assert.equal(line.bracket, "https://h/x?password[0]=[REDACTED]&otp=[REDACTED]#token=frag");
  assert.equal(line.dsn_query, "postgres://db/main?sslmode=require&password=[REDACTED]");
  assert.equal(line.object, "https://h/cb?jwt=[REDACTED]&state=ok");
  assert.equal(line.port, "http://localhost:3000/users/@me", "a port is not a password");
  assert.equal(line.port_query_email, "https://h:8443/invite?email=a@b.example");
  assert.equal(line.ipv6, "http://[::1]:8080/x@y");
  for (
    const secret of [
      "p w1",
      "ab/c2",
      "ab?c3",
      "ab#c4",
      ...Array.from({ length: 8 }, (_, i) => `s${i + 5}`),
    ]
  ) {
    assert.ok(!raw[0]!.includes(secret), secret);
  }
});

test("createLogger() masks URLs in long strings in linear time", () => {
  const { raw, logger } = capture();
  const hostile = [
    "x://u:p/".repeat(100_000),
    "a://u:x ".repeat(100_000),
    "a://h?" + "a".repeat(800_000),
  ];
  const started = performance.now();
  for (const text of hostile) logger.info("m", { text });
  assert.equal(raw.length, 3);
  // Linear work takes milliseconds; a quadratic rescan of these 800 000-character strings takes
  // hours. The bound is far from both, so a loaded machine cannot fail a correct masker.
  assert.ok(performance.now() - started < 60_000, "no quadratic rescans");
});

test("createLogger() redacts AWS-style credentials: secretAccessKey, secretKey", () => {
  const { raw, lines, logger } = capture();
  logger.info("credentials", {
    aws: { accessKeyId: "AKIA1", secretAccessKey: "s1", sessionToken: "s2" },
    AWS_SECRET_ACCESS_KEY: "s3",
    stripe: { secretKey: "s4" },
  });
  const line = lines()[0]!;
  assert.deepEqual(line.aws, {
    accessKeyId: "AKIA1",
    secretAccessKey: "[REDACTED]",
    sessionToken: "[REDACTED]",
  });
  assert.equal(line.AWS_SECRET_ACCESS_KEY, "[REDACTED]");
  assert.deepEqual(line.stripe, { secretKey: "[REDACTED]" });
  for (const secret of ["s1", "s2", "s3", "s4"]) {
    assert.ok(!raw[0]!.includes(`"${secret}"`), secret);
  }
});

test("createLogger() keeps booleans and null under secret keys: they carry no secret", () => {
  const { lines, logger } = capture();
  // The shape of @plinth/config's explain() output.
  logger.info("config", {
    explain: { key: "JWT_SECRET", source: "env", secret: true, value: "[REDACTED]" },
    password: null,
    has_token: false,
    token: 0,
    api_key: undefined,
  });
  const line = lines()[0]!;
  assert.deepEqual(line.explain, {
    key: "JWT_SECRET",
    source: "env",
    secret: true,
    value: "[REDACTED]",
  });
  assert.equal(line.password, null);
  assert.equal(line.has_token, false);
  assert.equal(line.token, "[REDACTED]", "a number can be a PIN: still redacted");
  assert.ok(!("api_key" in line));
  logger.child({ secret: true }).info("bound", { nested: new Map([["token", null]]) });
  assert.equal(lines()[1]?.secret, true);
  assert.deepEqual(lines()[1]?.nested, { token: null });
});

test("logger methods accept pino's argument order: fields or an error first, then the message", () => {
  const { lines, logger } = capture({ level: "debug" });
  const call = logger as unknown as Record<string, (...args: unknown[]) => void>;
  call["info"]!({ user_id: 1 }, "user loaded");
  call["debug"]!({ cache: "miss" }, "lookup");
  call["warn"]!({ retry: 2 });
  call["error"]!(new Error("db down"), "query failed");
  call["fatal"]!({ err: new Error("gone"), shard: 3 }, "shutting down");
  call["error"]!(new Error("alone"));
  logger.info({ org_id: 7 }, "typed too");
  const out = lines();
  assert.deepEqual([out[0]?.message, out[0]?.user_id], ["user loaded", 1]);
  assert.deepEqual([out[1]?.level, out[1]?.message, out[1]?.cache], ["debug", "lookup", "miss"]);
  assert.deepEqual([out[2]?.message, out[2]?.retry], ["", 2]);
  assert.equal(out[3]?.message, "query failed");
  assert.equal((out[3]?.err as { message: string }).message, "db down");
  assert.equal(out[4]?.message, "shutting down");
  assert.equal((out[4]?.err as { message: string }).message, "gone");
  assert.equal(out[4]?.shard, 3);
  assert.deepEqual([out[5]?.message, (out[5]?.err as { message: string }).message], [
    "alone",
    "alone",
  ]);
  assert.equal(out[6]?.org_id, 7);
  assert.ok(!JSON.stringify(out).includes("[object Object]"));
});

test("createLogger() serialises BigInt, Date, Map, Set, typed arrays and other values", () => {
  const { lines, logger } = capture();
  const sym = Symbol("s");
  logger.info("values", {
    big: 12345678901234567890n,
    date: new Date(T0),
    bad_date: new Date(Number.NaN),
    map: new Map<unknown, unknown>([[1, "one"], [{ k: 1 }, 2]]),
    set: new Set([1, "a"]),
    bytes: new Uint8Array([1, 2, 3]),
    bigs: new BigInt64Array([1n]),
    view: new DataView(new ArrayBuffer(4)),
    buffer: new ArrayBuffer(8),
    regexp: /a+b/g,
    nan: Number.NaN,
    inf: -Infinity,
    nil: null,
    undef: undefined,
    fn: () => 1,
    sym,
    arr: [undefined, () => 1, 1],
    url: new URL("https://example.com/a"),
    empty: {},
  });
  const line = lines()[0]!;
  assert.equal(line.big, "12345678901234567890");
  assert.equal(line.date, "2026-11-22T01:02:03.456Z");
  assert.equal(line.bad_date, "Invalid Date");
  assert.deepEqual(line.map, { "1": "one", "[object Object]": 2 });
  assert.deepEqual(line.set, [1, "a"]);
  assert.deepEqual(line.bytes, [1, 2, 3]);
  assert.deepEqual(line.bigs, ["1"]);
  assert.equal(line.view, "[DataView(4)]");
  assert.equal(line.buffer, "[ArrayBuffer(8)]");
  assert.equal(line.regexp, "/a+b/g");
  assert.equal(line.nan, "NaN");
  assert.equal(line.inf, "-Infinity");
  assert.equal(line.nil, null);
  assert.ok(!("undef" in line) && !("fn" in line));
  assert.equal(line.sym, "Symbol(s)");
  assert.deepEqual(line.arr, [null, null, 1]);
  assert.equal(line.url, "https://example.com/a");
  assert.deepEqual(line.empty, {});
});

test("createLogger() cuts deep nesting and long collections", () => {
  const { lines, logger } = capture();
  let deep: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < 20; i++) deep = { deep };
  logger.info("m", {
    deep,
    many: Array.from({ length: 1005 }, (_, i) => i),
    big: new Map(Array.from({ length: 1002 }, (_, i) => [`k${i}`, i])),
  });
  const line = lines()[0] as { deep: unknown; many: unknown[]; big: Record<string, unknown> };
  assert.match(JSON.stringify(line.deep), /"\[Truncated\]"/);
  assert.equal(line.many.length, 1001);
  assert.equal(line.many[1000], "[5 more]");
  assert.equal(line.big["[more]"], 2);
});

test("createLogger() never throws: circular values, throwing getters, hostile and revoked proxies, throwing writers", () => {
  const { lines, logger } = capture();
  const circular: Record<string, unknown> = { name: "c" };
  circular.self = circular;
  circular.list = [circular];
  const getter = Object.defineProperty({ ok: 1 }, "bad", {
    enumerable: true,
    get() {
      throw new Error("getter");
    },
  });
  const proxy = new Proxy({}, {
    ownKeys() {
      throw new Error("trap");
    },
  });
  const toJSON = {
    toJSON: () => {
      throw new Error("toJSON");
    },
  };
  const shared = { v: 1 };
  logger.info("hostile", { circular, getter, proxy, toJSON, twice: [shared, shared] });
  logger.info("hostile fields", getter);
  logger.info("proxy fields", proxy as never);
  logger.info("not an object", "text" as never);
  logger.info(42 as never);
  logger.info(Object.assign(() => {}, {
    toString: () => {
      throw new Error("no");
    },
  }) as never);
  const revoked = Proxy.revocable({ password: "hunter2" }, {});
  revoked.revoke();
  logger.info("revoked fields", revoked.proxy);
  logger.error("revoked fields", new Error("e"), revoked.proxy);
  logger.child({ bound: 1 }).warn(revoked.proxy as never, "revoked first");
  logger.info(revoked.proxy as never);
  const out = lines();
  assert.equal(out.length, 10);
  const first = out[0] as unknown;
  assert.equal(at(first, "circular", "self"), "[Circular]");
  assert.deepEqual(at(first, "circular", "list"), ["[Circular]"]);
  assert.deepEqual(at(first, "getter"), { ok: 1, bad: "[Unreadable]" });
  assert.equal(at(first, "proxy"), "[Unserializable]");
  assert.equal(at(first, "toJSON"), "[Unserializable]");
  assert.deepEqual(at(first, "twice"), [{ v: 1 }, { v: 1 }], "repeated, not circular");
  assert.deepEqual([out[1]?.ok, out[1]?.bad], [1, "[Unreadable]"]);
  assert.equal(out[2]?.message, "proxy fields");
  assert.equal(out[3]?.fields, "text");
  assert.equal(out[4]?.message, "42");
  assert.equal(out[5]?.message, "[Unprintable]");
  assert.equal(out[2]?.fields, "[Unserializable]", "fields whose keys trap are marked");
  assert.deepEqual([out[6]?.message, out[6]?.fields], ["revoked fields", "[Unserializable]"]);
  assert.equal((out[7]?.err as { message: string }).message, "e");
  assert.equal(out[7]?.fields, "[Unserializable]");
  assert.equal(out[8]?.bound, 1);
  assert.deepEqual(
    [out[8]?.message, out[8]?.fields],
    ["revoked first", "[Unserializable]"],
    "pino's order keeps the message when the fields cannot be read",
  );
  assert.deepEqual([out[9]?.message, out[9]?.fields], ["", "[Unserializable]"]);
  const throwing = createLogger({
    service: "s",
    destination: {
      write: () => {
        throw new Error("disk full");
      },
    },
  });
  assert.doesNotThrow(() => throwing.info("lost"));
});

test("createLogger() escapes quotes, control characters and lone surrogates", () => {
  const { raw, lines, logger } = capture();
  const nasty = 'say "hi"\\ \n\t\u0000\u001f \ud800 x \udfff 😀 é';
  logger.info(nasty, { [nasty]: nasty, long: nasty.repeat(10) });
  assert.ok(!raw[0]!.slice(0, -1).includes("\n"));
  const line = lines()[0]!;
  assert.equal(line.message, nasty);
  assert.equal(line[nasty], nasty);
  assert.equal(line.long, nasty.repeat(10));
  assert.ok(raw[0]!.includes("\\ud800"));
});

// A generous timeout: Bun's default of 5 s is too tight for 300 runs on a loaded machine.
test(
  "createLogger() round-trips any JSON value and any string (property)",
  { timeout: 120_000 },
  () => {
    const { lines, logger, raw } = capture();
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.jsonValue(), (message, value) => {
        raw.length = 0;
        logger.info(message, { value });
        const line = lines()[0]!;
        assert.equal(line.message, message);
        assert.deepEqual(line.value, JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  },
);

test("createLogger() writes one parseable line for arbitrary values (property)", () => {
  const { lines, logger, raw } = capture();
  fc.assert(
    fc.property(
      fc.anything({
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withTypedArray: true,
        withSparseArray: true,
        withNullPrototype: true,
      }),
      (value) => {
        raw.length = 0;
        logger.info("m", { value });
        assert.equal(raw.length, 1);
        assert.equal(raw[0]!.indexOf("\n"), raw[0]!.length - 1);
        assert.equal(lines()[0]?.message, "m");
      },
    ),
    { numRuns: 300 },
  );
});

test("logger.fatal() flushes the destination and does not exit", async () => {
  let flushed = 0;
  const raw: string[] = [];
  const logger = createLogger({
    service: "s",
    destination: { write: (l) => raw.push(l), flush: () => flushed++ },
  });
  logger.fatal("going down", new Error("x"));
  assert.equal(flushed, 1);
  await logger.flush();
  assert.equal(flushed, 2);
  const rejecting = createLogger({
    service: "s",
    destination: { write: () => {}, flush: () => Promise.reject(new Error("nope")) },
  });
  assert.doesNotThrow(() => rejecting.fatal("x"));
  await assert.rejects(rejecting.flush(), /nope/);
  const throwing = createLogger({
    service: "s",
    destination: {
      write: () => {},
      flush: () => {
        throw new Error("sync");
      },
    },
  });
  assert.doesNotThrow(() => throwing.fatal("x"));
  const plain = createLogger({ service: "s", destination: { write: () => {} } });
  await plain.flush();
});

test("createLogger() pretty format prints readable lines with error stacks", () => {
  const { raw, logger } = capture({ format: "pretty", level: "debug" });
  logger.child({ module: "orgs" }).error("failed", new Error("top", { cause: "root" }), {
    id: "a b",
  });
  logger.debug("dbg", { n: 1, ok: "yes" });
  const [first, second] = raw;
  assert.match(
    first!,
    /^01:02:03\.456 ERROR user-svc: failed module=orgs err=\{"type":"Error","message":"top"\} id="a b"\n {4}Error: top/,
  );
  assert.match(first!, /\n {4}caused by: string: root\n$/);
  assert.equal(second, "01:02:03.456 DEBUG user-svc: dbg n=1 ok=yes\n");
});

test("createLogger() pretty format escapes newlines, ANSI sequences and other controls (log injection)", () => {
  const { raw, logger } = capture({ format: "pretty" });
  const forged = "ok\n01:02:03.456 INFO  user-svc: admin logged in";
  const ansi = "\x1b[2J\x1b[31mred\x1b[0m";
  logger.info(forged, {
    [`k\ney`]: "v",
    ansi,
    bidi: "abc\u202edcba",
    sep: "a\u2028b",
    c1: "a\u009bb",
    del: "a\x7fb",
  });
  logger.error("failed", new Error(`boom\r\n${ansi}`));
  const [line, error] = raw;
  assert.equal(line!.indexOf("\n"), line!.length - 1, "one line");
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202e]/.test(line!), JSON.stringify(line));
  assert.match(line!, /^01:02:03\.456 INFO {2}user-svc: ok\\u000a01:02:03\.456 INFO/);
  assert.ok(line!.includes("k\\u000aey="), "keys are escaped too");
  assert.ok(line!.includes("\\u001b[31mred"), "ANSI escapes are shown, not obeyed");
  assert.ok(line!.includes("\\u202e"));
  // The error's stack spans lines on purpose; the message inside it cannot add a line or colour.
  // deno-lint-ignore no-control-regex
  assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(error!), JSON.stringify(error));
  assert.match(error!, /\n {4}Error: boom\\u000d\\u000a\\u001b\[2J/);
  for (const stackLine of error!.split("\n").slice(1, -1)) assert.match(stackLine, /^ {4}/);
});

test("createLogger() writes a file given as destination path", async () => {
  const { mkdtempSync, readFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const path = join(mkdtempSync(join(tmpdir(), "plinth-log-")), "app.log");
  const logger = createLogger({ service: "s", destination: path });
  logger.info("one");
  await logger.flush();
  assert.equal(JSON.parse(readFileSync(path, "utf8")).message, "one");
});
