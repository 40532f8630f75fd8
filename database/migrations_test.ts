import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectDatabase } from "./connect_database.ts";
import type { Database } from "./database.ts";
import type { DatabaseError } from "./database_error.ts";
import { migrationStatus, runMigrations } from "./migrations.ts";
import { captureLogger, childCommand, databaseUrl, uniqueName } from "@plinth/testing";
import { needPostgres } from "@plinth/testing/postgres";

function migrationDir(
  files: Record<string, string>,
): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), "plinth-migrations-"));
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), content);
  }
  return {
    dir,
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function withDb(
  fn: (db: Database, schema: string) => Promise<void>,
): Promise<void> {
  const db = await connectDatabase(databaseUrl, {
    max: 2,
    prewarm: false,
    logger: captureLogger(),
  });
  const schema = uniqueName("mig");
  try {
    await fn(db, schema);
  } finally {
    await db.sql.unsafe(`drop schema if exists ${schema} cascade`);
    await db.close();
  }
}

test("runMigrations() applies files in order, each with its history row, once", async (t) => {
  if (!(await needPostgres(t))) return;
  await withDb(async (db, schema) => {
    using m = migrationDir({
      "0001_schema.sql": `create schema ${schema};`,
      "0002_users.sql": `create table ${schema}.users (id int primary key, email text);
        insert into ${schema}.users values (1, 'a');`,
      "0010_index.sql":
        `-- plinth:no-transaction\ncreate index concurrently users_email on ${schema}.users (email);`,
      "README.md": "not a migration",
    });
    const table = `${schema}.history`;
    const logger = captureLogger();
    const result = await runMigrations(db, {
      dir: m.dir,
      table: `${schema}_h`,
      logger,
    });
    assert.deepEqual(result.applied.map((r) => [r.version, r.name]), [
      [1, "schema"],
      [2, "users"],
      [10, "index"],
    ]);
    assert.equal(result.current, 10);
    assert.equal(
      logger.lines.filter((l) => l.message === "Applied migration").length,
      3,
    );
    const rows = await db.sql.unsafe(
      `select * from "${schema}_h" order by version`,
    );
    assert.deepEqual(rows.map((r) => r.name), ["schema", "users", "index"]);
    assert.match(String(rows[0]?.checksum), /^[0-9a-f]{64}$/);
    assert.ok(rows[0]?.applied_at instanceof Date);
    assert.equal(typeof rows[0]?.duration_ms, "number");
    const [index] = await db
      .sql`select indexname from pg_indexes where schemaname = ${schema}
      and indexname = 'users_email'`;
    assert.equal(index?.indexname, "users_email");
    const again = await runMigrations(db, { dir: m.dir, table: `${schema}_h` });
    assert.deepEqual(again, { applied: [], current: 10 });
    await db.sql.unsafe(`drop table "${schema}_h"`);
    void table;
  });
});

test("runMigrations() refuses a changed applied file and a new file numbered below the last", async (t) => {
  if (!(await needPostgres(t))) return;
  await withDb(async (db, schema) => {
    const table = `${schema}.history`;
    using m = migrationDir({ "0001_schema.sql": `create schema ${schema};` });
    await runMigrations(db, { dir: m.dir, table: `${schema}_h0` }).catch(
      () => {},
    );
    await db.sql.unsafe(`drop table if exists "${schema}_h0"`);
    void table;
    // The history table lives in the schema the first migration creates.
    writeFileSync(join(m.dir, "0002_history_home.sql"), "select 1;");
    writeFileSync(
      join(m.dir, "0005_t.sql"),
      `create table ${schema}.t (n int);`,
    );
    const options = { dir: m.dir, table: `${schema}.history` };
    await db.sql.unsafe(`drop schema if exists ${schema} cascade`);
    await db.sql.unsafe(`create schema ${schema}`);
    writeFileSync(
      join(m.dir, "0001_schema.sql"),
      `create schema if not exists ${schema};`,
    );
    await runMigrations(db, options);

    writeFileSync(
      join(m.dir, "0005_t.sql"),
      `create table ${schema}.t (n bigint);`,
    );
    await assert.rejects(runMigrations(db, options), (error: DatabaseError) => {
      assert.equal(error.code, "migration_checksum");
      assert.match(error.message, /"0005_t\.sql" was changed/);
      return true;
    });
    writeFileSync(
      join(m.dir, "0005_t.sql"),
      `create table ${schema}.t (n int);`,
    );
    writeFileSync(join(m.dir, "0003_late.sql"), "select 1;");
    await assert.rejects(runMigrations(db, options), (error: DatabaseError) => {
      assert.equal(error.code, "migration_order");
      assert.match(error.message, /"0003_late\.sql" is numbered below/);
      return true;
    });
    const status = await migrationStatus(db, options);
    assert.deepEqual(status.applied.map((r) => r.version), [1, 2, 5]);
    assert.deepEqual(status.pending.map((p) => p.file), ["0003_late.sql"]);
    assert.deepEqual(status.outOfOrder, ["0003_late.sql"]);
    assert.deepEqual(status.changed, []);
  });
});

test("runMigrations() keeps nothing of a failing migration: no history row, no partial schema", async (t) => {
  if (!(await needPostgres(t))) return;
  await withDb(async (db, schema) => {
    await db.sql.unsafe(`create schema ${schema}`);
    using m = migrationDir({
      "0001_ok.sql": `create table ${schema}.a (n int);`,
      "0002_bad.sql": `create table ${schema}.b (n int);\ninsert into ${schema}.b values ('x');`,
    });
    const options = { dir: m.dir, table: `${schema}.history` };
    await assert.rejects(runMigrations(db, options), (error: DatabaseError) => {
      assert.equal(error.code, "migration_failed");
      assert.match(
        error.message,
        /Cannot apply migration "0002_bad\.sql": invalid input syntax/,
      );
      return true;
    });
    const rows = await db.sql.unsafe(`select version from ${schema}.history`);
    assert.deepEqual(rows.map((r) => r.version), [1]);
    const [b] = await db.sql`select to_regclass(${`${schema}.b`}) as b`;
    assert.equal(b?.b, null);
    const status = await migrationStatus(databaseUrl, options);
    assert.deepEqual(status.pending.map((p) => p.version), [2]);
  });
});

test("runMigrations() rejects misnamed, duplicate and multi-statement no-transaction files", async () => {
  const url = "postgres://postgres@127.0.0.1:1/never";
  {
    using m = migrationDir({ "1_a.sql": "", "01_b.sql": "" });
    await assert.rejects(
      runMigrations(url, { dir: m.dir }),
      /"1_a\.sql" has the same version as "01_b\.sql"/,
    );
  }
  {
    using m = migrationDir({ "create.sql": "" });
    await assert.rejects(runMigrations(url, { dir: m.dir }), {
      code: "migration_invalid",
      message: 'Cannot run migrations: "create.sql" is not named NNNN_name.sql',
    });
  }
  {
    using m = migrationDir({
      "0001_two.sql": "-- plinth:no-transaction\ncreate index concurrently a on t (x); select 1;",
    });
    await assert.rejects(
      runMigrations(url, { dir: m.dir }),
      /must hold exactly one statement/,
    );
  }
  await assert.rejects(runMigrations(url, { dir: "/nonexistent/dir" }), {
    code: "migration_invalid",
  });
  await assert.rejects(runMigrations(url, { dir: "" }), TypeError);
  await assert.rejects(
    runMigrations(url, { dir: "/tmp", table: "bad-name" }),
    TypeError,
  );
  await assert.rejects(
    runMigrations(url, { dir: "/tmp", lockTimeout: -1 }),
    RangeError,
  );
  await assert.rejects(migrationStatus(url, null as never), TypeError);
});

test("runMigrations() polls the advisory lock and times out while another runner holds it", async (t) => {
  if (!(await needPostgres(t))) return;
  await withDb(async (db, schema) => {
    using m = migrationDir({ "0001_x.sql": "select 1;" });
    const table = `${schema}_h`;
    // The first runner takes the migration lock, applies 0001 and then blocks in 0002 on an
    // advisory lock this test holds, so it holds the migration lock for as long as the test needs.
    const gate = Math.floor(Math.random() * 2 ** 30);
    writeFileSync(join(m.dir, "0002_wait.sql"), `select pg_advisory_xact_lock(7, ${gate});`);
    const holder = await connectDatabase(databaseUrl, { max: 1, logger: captureLogger() });
    const held = await holder.sql.reserve();
    await held`select pg_advisory_lock(7, ${gate})`;
    const logger = captureLogger();
    const first = runMigrations(db, { dir: m.dir, table });
    const firstSettled = first.then(() => {}, () => {});
    // Wait until the first runner holds the lock (it has applied 0001 and waits in 0002).
    for (let i = 0; i < 500; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const [row] = await db.sql`select to_regclass(${table}) is not null as t`;
      if (row?.t === true) {
        const [n] = await db.sql.unsafe(`select count(*)::int as n from "${table}"`);
        if (n?.n === 1) break;
      }
    }
    const other = await connectDatabase(databaseUrl, {
      max: 1,
      logger: captureLogger(),
    });
    try {
      await assert.rejects(
        runMigrations(other, {
          dir: m.dir,
          table,
          lockTimeout: 100,
          pollInterval: 20,
          logger,
        }),
        { code: "migration_lock_timeout" },
      );
      assert.ok(
        logger.lines.some((l) => l.message === "Waiting for another migration runner"),
      );
      await held`select pg_advisory_unlock(7, ${gate})`;
      assert.equal((await first).applied.length, 2);
      const again = await runMigrations(other, {
        dir: m.dir,
        table,
        lockTimeout: 100,
      });
      assert.equal(again.applied.length, 0);
    } finally {
      await held`select pg_advisory_unlock_all()`;
      held.release();
      await firstSettled;
      await holder.close();
      await other.close();
      await db.sql.unsafe(`drop table if exists "${table}"`);
    }
  });
});

function runChild(
  args: string[],
): Promise<{ ok: boolean; applied?: number[]; error?: string }> {
  const script = fileURLToPath(
    new URL("./_migrate_process.ts", import.meta.url),
  );
  const [command, argv] = childCommand(script);
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...argv, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (err += chunk));
    child.once("error", reject);
    child.once("close", (code) => {
      const line = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`migration process exited ${code}: ${out}${err}`));
      }
    });
  });
}

test(
  "runMigrations() from two processes started together: one applies, the other finds nothing",
  {
    timeout: 60_000,
  },
  async (t) => {
    if (!(await needPostgres(t))) return;
    await withDb(async (db, schema) => {
      using m = migrationDir({
        "0001_schema.sql": `create schema ${schema};`,
        "0002_t.sql": `create table ${schema}.t (n int); select pg_sleep(0.3);`,
      });
      const table = `${schema}_h`;
      try {
        const startAt = String(Date.now() + 2500);
        const results = await Promise.all([
          runChild([databaseUrl, m.dir, table, startAt]),
          runChild([databaseUrl, m.dir, table, startAt]),
        ]);
        assert.ok(results.every((r) => r.ok), JSON.stringify(results));
        const applied = results.map((r) => r.applied ?? []).sort((a, b) => a.length - b.length);
        assert.deepEqual(applied, [[], [1, 2]]);
        const rows = await db.sql.unsafe(
          `select version from "${table}" order by version`,
        );
        assert.deepEqual(rows.map((r) => r.version), [1, 2]);
      } finally {
        await db.sql.unsafe(`drop table if exists "${table}"`);
      }
    });
  },
);

test("runMigrations() refuses transaction control in a pending file before applying any, naming the file and line", async (t) => {
  if (!(await needPostgres(t))) return;
  await withDb(async (db, schema) => {
    await db.sql.unsafe(`create schema ${schema}`);
    const split = [
      `create table ${schema}.b (n int);`,
      "-- commit; in a comment, 'commit;' in a string: neither counts",
      "select 'commit;';",
      "COMMIT;",
      `create table ${schema}.c (n int);`,
    ].join("\n");
    using m = migrationDir({
      "0001_a.sql": `create table ${schema}.a (n int);`,
      "0002_split.sql": split,
    });
    const options = { dir: m.dir, table: `${schema}.history`, logger: captureLogger() };
    await assert.rejects(runMigrations(db, options), (error: DatabaseError) => {
      assert.equal(error.code, "migration_invalid");
      assert.match(
        error.message,
        /^Cannot run migrations: "0002_split\.sql" line 4: COMMIT ends the transaction each migration runs in; .*"-- plinth:no-transaction"$/,
      );
      return true;
    });
    // Nothing ran: not even 0001, which is fine on its own.
    const [found] = await db.sql`select to_regclass(${`${schema}.a`}) as a,
      to_regclass(${`${schema}.b`}) as b`;
    assert.deepEqual({ ...found }, { a: null, b: null });
    const history = await db.sql.unsafe(`select version from ${schema}.history`);
    assert.equal(history.length, 0);

    const refused: [string, string][] = [
      ["begin;", "BEGIN"],
      ["start transaction isolation level serializable;", "START TRANSACTION"],
      ["commit and chain;", "COMMIT AND CHAIN"],
      ["end;", "END"],
      ["abort;", "ABORT"],
      ["rollback;", "ROLLBACK"],
      ["prepare transaction 'plinth-test';", "PREPARE TRANSACTION"],
    ];
    for (const [statement, command] of refused) {
      writeFileSync(join(m.dir, "0002_split.sql"), `select 1;\n\n${statement}\nselect 2;`);
      await assert.rejects(
        runMigrations(db, options),
        {
          code: "migration_invalid",
          message: new RegExp(`"0002_split\\.sql" line 3: ${command} ends the transaction`),
        },
        statement,
      );
    }
    writeFileSync(join(m.dir, "0002_split.sql"), "-- plinth:no-transaction\nbegin;");
    await assert.rejects(runMigrations(db, options), {
      code: "migration_invalid",
      message:
        'Cannot run migrations: "0002_split.sql" line 2: BEGIN is not allowed in a plinth:no-transaction file, which runs outside any transaction and must not begin or end one',
    });

    // Split as the message says, the same work applies and is not wedged.
    writeFileSync(join(m.dir, "0002_split.sql"), split.replace("COMMIT;", ""));
    const result = await runMigrations(db, options);
    assert.deepEqual(result.applied.map((r) => r.version), [1, 2]);
  });
});

test("runMigrations() applies transaction words in comments, strings, function bodies and savepoints", async (t) => {
  if (!(await needPostgres(t))) return;
  await withDb(async (db, schema) => {
    await db.sql.unsafe(`create schema ${schema}`);
    using m = migrationDir({
      "0001_words.sql": [
        `create table ${schema}.commit_log ("commit" text, "begin" int);`,
        "-- commit;",
        "/* rollback; /* end; */ abort; */",
        `insert into ${schema}.commit_log values ('commit;', 1), (E'it\\'s; rollback;', 2);`,
        `create procedure ${schema}.tidy() language plpgsql as $body$`,
        "begin",
        `  delete from ${schema}.commit_log where "begin" > 10;`,
        "  commit;",
        "end",
        "$body$;",
        `create function ${schema}.sign(x int) returns int language sql`,
        "begin atomic",
        "  select case when x > 0 then 1 else 0 end;",
        "end;",
        "savepoint before_probe;",
        `insert into ${schema}.commit_log values ('dropped', 3);`,
        "rollback to savepoint before_probe;",
        "release savepoint before_probe;",
      ].join("\n"),
    });
    const result = await runMigrations(db, {
      dir: m.dir,
      table: `${schema}.history`,
      logger: captureLogger(),
    });
    assert.deepEqual(result.applied.map((r) => r.name), ["words"]);
    const rows = await db.sql.unsafe(
      `select "commit", ${schema}.sign("begin") as sign from ${schema}.commit_log order by "begin"`,
    );
    assert.deepEqual(rows.map((r) => [r.commit, r.sign]), [
      ["commit;", 1],
      ["it's; rollback;", 1],
    ]);
  });
});

test("runMigrations() returns its connection with the session reset: no statement_timeout, role, search_path or temp table leaks into the pool", async (t) => {
  if (!(await needPostgres(t))) return;
  const db = await connectDatabase(databaseUrl, { max: 3, logger: captureLogger() });
  const schema = uniqueName("mig");
  const role = uniqueName("mig_role");
  // Three transactions at once hold the pool's three connections; each runs the same prepared
  // statement (postgres.js caches it per connection, so DISCARD ALL would break it here).
  const probe = async () => {
    const rows = await Promise.all([0, 1, 2].map(() =>
      db.sql.begin(async (tx) => {
        const [row] = await tx`select pg_backend_pid() as pid, current_user as "user",
          session_user as "session", current_setting('statement_timeout') as timeout,
          current_setting('search_path') as path, current_setting('application_name') as app,
          to_regclass('mig_leaked_temp')::text as temp, ${1}::int as n from pg_sleep(0.05)`;
        return { ...row };
      })
    ));
    return rows.sort((a, b) => a.pid - b.pid);
  };
  try {
    await db.sql.unsafe(`create schema ${schema}; create role ${role} nologin`).simple();
    const before = await probe();
    assert.equal(new Set(before.map((row) => row.pid)).size, 3);
    using m = migrationDir({
      "0001_settings.sql": `grant usage, create on schema ${schema} to ${role};
        grant select, insert on ${schema}.history to ${role};
        create temp table mig_leaked_temp (n int);
        set statement_timeout = '4321ms';
        set search_path = ${schema};
        set role ${role};`,
      "0002_owner.sql": `create table ${schema}.owner_probe (n int);`,
      "0003_app.sql": "-- plinth:no-transaction\nset application_name = 'migration-leak';",
    });
    const result = await runMigrations(db, {
      dir: m.dir,
      table: `${schema}.history`,
      logger: captureLogger(),
    });
    assert.deepEqual(result.applied.map((r) => r.version), [1, 2, 3]);
    // The next file already ran with the defaults.
    const [owner] = await db.sql`select tableowner from pg_tables
      where schemaname = ${schema} and tablename = 'owner_probe'`;
    assert.equal(owner?.tableowner, before[0]?.user);
    const after = await probe();
    assert.notEqual(before[0]?.timeout, "4321ms");
    assert.deepEqual(after, before);
  } finally {
    await db.close();
    const admin = await connectDatabase(databaseUrl, { max: 1, logger: captureLogger() });
    await admin.sql.unsafe(`drop schema if exists ${schema} cascade; drop role if exists ${role}`)
      .simple();
    await admin.close();
  }
});

test("runMigrations() does not log an 'already exists, skipping' notice when the history table exists", async (t) => {
  if (!(await needPostgres(t))) return;
  const logger = captureLogger();
  const db = await connectDatabase(databaseUrl, { max: 2, prewarm: false, logger });
  const table = uniqueName("mig_h");
  try {
    using m = migrationDir({ "0001_x.sql": "select 1;" });
    const options = { dir: m.dir, table, logger: captureLogger() };
    assert.equal((await runMigrations(db, options)).applied.length, 1);
    assert.equal((await runMigrations(db, options)).applied.length, 0);
    assert.equal((await runMigrations(databaseUrl, { ...options, logger })).applied.length, 0);
    assert.deepEqual(logger.lines.filter((l) => l.message === "PostgreSQL notice"), []);
  } finally {
    await db.sql.unsafe(`drop table if exists "${table}"`);
    await db.close();
  }
});
