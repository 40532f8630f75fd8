// The embedded database of @plinth/database/embedded: the main entry point never references
// PGlite; options are checked before a start; start-up progress and failures (a missing peer
// dependency, a refused permission) are reported; and a real PGlite serves queries, migrations
// and restarts. The real starts share one fresh data directory, in order, so each runtime pays
// PGlite's first start (several seconds) once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { captureLogger, databaseUrl, runtime, uniqueName } from "@plinth/testing";
import { runtimeImports } from "@plinth/testing/imports";
import { connectDatabase } from "./connect_database.ts";
import { connectEmbedded } from "./connect_embedded.ts";
import { DatabaseError } from "./database_error.ts";
import { fromPostgresError } from "./from_postgres_error.ts";
import { migrationStatus, runMigrations } from "./migrations.ts";
import {
  missingDenoPermissions,
  type PgliteModules,
  startFailure,
  startPglite,
} from "./_pglite.ts";

/** Every file `entry` reaches through relative imports, type-only ones included. */
function reachableFiles(entry: URL): URL[] {
  const seen = new Map<string, URL>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file.href)) continue;
    seen.set(file.href, file);
    const text = readFileSync(file, "utf8");
    const relative = /(?:from\s+|import\s*\(\s*|^import\s+)"(\.[^"]+)"/gm;
    for (const [, specifier] of text.matchAll(relative)) queue.push(new URL(specifier!, file));
  }
  return [...seen.values()];
}

test("@plinth/database's entry point never references PGlite, even for types", () => {
  const main = new URL("mod.ts", import.meta.url);
  const loaded = runtimeImports(main, { followPlinth: true }).map((i) => i.specifier);
  assert.ok(loaded.includes("postgres"), "the walk reaches the driver");
  assert.deepEqual(loaded.filter((s) => s.includes("electric-sql")), []);
  const files = reachableFiles(main);
  assert.ok(
    files.some((f) => f.pathname.endsWith("/_embedded.ts")),
    "the walk follows type imports",
  );
  const naming = files.filter((f) => readFileSync(f, "utf8").includes("@electric-sql"));
  assert.deepEqual(naming.map((f) => f.pathname), []);
  const embedded = runtimeImports(new URL("embedded.ts", import.meta.url)).map((i) => i.specifier);
  assert.ok(embedded.includes("@electric-sql/pglite"), "the subpath loads PGlite");
  assert.ok(embedded.includes("@electric-sql/pglite-socket"));
});

test("connectDatabase() refuses the embedded options and points at @plinth/database/embedded", async () => {
  await assert.rejects(connectDatabase({ embedded: true, env: {} } as never), {
    name: "TypeError",
    message: /no server configured; .*connectEmbedded\(\) of @plinth\/database\/embedded/,
  });
  for (const option of ["embedded", "dataDir"]) {
    await assert.rejects(
      connectDatabase({ url: databaseUrl, [option]: option === "embedded" ? true : "x" } as never),
      {
        name: "TypeError",
        message: new RegExp(
          `option "${option}" is not known; .*connectEmbedded\\(\\) of "@plinth/database/embedded"`,
        ),
      },
    );
  }
});

test("connectEmbedded() checks every option before starting anything", async () => {
  const dataDir = join(tmpdir(), uniqueName("plinth-emb-never"));
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ url: databaseUrl }, "TypeError", /option "url" does not apply; it listens on 127\.0\.0\.1/],
    [{ host: "db" }, "TypeError", /option "host" does not apply/],
    [{ port: 5432 }, "TypeError", /option "port" does not apply/],
    [{ user: "app" }, "TypeError", /option "user" does not apply/],
    [{ password: "secret" }, "TypeError", /option "password" does not apply/],
    [{ ssl: true }, "TypeError", /option "ssl" does not apply/],
    [{ env: {} }, "TypeError", /option "env" does not apply/],
    [{ max: 2 }, "TypeError", /option "max" does not apply; it serves one connection at a time/],
    [{ prewarm: 1 }, "TypeError", /option "prewarm" does not apply/],
    [{ dataDir: "" }, "TypeError", /option "dataDir" must be a non-empty string/],
    [{ queueTimeout: -1 }, "RangeError", /option "queueTimeout" must be a non-negative number/],
    [{ logger: {} }, "TypeError", /option "logger" must have debug, info, warn and error/],
    [{ embedded: true }, "TypeError", /option "embedded" is not known/],
    [{ idle_timeout: 1 }, "TypeError", /option "idle_timeout" is set by plinth/],
  ];
  for (const [options, name, message] of cases) {
    await assert.rejects(connectEmbedded({ dataDir, ...options } as never), { name, message });
  }
  await assert.rejects(connectEmbedded(null as never), {
    name: "TypeError",
    message: /options must be an object/,
  });
  const error = await connectEmbedded({ dataDir, password: "hunter2" } as never).catch((e) => e);
  assert.ok(!String(error.message).includes("hunter2"), "no option value in a message");
  assert.equal(existsSync(dataDir), false, "nothing was created");
});

/** Fake PGlite and socket server that record what is done to them. */
function fakeModules(
  events: string[],
  behaviour: { readonly failStart?: Error } = {},
): PgliteModules {
  const db = {
    closed: false,
    close(): Promise<void> {
      events.push("db.close");
      this.closed = true;
      return Promise.resolve();
    },
  };
  class FakeServer {
    constructor(options: { host: string; port: number; maxConnections: number }) {
      events.push(`server ${options.host}:${options.port} max ${options.maxConnections}`);
    }
    start(): Promise<void> {
      if (behaviour.failStart !== undefined) return Promise.reject(behaviour.failStart);
      events.push("server.start");
      return Promise.resolve();
    }
    getServerConn(): string {
      return "127.0.0.1:54321";
    }
    stop(): Promise<void> {
      events.push("server.stop");
      return Promise.resolve();
    }
  }
  return {
    PGlite: {
      create(dir: string) {
        events.push(`create ${dir}`);
        return Promise.resolve(db);
      },
    },
    PGLiteSocketServer: FakeServer,
  } as unknown as PgliteModules;
}

/** A clock that advances 250 ms each time it is read. */
function steppingClock(): () => number {
  let t = 1_000;
  return () => (t += 250);
}

test("startPglite() logs a first start, PGlite ready with its duration, and the address", async () => {
  const dataDir = join(tmpdir(), uniqueName("plinth-emb-fake"));
  const logger = captureLogger();
  const events: string[] = [];
  try {
    const server = await startPglite(dataDir, {
      logger,
      now: steppingClock(),
      load: () => Promise.resolve(fakeModules(events)),
    });
    assert.equal(existsSync(dataDir), true, "the data directory is created");
    assert.deepEqual(
      logger.lines.map((l) => [l.level, l.message, l.fields]),
      [
        [
          "info",
          "Creating the embedded database: the first start of a data directory initialises PostgreSQL and takes several seconds",
          { data_dir: dataDir },
        ],
        ["info", "PGlite ready", { duration_ms: 250, first_start: true }],
        [
          "info",
          "Embedded database listening",
          { address: "127.0.0.1:54321", host: "127.0.0.1", port: 54321 },
        ],
      ],
    );
    assert.equal(server.host, "127.0.0.1");
    assert.equal(server.port, 54321);
    assert.deepEqual(events, [`create ${dataDir}`, "server 127.0.0.1:0 max 1", "server.start"]);
    await Promise.all([server.close(), server.close()]);
    await server.close();
    assert.deepEqual(events.slice(3), ["server.stop", "db.close"], "stopped once, server first");
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("startPglite() logs a later start of an initialised data directory", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "plinth-emb-fake-"));
  writeFileSync(join(dataDir, "PG_VERSION"), "18\n");
  const logger = captureLogger();
  try {
    const server = await startPglite(dataDir, {
      logger,
      now: steppingClock(),
      load: () => Promise.resolve(fakeModules([])),
    });
    await server.close();
    assert.deepEqual(logger.lines.slice(0, 2).map((l) => [l.message, l.fields]), [
      ["Starting the embedded database", { data_dir: dataDir }],
      ["PGlite ready", { duration_ms: 250, first_start: false }],
    ]);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("startPglite() names the optional peer dependencies when they are not installed", async () => {
  const dataDir = join(tmpdir(), uniqueName("plinth-emb-nopeer"));
  const missing = Object.assign(
    new Error("Cannot find package '@electric-sql/pglite' imported from /app/_pglite.ts"),
    { code: "ERR_MODULE_NOT_FOUND" },
  );
  const error = await startPglite(dataDir, {
    logger: captureLogger(),
    now: Date.now,
    load: () => Promise.reject(missing),
  }).catch((e) => e);
  assert.ok(error instanceof DatabaseError);
  assert.equal(error.code, "connect_failed");
  assert.equal(error.cause, missing);
  assert.equal(
    error.message,
    "Cannot start the embedded database: its optional peer dependencies @electric-sql/pglite and @electric-sql/pglite-socket are not installed: npm i @electric-sql/pglite @electric-sql/pglite-socket",
  );
  assert.equal(existsSync(dataDir), false, "nothing is created before PGlite loads");
  const broken = await startPglite(dataDir, {
    logger: captureLogger(),
    now: Date.now,
    load: () => Promise.reject(new SyntaxError("Unexpected token")),
  }).catch((e) => e);
  assert.equal(
    broken.message,
    "Cannot start the embedded database: cannot load PGlite: Unexpected token",
  );
});

test("startPglite() closes PGlite when the socket server cannot listen", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "plinth-emb-fake-"));
  const events: string[] = [];
  const refused = Object.assign(new Error("listen EADDRINUSE"), { code: "EADDRINUSE" });
  try {
    const error = await startPglite(dataDir, {
      logger: captureLogger(),
      now: Date.now,
      load: () => Promise.resolve(fakeModules(events, { failStart: refused })),
    }).catch((e) => e);
    assert.ok(error instanceof DatabaseError);
    assert.equal(error.message, "Cannot start the embedded database: listen EADDRINUSE");
    assert.equal(error.cause, refused);
    assert.equal(events.at(-1), "db.close");
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("startFailure() names the refused permission and its flag, never the data directory", () => {
  const dataDir = "/srv/app/secret-place/pglite";
  const deno = (message: string): Error =>
    Object.assign(new Error(message), { name: "NotCapable" });
  const cases: [unknown, string][] = [
    [
      deno(`Requires read access to "${dataDir}/PG_VERSION", run again with the --allow-read flag`),
      'Deno denied read access to the data directory (option "dataDir"): run it with --allow-read',
    ],
    [
      deno(`Requires write access to "${dataDir}", run again with the --allow-write flag`),
      'Deno denied write access to the data directory (option "dataDir"): run it with --allow-write',
    ],
    [
      deno(
        'Requires read access to "/app/node_modules/@electric-sql/pglite/dist/pglite.data", run again with the --allow-read flag',
      ),
      "Deno denied read access to PGlite's files in its package directory: run it with --allow-read",
    ],
    [
      deno('Requires net access to "127.0.0.1:0", run again with the --allow-net flag'),
      "Deno denied net access to 127.0.0.1 (the local socket): run it with --allow-net",
    ],
    [
      deno('Requires env access to "PGAPPNAME", run again with the --allow-env flag'),
      'Deno denied env access to "PGAPPNAME": run it with --allow-env',
    ],
    [
      Object.assign(new Error("Access to this API has been restricted"), {
        code: "ERR_ACCESS_DENIED",
        permission: "FileSystemWrite",
        resource: `${dataDir}/base`,
      }),
      `Node's permission model denied FileSystemWrite to the data directory (option "dataDir"): run it with --allow-fs-write`,
    ],
    [
      Object.assign(new Error(`EACCES: permission denied, mkdir '${dataDir}'`), { code: "EACCES" }),
      'the operating system denied access to the data directory (option "dataDir"): EACCES',
    ],
  ];
  for (const [error, detail] of cases) {
    const failure = startFailure(error, dataDir);
    assert.ok(failure instanceof DatabaseError);
    assert.equal(failure.code, "connect_failed");
    assert.equal(failure.status, 503);
    assert.equal(failure.cause, error);
    assert.ok(
      failure.message.startsWith(`Cannot start the embedded database: ${detail}`),
      failure.message,
    );
    assert.ok(!failure.message.includes("secret-place"), failure.message);
  }
  assert.equal(
    startFailure(new Error("disk full"), dataDir).message,
    "Cannot start the embedded database: disk full",
  );
});

test("missingDenoPermissions() asks for each permission once and lists the refused ones", () => {
  assert.deepEqual(missingDenoPermissions("/data", undefined), [], "none outside Deno");
  const asked: string[] = [];
  const states: Record<string, string> = { read: "granted", write: "prompt", net: "denied" };
  const permissions = {
    querySync(d: { name: string }) {
      asked.push(`query ${d.name}`);
      return { state: states[d.name]! };
    },
    requestSync(d: { name: string }) {
      asked.push(`request ${d.name}`);
      return { state: "denied" };
    },
  };
  assert.deepEqual(missingDenoPermissions("/data", permissions), [
    'write access to the data directory (option "dataDir")',
    "net access to 127.0.0.1 (the local socket)",
  ]);
  assert.deepEqual(asked, [
    "query read",
    "query write",
    "request write",
    "query net",
    "query read",
  ]);
});

// The real PGlite: one fresh data directory, started in order by the tests below.
const dataDir = mkdtempSync(join(tmpdir(), "plinth-pglite-test-"));
const table = uniqueName("emb");

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

test(
  "connectEmbedded() initialises a new data directory, logs its progress and serves one connection",
  { timeout: 120_000 },
  async () => {
    const logger = captureLogger();
    const db = await connectEmbedded({ dataDir, logger });
    const migrations = mkdtempSync(join(tmpdir(), "plinth-emb-"));
    let port = 0;
    try {
      const progress = logger.lines.filter((l) => l.level === "info").map((l) => l.message);
      assert.deepEqual(progress.slice(0, 3), [
        "Creating the embedded database: the first start of a data directory initialises PostgreSQL and takes several seconds",
        "PGlite ready",
        "Embedded database listening",
      ]);
      const ready = logger.lines.find((l) => l.message === "PGlite ready")!;
      assert.equal(ready.fields.first_start, true);
      assert.ok(Number.isInteger(ready.fields.duration_ms) && Number(ready.fields.duration_ms) > 0);
      const address = logger.lines.find((l) => l.message === "Embedded database listening")!;
      assert.match(String(address.fields.address), /^127\.0\.0\.1:\d+$/);
      port = Number(address.fields.port);
      assert.equal(db.target, `127.0.0.1:${port}/postgres`);
      assert.equal(db.embedded, true);
      assert.equal(db.stats().max, 1, "one connection");
      assert.equal(existsSync(join(dataDir, "PG_VERSION")), true);

      const [row] = await db.sql`select ${20}::int + 22 as n`;
      assert.equal(row?.n, 42);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => db.sql`select ${i}::int as i`),
      );
      assert.deepEqual(results.map((r) => r[0]?.i), Array.from({ length: 20 }, (_, i) => i));
      writeFileSync(join(migrations, "0001_t.sql"), `create table ${table} (email text unique);`);
      writeFileSync(
        join(migrations, "0002_seed.sql"),
        `insert into ${table} values ('a@example.com');`,
      );
      const applied = await runMigrations(db, { dir: migrations, table: `${table}_h`, logger });
      assert.deepEqual(applied.applied.map((m) => m.version), [1, 2]);
      assert.equal(
        (await migrationStatus(db, { dir: migrations, table: `${table}_h` })).pending.length,
        0,
      );
      const duplicate = await db.sql`insert into ${db.sql(table)} values ('a@example.com')`.then(
        () => assert.fail("inserted a duplicate"),
        fromPostgresError,
      );
      assert.equal(duplicate.status, 409);
      assert.equal((await db.health()).ok, true);
    } finally {
      await db.close();
      rmSync(migrations, { recursive: true, force: true });
    }
    await assert.rejects(db.sql`select 1`, { code: "database_closed" });
    assert.equal(await listening(port), false, "close() stopped the embedded server");
    assert.ok(logger.lines.some((l) => l.message === "Embedded database stopped"));
  },
);

test(
  "connectEmbedded() reopens a data directory with its data, as a later start",
  { timeout: 60_000 },
  async () => {
    const logger = captureLogger();
    await using db = await connectEmbedded({ dataDir, logger, queueTimeout: 300 });
    const info = logger.lines.filter((l) => l.level === "info");
    assert.deepEqual(info.slice(0, 3).map((l) => l.message), [
      "Starting the embedded database",
      "PGlite ready",
      "Embedded database listening",
    ]);
    assert.deepEqual(info[0]?.fields, { data_dir: dataDir });
    assert.equal(info[1]?.fields.first_start, false);
    const rows = await db.sql`select email from ${db.sql(table)}`;
    assert.deepEqual(rows.map((r) => r.email), ["a@example.com"], "the data survived the restart");
    // One connection: a query outside the transaction waits for it, then times out.
    await db.transaction(async (tx) => {
      await tx`select 1`;
      await assert.rejects(db.sql`select 2`, { code: "database_busy" });
    });
    assert.equal((await db.sql`select 3 as n`)[0]?.n, 3, "free again after the transaction");
  },
);

/** Runs `_embedded_child.ts` on Deno with `flags`: its last stdout line and its exit status. */
function denoChild(flags: readonly string[]): { line: string; status: number | null } {
  const child = fileURLToPath(new URL("_embedded_child.ts", import.meta.url));
  const result = spawnSync(process.execPath, ["run", "--no-prompt", ...flags, child, dataDir], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 60_000,
  });
  const lines = result.stdout.trim().split("\n");
  assert.doesNotMatch(result.stderr, /Uncaught/, "no uncaught error ends the process");
  return { line: lines.at(-1) ?? "", status: result.status };
}

test(
  "connectEmbedded() on Deno runs with exactly the README's permissions and names a missing one",
  { timeout: 120_000 },
  (t) => {
    if (runtime() !== "deno") {
      t.skip("Deno's permissions are checked when Deno runs the tests");
      return;
    }
    const pglite = fileURLToPath(new URL(".", import.meta.resolve("@electric-sql/pglite")));
    const env = "--allow-env=PGAPPNAME,PGTARGETSESSIONATTRS,PGPASSWORD";
    const read = `--allow-read=${dataDir},${pglite}`;
    const write = `--allow-write=${dataDir}`;
    const net = "--allow-net=127.0.0.1";
    assert.deepEqual(denoChild([read, write, net, env]), { line: "ok", status: 0 });
    const noNet = denoChild([read, write, env]);
    assert.equal(noNet.status, 1);
    assert.match(
      JSON.parse(noNet.line).message,
      /^Cannot start the embedded database: Deno denies net access to 127\.0\.0\.1 \(the local socket\): run it with --allow-net/,
    );
    const noFiles = denoChild([`--allow-read=${dataDir}`, write, net, env]);
    assert.match(
      JSON.parse(noFiles.line).message,
      /Deno denies read access to PGlite's files in its package directory: run it with --allow-read/,
    );
    assert.equal(JSON.parse(noFiles.line).code, "connect_failed");
  },
);

test("the embedded tests' data directory is removed", () => {
  rmSync(dataDir, { recursive: true, force: true });
  assert.equal(existsSync(dataDir), false);
});
