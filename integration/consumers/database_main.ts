// @plinth/database from the installed tarball against the real PostgreSQL: `select 1`, and a
// unique violation turned into a 409 problem. Prints the results as one JSON line.
import { connectDatabase, fromPostgresError } from "@plinth/database";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const db = await connectDatabase(
  process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  { max: 1, logger: quiet },
);
try {
  const rows = await db.sql<{ one: number }[]>`select 1 as one`;
  await db.sql`create temporary table consumer_orgs (name text unique)`;
  await db.sql`insert into consumer_orgs values (${"acme"})`;
  const duplicate = await db.sql`insert into consumer_orgs values (${"acme"})`.then(
    () => undefined,
    fromPostgresError,
  );
  console.log(JSON.stringify({
    selectOne: rows[0]?.one,
    duplicate: { status: duplicate?.status, code: duplicate?.code },
  }));
} finally {
  await db.close();
}
