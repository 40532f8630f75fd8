// Where a connection goes, resolved from a URL or separate parameters, for postgres.js and for
// messages (`host:port/database`, never the password). No error made here carries the URL's text,
// nor a cause that does (Deno's `Invalid URL: '<the whole URL>'`).

/** The connection parameters plinth passes on. */
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** A string, or the driver's function returning one (options only, never from a URL). */
  readonly password: string | (() => string | Promise<string>) | undefined;
  /** Whether `host` is a Unix socket directory. */
  readonly path: boolean;
  /** `sslmode` from the URL, when given (one of {@linkcode SSLMODES}). */
  readonly sslmode: string | undefined;
}

/** The `sslmode` values libpq accepts; any other is refused, as libpq does. */
export const SSLMODES: readonly string[] = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
];

function invalid(rule: string): TypeError {
  return new TypeError(`Cannot connect to the database: ${rule}`);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    // The URIError carries no cause worth keeping, and on some runtimes it quotes the input.
    throw invalid(`the URL's ${what} is not valid percent-encoding`);
  }
}

/** Reads a `postgres://` / `postgresql://` URL. */
export function parseDatabaseUrl(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not `{ cause }`: the runtime's error quotes the whole URL, password included (Deno).
    throw invalid("the URL is not a valid URL");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw invalid("the URL must start with postgres:// or postgresql://");
  }
  const sslmode = parsed.searchParams.get("sslmode") ?? undefined;
  if (sslmode !== undefined && !SSLMODES.includes(sslmode)) {
    throw invalid(
      `the URL parameter "sslmode" must be one of ${SSLMODES.join(", ")}`,
    );
  }
  const socketHost = parsed.searchParams.get("host");
  const host = socketHost ?? decode(parsed.hostname, "host");
  const database = decode(parsed.pathname.replace(/^\//, ""), "database name");
  const user = decode(parsed.username, "user name");
  return {
    host: host === "" ? "localhost" : host,
    port: parsed.port === "" ? 5432 : Number(parsed.port),
    database: database === "" ? (user === "" ? "postgres" : user) : database,
    user: user === "" ? "postgres" : user,
    password: parsed.password === "" ? undefined : decode(parsed.password, "password"),
    path: host.startsWith("/"),
    sslmode,
  };
}

/** `host:port/database`, the way messages name a server. */
export function describeTarget(target: Target): string {
  return `${target.host}:${target.port}/${target.database}`;
}
