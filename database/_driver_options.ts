// The postgres.js options plinth passes through to the driver as given, and the driver's names
// for settings plinth owns, which are refused with the plinth option to use instead.

/** Driver options passed to postgres.js unchanged (the README's table says what each does). */
export const PASSED_OPTIONS: readonly string[] = [
  "transform",
  "types",
  "prepare",
  "debug",
  "onnotice",
  "onnotify",
  "onparameter",
  "onclose",
  "connection",
  "socket",
  "target_session_attrs",
  "keep_alive",
  "max_pipeline",
  "publications",
  "fetch_types",
  "sslnegotiation",
  "no_subscribe",
];

/** Driver option names plinth owns, with the plinth option that sets the same thing. */
const OWNED_OPTIONS: Readonly<Record<string, string>> = {
  idle_timeout: '"idleTimeout" (milliseconds)',
  timeout: '"idleTimeout" (milliseconds)',
  connect_timeout: '"connectTimeout" (milliseconds)',
  max_lifetime: '"maxLifetime" (milliseconds)',
  backoff: '"retry"',
  username: '"user"',
  pass: '"password"',
  db: '"database"',
  hostname: '"host"',
  path: '"host" (the socket directory)',
  no_prepare: '"prepare: false"',
};

/** Checks that function-valued options are functions. */
const FUNCTIONS = ["onnotice", "onnotify", "onparameter", "onclose", "socket"];

/**
 * The driver options of `options` to pass on, checked once: a driver name for a setting plinth
 * owns, or a callback that is not a function, is a `TypeError` naming the option.
 */
export function driverPassThrough(
  options: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  for (const name of Object.keys(OWNED_OPTIONS)) {
    if (options[name] !== undefined) {
      throw new TypeError(
        `Cannot connect to the database: option "${name}" is set by plinth; use ${
          OWNED_OPTIONS[name]
        }`,
      );
    }
  }
  const passed: Record<string, unknown> = {};
  for (const name of PASSED_OPTIONS) {
    const value = options[name];
    if (value === undefined) continue;
    if (FUNCTIONS.includes(name) && typeof value !== "function") {
      throw new TypeError(
        `Cannot connect to the database: option "${name}" must be a function`,
      );
    }
    if (
      (name === "transform" || name === "types" || name === "connection") &&
      (typeof value !== "object" || value === null)
    ) {
      throw new TypeError(
        `Cannot connect to the database: option "${name}" must be an object`,
      );
    }
    passed[name] = value;
  }
  return passed;
}
