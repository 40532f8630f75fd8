import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import postgres from "postgres";
import { connectDatabase } from "./connect_database.ts";
import { captureLogger, databaseUrl } from "@plinth/testing";
import { needPostgres } from "@plinth/testing/postgres";

const quiet = captureLogger;

test("connectDatabase() passes transform (postgres.camel) through to the driver", async (t) => {
  if (!(await needPostgres(t))) return;
  await using db = await connectDatabase(databaseUrl, {
    max: 1,
    transform: postgres.camel,
    logger: quiet(),
  });
  const [row] = await db.sql`select 1 as first_name`;
  assert.deepEqual(row, { firstName: 1 });
  const [written] = await db.sql`select ${db.sql({ lastName: "x" })}`;
  assert.deepEqual(written, { lastName: "x" });
});

test("connectDatabase() passes custom types and their sql.types helpers through", async (t) => {
  if (!(await needPostgres(t))) return;
  await using db = await connectDatabase(databaseUrl, {
    max: 1,
    types: {
      point: {
        to: 600,
        from: [600],
        serialize: ([x, y]: [number, number]) => `(${x},${y})`,
        parse: (text: string) => text.slice(1, -1).split(",").map(Number),
      },
      bigint: postgres.BigInt,
    },
    logger: quiet(),
  });
  const types = db.sql.types as unknown as Record<string, (value: unknown) => unknown>;
  assert.equal(typeof types.point, "function");
  const [row] = await db.sql`select ${types.point?.([
    3,
    4,
  ]) as never}::point as p, 9007199254740993::int8 as big`;
  assert.deepEqual(row?.p, [3, 4]);
  assert.equal(row?.big, 9007199254740993n);
});

test("connectDatabase() passes prepare: false through (no named prepared statements, for PgBouncer)", async (t) => {
  if (!(await needPostgres(t))) return;
  const count = async (prepare: boolean | undefined): Promise<number> => {
    await using db = await connectDatabase(databaseUrl, {
      max: 1,
      logger: quiet(),
      ...(prepare === undefined ? {} : { prepare }),
    });
    await db.sql`select ${1}::int as n`;
    const [row] = await db.sql`select count(*)::int as n from pg_prepared_statements`;
    return row?.n as number;
  };
  assert.ok((await count(undefined)) >= 1, "prepared by default");
  assert.equal(await count(false), 0);
});

test("connectDatabase() passes debug, onnotice, onparameter, onclose and connection through", async (t) => {
  if (!(await needPostgres(t))) return;
  const debugged: string[] = [];
  const notices: string[] = [];
  const parameters = new Map<string, unknown>();
  const closed: number[] = [];
  const logger = quiet();
  const db = await connectDatabase(databaseUrl, {
    max: 1,
    debug: (_connection, query) => void debugged.push(query),
    onnotice: (notice) => void notices.push(String(notice.message)),
    onparameter: (key, value) => void parameters.set(key, value),
    onclose: (id) => void closed.push(id),
    connection: { search_path: "pg_catalog", application_name: "from_connection" },
    logger,
  });
  try {
    const [row] = await db.sql`select current_setting('search_path') as path,
      current_setting('application_name') as app`;
    assert.deepEqual(row, { path: "pg_catalog", app: "from_connection" });
    assert.ok(debugged.some((q) => q.includes("current_setting('search_path')")));
    await db.sql`do $$ begin raise notice 'hello notice'; end $$`;
    assert.deepEqual(notices, ["hello notice"]);
    assert.ok(
      !logger.lines.some((l) => l.message === "PostgreSQL notice"),
      "onnotice replaces the logger",
    );
    assert.equal(typeof parameters.get("server_version"), "string");
  } finally {
    await db.close();
  }
  assert.ok(closed.length >= 1, "onclose saw the connection close");
});

test("connectDatabase() lets applicationName win over connection.application_name", async (t) => {
  if (!(await needPostgres(t))) return;
  await using db = await connectDatabase(databaseUrl, {
    max: 1,
    applicationName: "explicit",
    connection: { application_name: "from_connection" },
    logger: quiet(),
  });
  const [row] = await db.sql`select current_setting('application_name') as app`;
  assert.equal(row?.app, "explicit");
});

test("connectDatabase() passes a socket factory and a password function through", async (t) => {
  if (!(await needPostgres(t))) return;
  const url = new URL(databaseUrl);
  let sockets = 0;
  let asked = 0;
  const db = await connectDatabase({
    url: databaseUrl,
    max: 2,
    password: () => {
      asked++;
      return Promise.resolve("unused-with-trust-auth");
    },
    socket: () => {
      sockets++;
      const socket = connect({ host: url.hostname, port: Number(url.port || 5432) });
      return new Promise((resolve, reject) => {
        socket.once("connect", () => resolve(socket));
        socket.once("error", reject);
      });
    },
    logger: quiet(),
  });
  try {
    const rows = await Promise.all([1, 2, 3].map((n) => db.sql`select ${n}::int as n`));
    assert.deepEqual(rows.map((r) => r[0]?.n), [1, 2, 3]);
    assert.ok(sockets >= 2, "the pool's connections came from the factory");
    assert.equal(db.stats().open, 2);
    // The server trusts the test user, so it never asks; the driver holds the function.
    assert.equal(typeof (db.sql.options as unknown as { pass: unknown }).pass, "function");
    assert.equal(asked, 0);
  } finally {
    await db.close();
  }
});

test("connectDatabase() passes a TLS options object as ssl (the plain test server refuses it)", async () => {
  await assert.rejects(
    connectDatabase(databaseUrl, {
      ssl: { rejectUnauthorized: false },
      retry: { retries: 0 },
      connectTimeout: 1_000,
      logger: quiet(),
    }),
    { code: "connect_failed" },
  );
});

test("connectDatabase() refuses the driver's names for what plinth owns, naming plinth's option", async () => {
  const cases: [string, unknown, RegExp][] = [
    [
      "idle_timeout",
      1,
      /option "idle_timeout" is set by plinth; use "idleTimeout" \(milliseconds\)/,
    ],
    ["connect_timeout", 1, /use "connectTimeout"/],
    ["max_lifetime", 1, /use "maxLifetime"/],
    ["backoff", () => 1, /use "retry"/],
    ["pass", "x", /use "password"/],
    ["username", "x", /use "user"/],
    ["db", "x", /use "database"/],
    ["hostname", "x", /use "host"/],
    ["path", "/tmp/.s.PGSQL.5432", /use "host"/],
    ["no_prepare", true, /use "prepare: false"/],
    ["onnotice", "yes", /option "onnotice" must be a function/],
    ["socket", 1, /option "socket" must be a function/],
    ["transform", "camel", /option "transform" must be an object/],
  ];
  for (const [name, value, message] of cases) {
    await assert.rejects(
      connectDatabase(databaseUrl, { [name]: value, logger: quiet() } as never),
      (error: unknown) => error instanceof TypeError && message.test(error.message),
      name,
    );
  }
});
