// Every use of postgres.js's private state lives here, checked against the installed driver
// when a pool is made: a driver whose shape differs fails at connect with a DatabaseError naming
// its version, rather than misbehaving on some later query.
//
// Why each internal is kept (each buys correctness, none only speed):
// - the query's `handle`/`handler`/`executed`/`resolve`/`reject`: the gate (queue timeout, the
//   recycle after a lost connection, which rejects queries the driver strands) and dispatching
//   without postgres.js's unobserved async wrapper (its #1154: an uncatchable TypeError when the
//   server restarts with queries in flight);
// - `canceller`/`cancelled`: `query.cancel()` of a query still waiting in plinth's queue;
// - the query class, dispatcher and `cancel` of an instance: tagged queries made by plinth keep
//   the caller's frame as the origin postgres.js shows in stack traces;
// - `options.fetch_types`, `parsers`, `serializers`, `shared.typeArrayMap`: the array types are
//   read once and shared with the instances a recycle makes (postgres.js reads them from an async
//   function nobody awaits, so a connection lost during that read is an unhandled rejection).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type postgres from "postgres";
import { DatabaseError } from "./database_error.ts";

/** The parts of a postgres.js query object plinth hooks into (present in postgres 3.4). */
export interface QueryInternals {
  handle(): unknown;
  /** The driver instance's `cancel`, which `query.cancel()` calls with the query. */
  canceller: ((query: QueryInternals) => unknown) | null;
  /** Set by the driver's `cancel` (true before the query was sent). */
  readonly cancelled: unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** The driver instance's dispatcher the query is handed to when it runs. */
  handler: unknown;
  executed: boolean;
  readonly strings: readonly string[] | string;
  /** Set on a cursor (`cursor()`) before it executes. */
  readonly cursorFn?: unknown;
}

/** The parts of a postgres.js instance's parsed options plinth shares between instances. */
interface OptionsInternals {
  fetch_types: boolean;
  parsers: Record<number, unknown>;
  serializers: Record<number, unknown>;
  shared: { typeArrayMap: Record<number, number> };
}

/** The postgres.js query class and what an instance gives its queries. */
export type QueryClass = new (
  strings: TemplateStringsArray,
  args: unknown[],
  handler: unknown,
  canceller: unknown,
) => QueryInternals;

/**
 * A driver instance with its query class, dispatcher and `cancel`, read from a query it creates
 * (and never runs). plinth makes tagged queries with them itself, so that the frame postgres.js
 * records as the query's origin (it keeps four) is the caller's, not plinth's.
 */
export interface Driver {
  sql: postgres.Sql;
  Query: QueryClass;
  handler: (query: QueryInternals) => unknown;
  cancel: (query: QueryInternals) => unknown;
}

const TEMPLATE: TemplateStringsArray = Object.assign(["select 1"], {
  raw: ["select 1"],
});

/** What plinth needs of a query object, and of an instance's options. */
const QUERY_SHAPE: Readonly<Record<string, string>> = {
  handle: "function",
  handler: "function",
  canceller: "function",
  resolve: "function",
  reject: "function",
  executed: "boolean",
  strings: "object",
};

/** The version of the installed postgres.js, from its package.json ("unknown" when not found). */
export function postgresVersion(): string {
  try {
    const resolved = import.meta.resolve("postgres");
    const npm = /^npm:\/?postgres@([^/]+)/.exec(resolved);
    if (npm !== null) return npm[1]!;
    let dir = dirname(fileURLToPath(resolved));
    for (let i = 0; i < 4; i++) {
      try {
        const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
        if (manifest?.name === "postgres" && typeof manifest.version === "string") {
          return manifest.version;
        }
      } catch { /* not here: one level up */ }
      dir = dirname(dir);
    }
  } catch { /* no resolver: fall through */ }
  return "unknown";
}

/** The first private member plinth uses that the driver instance lacks, or undefined. */
function missingInternal(sample: Record<string, unknown>, options: unknown): string | undefined {
  for (const [key, type] of Object.entries(QUERY_SHAPE)) {
    if (typeof sample[key] !== type || sample[key] === null) return `query.${key}`;
  }
  if (!("cancelled" in sample)) return "query.cancelled";
  if (typeof sample.constructor !== "function") return "query.constructor";
  const o = options as Partial<Record<keyof OptionsInternals, unknown>> | null;
  if (typeof o?.fetch_types !== "boolean") return "options.fetch_types";
  if (typeof o.parsers !== "object" || o.parsers === null) return "options.parsers";
  if (typeof o.serializers !== "object" || o.serializers === null) return "options.serializers";
  const shared = o.shared as { typeArrayMap?: unknown } | undefined;
  if (typeof shared?.typeArrayMap !== "object" || shared.typeArrayMap === null) {
    return "options.shared.typeArrayMap";
  }
  return undefined;
}

/**
 * Reads a driver instance's query class, dispatcher and `cancel` from a query it makes (never
 * run), after checking that the instance has every private member plinth uses.
 *
 * @throws {DatabaseError} `driver_unsupported` naming the postgres.js version and the member.
 */
export function driverOf(sql: postgres.Sql): Driver {
  const sample = sql(TEMPLATE) as unknown as Record<string, unknown>;
  const missing = missingInternal(sample, sql.options);
  if (missing !== undefined) {
    throw new DatabaseError(
      `Cannot use postgres.js ${postgresVersion()}: its ${missing} is not what @plinth/database expects (written for postgres.js 3.4); install postgres@3.4`,
      { code: "driver_unsupported" },
    );
  }
  return {
    sql,
    Query: sample.constructor as QueryClass,
    handler: sample.handler as Driver["handler"],
    cancel: sample.canceller as Driver["cancel"],
  };
}

/** Gives a new driver instance the array types an older one read from the server. */
export function shareTypes(from: postgres.Sql, to: postgres.Sql): void {
  const source = from.options as unknown as OptionsInternals;
  const target = to.options as unknown as OptionsInternals;
  Object.assign(target.parsers, source.parsers);
  Object.assign(target.serializers, source.serializers);
  Object.assign(target.shared.typeArrayMap, source.shared.typeArrayMap);
}

/** Stops an instance from reading the array types on each new connection (it has them). */
export function stopFetchingTypes(sql: postgres.Sql): void {
  (sql.options as unknown as OptionsInternals).fetch_types = false;
}

/** Hands a query to its instance's dispatcher, as the driver's own `handle()` does, minus its async wrapper. */
export function dispatch(query: QueryInternals): void {
  query.executed = true;
  (query.handler as (q: QueryInternals) => unknown)(query);
}

/** The query's text with `$n` placeholders: what the slow-query log shows, never the values. */
export function queryText(query: QueryInternals): string {
  const strings = query.strings;
  if (typeof strings === "string") return strings;
  let out = strings[0] ?? "";
  for (let i = 1; i < strings.length; i++) out += `$${i}${strings[i]}`;
  return out.replace(/\s+/g, " ").trim();
}
