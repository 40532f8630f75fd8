// The embedded PGlite database, and the query and migration paths against it. One file, so
// only one process opens the data directory at a time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectDatabase } from "./connect_database.ts";
import { migrationStatus, runMigrations } from "./migrations.ts";
import { fromPostgresError } from "./from_postgres_error.ts";
import { captureLogger, uniqueName } from "@plinth/testing";

// Kept across runs (gitignored) so only the first run pays PGlite's initialisation.
const dataDir = fileURLToPath(
  new URL("../node_modules/.cache/plinth-pglite-test", import.meta.url),
);

test(
  "connectDatabase({ embedded: true }) runs PGlite with one connection, queries and migrations",
  {
    timeout: 120_000,
  },
  async () => {
    const logger = captureLogger();
    const db = await connectDatabase({
      embedded: true,
      dataDir,
      env: {},
      max: 10,
      logger,
    });
    const name = uniqueName("emb");
    const dir = mkdtempSync(join(tmpdir(), "plinth-emb-"));
    try {
      assert.equal(db.embedded, true);
      assert.equal(db.stats().max, 1, "the pool size is 1 when embedded");
      const [row] = await db.sql`select ${20}::int + 22 as n`;
      assert.equal(row?.n, 42);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => db.sql`select ${i}::int as i`),
      );
      assert.deepEqual(
        results.map((r) => r[0]?.i),
        Array.from({ length: 20 }, (_, i) => i),
      );
      const total = await db.transaction(async (tx) => {
        const [r] = await tx`select 1 + 1 as two`;
        return r?.two;
      });
      assert.equal(total, 2);
      writeFileSync(
        join(dir, "0001_t.sql"),
        `create table ${name} (email text unique);`,
      );
      writeFileSync(
        join(dir, "0002_seed.sql"),
        `insert into ${name} values ('a@example.com');`,
      );
      const applied = await runMigrations(db, { dir, table: `${name}_h` });
      assert.deepEqual(applied.applied.map((m) => m.version), [1, 2]);
      assert.equal(
        (await migrationStatus(db, { dir, table: `${name}_h` })).pending.length,
        0,
      );
      const duplicate = await db.sql`insert into ${db.sql(name)} values ('a@example.com')`.then(
        () => assert.fail("inserted a duplicate"),
        fromPostgresError,
      );
      assert.equal(duplicate.status, 409);
      assert.equal((await db.health()).ok, true);
    } finally {
      await db.sql.unsafe(
        `drop table if exists ${name}; drop table if exists ${name}_h`,
      ).simple()
        .catch(() => {});
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
