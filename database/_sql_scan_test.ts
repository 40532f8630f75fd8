import { test } from "node:test";
import assert from "node:assert/strict";
import { countStatements, scanStatements, transactionControl } from "./_sql_scan.ts";

/** The transaction-control commands of `sql`, with their lines. */
function controls(sql: string): [number, string][] {
  return scanStatements(sql).flatMap((statement) => {
    const command = transactionControl(statement);
    return command === undefined ? [] : [[statement.line, command] as [number, string]];
  });
}

test("transactionControl() names every statement that begins, ends or hands over a transaction", () => {
  const cases: [string, string][] = [
    ["begin", "BEGIN"],
    ["BEGIN WORK", "BEGIN"],
    ["begin transaction isolation level serializable", "BEGIN"],
    ["start transaction read only", "START TRANSACTION"],
    ["COMMIT", "COMMIT"],
    ["commit work", "COMMIT"],
    ["commit and chain", "COMMIT AND CHAIN"],
    ["COMMIT TRANSACTION AND CHAIN", "COMMIT AND CHAIN"],
    ["commit and no chain", "COMMIT"],
    ["end", "END"],
    ["END TRANSACTION AND CHAIN", "END AND CHAIN"],
    ["abort", "ABORT"],
    ["rollback", "ROLLBACK"],
    ["ROLLBACK WORK AND CHAIN", "ROLLBACK AND CHAIN"],
    ["prepare transaction 'deploy-1'", "PREPARE TRANSACTION"],
    ["PREPARE TRANSACTION E'deploy\\'1'", "PREPARE TRANSACTION"],
  ];
  for (const [sql, command] of cases) {
    assert.deepEqual(controls(`select 1;\n${sql};\nselect 2;`), [[2, command]], sql);
  }
});

test("transactionControl() lets savepoints, prepared transactions of others and look-alikes through", () => {
  const allowed = [
    "savepoint a",
    "release savepoint a",
    "rollback to savepoint a",
    "ROLLBACK WORK TO a",
    "commit prepared 'deploy-1'",
    "rollback prepared 'deploy-1'",
    "prepare transaction as select 1",
    "prepare commit_all (int) as select $1",
    "start_transaction()",
    "select begin, commit from commit_log",
    'select "commit" from t',
    "insert into t values ('commit')",
    "set transaction isolation level serializable",
  ];
  for (const sql of allowed) assert.deepEqual(controls(sql), [], sql);
});

test("scanStatements() ignores transaction words in comments, strings, identifiers and bodies", () => {
  const sql = [
    "-- commit;",
    "/* rollback; /* nested; */ end; */",
    "select 'x;\ncommit;' as a, E'it\\'s; commit;' as b, \"we;ird\" as c;",
    "create function f() returns void language plpgsql as $body$",
    "begin",
    "  commit;",
    "end",
    "$body$;",
    "do $$ begin rollback; end $$;",
    "create or replace function g(x int) returns int language sql",
    "begin atomic",
    "  select case when x > 0 then 1 else 0 end;",
    "  select 2;",
    "end;",
    "create rule r as on insert to t do also (notify a; notify b);",
  ].join("\n");
  assert.deepEqual(
    scanStatements(sql).map((statement) => [statement.line, statement.head[0]]),
    [
      [3, "select"], // its first string literal spans two lines
      [5, "create"],
      [10, "do"],
      [11, "create"],
      [16, "create"],
    ],
  );
  assert.deepEqual(controls(sql), []);
  assert.deepEqual(controls(`${sql}\ncommit;`), [[17, "COMMIT"]]);
});

test("countStatements() counts a BEGIN ATOMIC body and a rule's parenthesised actions as one statement", () => {
  assert.equal(
    countStatements(
      "create procedure p() language sql begin atomic insert into t values (1); end",
    ),
    1,
  );
  assert.equal(
    countStatements("create rule r as on delete to t do instead (notify a; notify b)"),
    1,
  );
  assert.equal(countStatements("select 1e5; select .5e-3"), 2);
});
