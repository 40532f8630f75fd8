import { getContext } from "@plinth/logging";
import { injectTraceHeaders } from "@plinth/tracing";
import { OutboxError } from "./outbox_error.ts";
import { optionsObject, tableName } from "./_options.ts";

/**
 * What {@linkcode enqueue} needs of a postgres.js `sql`: its `unsafe(query, parameters)`. The
 * `sql` of `db.sql.begin(async (sql) => …)` or `db.transaction(async (sql) => …)` has it.
 *
 * @example
 * ```ts
 * import type { OutboxSql } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const queries: string[] = [];
 * const sql: OutboxSql = {
 *   unsafe: (query) => (queries.push(query), Promise.resolve([])),
 * };
 * await sql.unsafe("select 1");
 * assert.deepEqual(queries, ["select 1"]);
 * ```
 */
export interface OutboxSql {
  /** Runs one parameterised query. */
  // deno-lint-ignore no-explicit-any -- postgres.js types its parameters with `any`
  unsafe(query: string, parameters?: any[]): PromiseLike<unknown>;
}

/**
 * One event to write to the outbox.
 *
 * @example
 * ```ts
 * import type { OutboxEvent } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const event: OutboxEvent = { subject: "usage.recorded", payload: { org: "acme", tokens: 12 } };
 * assert.equal(event.subject, "usage.recorded");
 * ```
 */
export interface OutboxEvent {
  /** The subject (also the CloudEvents type) it is published to. */
  readonly subject: string;
  /** The payload, stored as JSON. */
  readonly payload: unknown;
  /** The event id: the JetStream message id of every publish attempt. @default {a new UUID} */
  readonly id?: string | undefined;
  /** Extra headers (HTTP token names, string values without CR/LF). @default {{}} */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/**
 * Options of {@linkcode enqueue}.
 *
 * @example
 * ```ts
 * import type { EnqueueOptions } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * const options: EnqueueOptions = { table: "billing_outbox" };
 * assert.equal(options.table, "billing_outbox");
 * ```
 */
export interface EnqueueOptions {
  /** The outbox table. @default {"plinth_outbox"} */
  readonly table?: string | undefined;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
const CRLF = /[\r\n]/;
// deno-lint-ignore no-control-regex -- control characters are what it refuses
const SUBJECT_TOKEN = /^[^\s.*>\u0000-\u001f\u007f]+$/;

function checkSubject(subject: unknown): string {
  const fail = (why: string): never => {
    throw new OutboxError(`Cannot enqueue event: subject ${why}`, { code: "invalid_subject" });
  };
  if (typeof subject !== "string" || subject === "") return fail("must be a non-empty string");
  if (subject.startsWith("$")) return fail("must not be a $ system subject");
  if (subject.length > 1024) return fail("is longer than 1024 characters");
  for (const token of subject.split(".")) {
    if (!SUBJECT_TOKEN.test(token)) {
      return fail("has an empty token, whitespace, a control character or a wildcard");
    }
  }
  return subject;
}

function checkHeaders(
  headers: Readonly<Record<string, string>> | undefined,
  into: Record<string, string>,
): void {
  if (headers === undefined) return;
  const fail = (why: string): never => {
    throw new OutboxError(`Cannot enqueue event: ${why}`, { code: "invalid_header" });
  };
  if (typeof headers !== "object" || headers === null) fail("headers must be an object");
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) fail(`header "${name.slice(0, 64)}" is not an HTTP token`);
    if (lower.startsWith("ce-") || lower.startsWith("nats-") || lower === "content-type") {
      fail(`header "${lower}" is reserved`);
    }
    const value = headers[name];
    if (typeof value !== "string" || CRLF.test(value)) {
      fail(`header "${lower}" must be a string without CR or LF`);
    }
    into[lower] = value as string;
  }
}

function toJson(payload: unknown): string {
  const fail = (why: string, cause?: unknown): never => {
    throw new OutboxError(`Cannot enqueue event: payload ${why}`, {
      code: "invalid_payload",
      cause,
    });
  };
  let text: string | undefined;
  try {
    text = JSON.stringify(payload, (_key, value: unknown) => {
      if (typeof value === "number" && !Number.isFinite(value)) {
        throw new RangeError(`${value} is not JSON`);
      }
      return value;
    });
  } catch (error) {
    return fail(`cannot be written as JSON: ${(error as Error).message}`, error);
  }
  if (text === undefined) return fail("cannot be written as JSON: it is undefined or a function");
  return text;
}

/** An event checked and written out: the row's values. */
interface Prepared {
  readonly id: string;
  readonly subject: string;
  readonly data: string;
  readonly headers: string;
}

/** Checks one event and turns it into the row's values (headers of the current context). */
function prepare(event: OutboxEvent, base: Readonly<Record<string, string>>): Prepared {
  if (typeof event !== "object" || event === null) {
    throw new TypeError("Cannot enqueue event: event must be an object");
  }
  const subject = checkSubject(event.subject);
  const id = event.id ?? crypto.randomUUID();
  if (typeof id !== "string" || id === "" || id.length > 256 || CRLF.test(id)) {
    throw new OutboxError("Cannot enqueue event: id must be a non-empty string without CR or LF", {
      code: "invalid_header",
    });
  }
  const headers: Record<string, string> = { ...base };
  checkHeaders(event.headers, headers);
  return { id, subject, data: toJson(event.payload), headers: JSON.stringify(headers) };
}

/** The headers every event enqueued now carries: the request id and the current trace. */
function contextHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const requestId = getContext()?.request_id;
  if (typeof requestId === "string" && requestId !== "" && !CRLF.test(requestId)) {
    headers["x-request-id"] = requestId;
  }
  return injectTraceHeaders(headers);
}

/** Checks `sql` and `options`; returns the table. */
function checkTarget(sql: OutboxSql, options: EnqueueOptions | undefined): string {
  const action = "Cannot enqueue event";
  const table = tableName(optionsObject(options, action).table, action);
  if (
    (typeof sql !== "function" && (typeof sql !== "object" || sql === null)) ||
    typeof sql.unsafe !== "function"
  ) {
    throw new TypeError(`${action}: sql must be a postgres.js sql`);
  }
  return table;
}

async function insert(sql: OutboxSql, table: string, rows: readonly Prepared[]): Promise<void> {
  try {
    await sql.unsafe(
      `with added as (insert into ${table} (event_id, subject, data, headers)
        select e, s, d::jsonb, h::jsonb
        from unnest($1::text[], $2::text[], $3::text[], $4::text[]) with ordinality as t(e, s, d, h, n)
        order by n returning 1)
      select pg_notify('${table}', '') from added limit 1`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.subject),
        rows.map((r) => r.data),
        rows.map((r) => r.headers),
      ],
    );
  } catch (error) {
    throw new OutboxError("Cannot enqueue event: the insert into the outbox table failed", {
      code: "enqueue_failed",
      cause: error,
    });
  }
}

/**
 * Writes an event to the outbox inside the caller's transaction: it is published by a relay
 * ({@linkcode startRelay}) if and only if the transaction commits. The stored headers carry the
 * current trace (`traceparent`, `tracestate`) and the logging context's `x-request-id`, then your
 * own. The insert also sends a `NOTIFY` on the table's channel, delivered at commit, which wakes
 * the relays.
 *
 * @param sql The transaction's `sql` (from `db.sql.begin` or `db.transaction`).
 * @param event `{ subject, payload, id?, headers? }`.
 * @param options The table.
 * @returns The event id.
 * @throws {OutboxError} `invalid_subject`, `invalid_header`, `invalid_payload` before anything
 *   is sent; `enqueue_failed` when the insert fails (the transaction is then aborted).
 * @throws {TypeError} When `sql` has no `unsafe` or `table` is not an identifier.
 *
 * @example
 * ```ts
 * import { connectDatabase } from "@plinth/database";
 * import { enqueue, migrateOutbox } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 1 },
 * );
 * const table = `doc_enqueue_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
 * await migrateOutbox(db, { table });
 * const id = await db.transaction((sql) =>
 *   enqueue(sql, { subject: "usage.recorded", payload: { tokens: 12 } }, { table })
 * );
 * await db.transaction(async (sql) => {
 *   await enqueue(sql, { subject: "usage.recorded", payload: { tokens: 99 } }, { table });
 *   await sql`select 1 / 0`; // rolls back: that event is never published
 * }).catch(() => {});
 * const rows = await db.sql.unsafe(`select event_id from ${table}`);
 * assert.deepEqual(rows.map((r) => r.event_id), [id]);
 * await db.sql.unsafe(`drop table ${table}`);
 * ```
 */
export async function enqueue(
  sql: OutboxSql,
  event: OutboxEvent,
  options?: EnqueueOptions,
): Promise<string> {
  const table = checkTarget(sql, options);
  const row = prepare(event, contextHeaders());
  await insert(sql, table, [row]);
  return row.id;
}

/**
 * Writes several events to the outbox in one statement, inside the caller's transaction, in the
 * order given (the order a relay publishes each subject's events). Every event is checked before
 * anything is sent; otherwise the same as {@linkcode enqueue}.
 *
 * @param sql The transaction's `sql`.
 * @param events The events (an empty array sends nothing).
 * @param options The table.
 * @returns The event ids, in order.
 * @throws {OutboxError} As {@linkcode enqueue}, for the first bad event.
 * @throws {TypeError} When `events` is not an array, `sql` has no `unsafe` or `table` is not an
 *   identifier.
 *
 * @example
 * ```ts
 * import { connectDatabase } from "@plinth/database";
 * import { enqueueMany, migrateOutbox } from "@plinth/outbox";
 * import assert from "node:assert/strict";
 *
 * await using db = await connectDatabase(
 *   process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
 *   { max: 1 },
 * );
 * const table = `doc_many_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
 * await migrateOutbox(db, { table });
 * const ids = await db.transaction((sql) =>
 *   enqueueMany(sql, [
 *     { subject: "usage.recorded", payload: { tokens: 1 }, id: "u-1" },
 *     { subject: "usage.recorded", payload: { tokens: 2 }, id: "u-2" },
 *   ], { table })
 * );
 * assert.deepEqual(ids, ["u-1", "u-2"]);
 * const rows = await db.sql.unsafe(`select event_id from ${table} order by id`);
 * assert.deepEqual(rows.map((r) => r.event_id), ["u-1", "u-2"]);
 * await db.sql.unsafe(`drop table ${table}`);
 * ```
 */
export async function enqueueMany(
  sql: OutboxSql,
  events: readonly OutboxEvent[],
  options?: EnqueueOptions,
): Promise<string[]> {
  const table = checkTarget(sql, options);
  if (!Array.isArray(events)) throw new TypeError("Cannot enqueue events: events must be an array");
  if (events.length === 0) return [];
  const base = contextHeaders();
  const rows = events.map((event) => prepare(event, base));
  await insert(sql, table, rows);
  return rows.map((row) => row.id);
}
