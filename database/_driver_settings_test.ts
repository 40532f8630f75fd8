import { test } from "node:test";
import assert from "node:assert/strict";
import { driverOptions } from "./_driver_settings.ts";
import { settingsOf, targetOf } from "./_options.ts";
import { SocketBook } from "./_sockets.ts";

// postgres.js reads `PG<NAME>` from the process environment for each of these options it is not
// given (`k in options`), so each must be an own key of what plinth hands it.
const READ_FROM_ENV_UNLESS_GIVEN = {
  sslnegotiation: null,
  max_pipeline: 100,
  keep_alive: 60,
  prepare: true,
  debug: false,
  publications: "alltables",
  target_session_attrs: null,
};

function optionsFor(passed: Record<string, unknown>): Record<string, unknown> {
  const settings = settingsOf(passed, false);
  const target = targetOf(passed, "postgres://app@db.internal:5432/app");
  return driverOptions(settings, target, false, 2, new SocketBook(), true) as Record<
    string,
    unknown
  >;
}

test("driverOptions() gives postgres.js every option it would otherwise read from PG* variables", () => {
  const options = optionsFor({});
  for (const [name, value] of Object.entries(READ_FROM_ENV_UNLESS_GIVEN)) {
    assert.ok(Object.hasOwn(options, name), `${name} is given`);
    assert.equal(options[name], value, `${name} is the driver's own default`);
  }
  // And the ones plinth sets from its own options.
  for (const name of ["host", "port", "database", "user", "max", "idle_timeout", "backoff"]) {
    assert.ok(Object.hasOwn(options, name), `${name} is given`);
  }
});

test("driverOptions() lets the driver pass-through options replace those defaults", () => {
  const options = optionsFor({ prepare: false, debug: true, keep_alive: 5, max_pipeline: 1 });
  assert.equal(options.prepare, false);
  assert.equal(options.debug, true);
  assert.equal(options.keep_alive, 5);
  assert.equal(options.max_pipeline, 1);
  assert.equal(options.publications, "alltables");
});
