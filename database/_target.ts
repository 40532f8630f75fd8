// Where a connection goes, resolved from a URL or separate parameters, for postgres.js and for
// messages (`host:port/database`, never the password).

/** The connection parameters plinth passes on. */
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string | undefined;
  /** Whether `host` is a Unix socket directory. */
  readonly path: boolean;
  /** `sslmode` from the URL, when given. */
  readonly sslmode: string | undefined;
}

/** Reads a `postgres://` / `postgresql://` URL. */
export function parseDatabaseUrl(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new TypeError(
      "Cannot connect to the database: the URL is not a valid URL",
      { cause },
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new TypeError(
      `Cannot connect to the database: the URL must start with postgres:// or postgresql://, not ${parsed.protocol}//`,
    );
  }
  const socketHost = parsed.searchParams.get("host");
  const host = socketHost ?? decodeURIComponent(parsed.hostname);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  const user = decodeURIComponent(parsed.username);
  return {
    host: host === "" ? "localhost" : host,
    port: parsed.port === "" ? 5432 : Number(parsed.port),
    database: database === "" ? (user === "" ? "postgres" : user) : database,
    user: user === "" ? "postgres" : user,
    password: parsed.password === "" ? undefined : decodeURIComponent(parsed.password),
    path: host.startsWith("/"),
    sslmode: parsed.searchParams.get("sslmode") ?? undefined,
  };
}

/** `host:port/database`, the way messages name a server. */
export function describeTarget(target: Target): string {
  return `${target.host}:${target.port}/${target.database}`;
}
