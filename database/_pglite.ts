// PGlite in this process, served on 127.0.0.1 by pglite-socket so that postgres.js talks to it
// as to any server. Reached only from @plinth/database/embedded: the optional peer dependencies
// are imported when a database is started, so a missing one is an error that says what to install.
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import type { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import type { DatabaseLogger } from "./database.ts";
import { DatabaseError } from "./database_error.ts";
import type { EmbeddedServer } from "./_embedded.ts";
import { errorMessage } from "./_message.ts";

/** The two optional peer dependencies' entry points. */
export interface PgliteModules {
  readonly PGlite: Pick<typeof PGlite, "create">;
  readonly PGLiteSocketServer: typeof PGLiteSocketServer;
}

/** Imports PGlite and its socket server (the optional peer dependencies). */
export async function loadPglite(): Promise<PgliteModules> {
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("@electric-sql/pglite-socket"),
  ]);
  return { PGlite, PGLiteSocketServer };
}

/** What startPglite() needs besides the data directory. */
export interface StartPgliteOptions {
  readonly logger: DatabaseLogger;
  readonly now: () => number;
  /** Where PGlite comes from (tests replace it). */
  readonly load?: () => Promise<PgliteModules>;
}

/** The file PostgreSQL writes when it initialises a data directory. */
const CLUSTER_MARK = "PG_VERSION";

export const INSTALL_HINT = "npm i @electric-sql/pglite @electric-sql/pglite-socket";

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

/** Whether a failed import was of a module that is not installed. */
function isMissingModule(error: unknown): boolean {
  const code = codeOf(error);
  if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") return true;
  return /cannot find (module|package)|could not (find|resolve)|not found/i.test(
    errorMessage(error),
  );
}

/** The DatabaseError of a start that failed. */
function failure(detail: string, cause: unknown): DatabaseError {
  return new DatabaseError(`Cannot start the embedded database: ${detail}`, {
    code: "connect_failed",
    cause,
  });
}

/**
 * What a refused permission was for, named without the data directory's path (a config value):
 * the data directory, PGlite's own files, the local socket, or the resource the runtime named.
 */
function resourceOf(resource: string, dataDir: string, kind: string): string {
  if (resource.startsWith(dataDir)) return 'the data directory (option "dataDir")';
  if (resource.includes("@electric-sql")) return "PGlite's files in its package directory";
  if (kind === "net" || resource.startsWith("127.0.0.1")) return "127.0.0.1 (the local socket)";
  return resource === "" ? "a resource" : `"${resource}"`;
}

/**
 * The error of a start refused by a permission: Deno's (NotCapable, PermissionDenied before 2.0),
 * Node's permission model (ERR_ACCESS_DENIED) or the operating system's (EACCES, EPERM, EROFS),
 * naming the permission and what it was for. Any other error is wrapped as it is.
 */
export function startFailure(error: unknown, dataDir: string): DatabaseError {
  const name = (error as { name?: unknown } | null)?.name;
  const message = errorMessage(error);
  if (name === "NotCapable" || name === "PermissionDenied") {
    const match = /Requires (\w+) access to "([^"]*)".*?(--allow-[\w-]+)/s.exec(message);
    if (match !== null) {
      const [, kind, resource, flag] = match as unknown as [string, string, string, string];
      return failure(
        `Deno denied ${kind} access to ${
          resourceOf(resource, dataDir, kind)
        }: run it with ${flag}` +
          " (the README lists the permissions of the embedded database)",
        error,
      );
    }
    return failure(`Deno denied a permission: ${message}`, error);
  }
  const code = codeOf(error);
  if (code === "ERR_ACCESS_DENIED") {
    const permission = String((error as { permission?: unknown }).permission ?? "");
    const resource = String((error as { resource?: unknown }).resource ?? "");
    const flag = permission === "FileSystemRead"
      ? "--allow-fs-read"
      : permission === "FileSystemWrite"
      ? "--allow-fs-write"
      : `the permission for ${permission || "it"}`;
    return failure(
      `Node's permission model denied ${permission || "access"} to ${
        resourceOf(resource, dataDir, "")
      }: run it with ${flag}`,
      error,
    );
  }
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return failure(
      `the operating system denied access to the data directory (option "dataDir"): ${code}`,
      error,
    );
  }
  return failure(message, error);
}

/** A permission of Deno's API, as `Deno.permissions` takes it. */
type Descriptor =
  | { readonly name: "read" | "write"; readonly path: string }
  | { readonly name: "net"; readonly host: string };

/** The part of `Deno.permissions` used here (feature-detected: absent on Node and Bun). */
interface DenoPermissions {
  querySync(descriptor: Descriptor): { readonly state: string };
  requestSync(descriptor: Descriptor): { readonly state: string };
}

/** PGlite's files (its WASM builds and file system bundle): the folder of its entry module. */
function pgliteDir(): string | undefined {
  try {
    const entry = import.meta.resolve("@electric-sql/pglite");
    return entry.startsWith("file:") ? fileURLToPath(new URL(".", entry)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * On Deno, the permissions the embedded database needs and does not have, asked for up front:
 * PGlite and the socket server hit a refused permission in callbacks whose errors cannot be
 * caught (an uncaught exception would end the process), so they must not start without them.
 * A permission in the "prompt" state is requested (Deno asks on a terminal, or refuses at once
 * with `--no-prompt`). Empty on Node and Bun.
 */
export function missingDenoPermissions(
  dataDir: string,
  permissions: DenoPermissions | undefined =
    (globalThis as { Deno?: { permissions?: DenoPermissions } }).Deno?.permissions,
): string[] {
  if (typeof permissions?.querySync !== "function") return [];
  const wanted: [Descriptor, string][] = [
    [{ name: "read", path: dataDir }, 'read access to the data directory (option "dataDir")'],
    [{ name: "write", path: dataDir }, 'write access to the data directory (option "dataDir")'],
    [{ name: "net", host: "127.0.0.1" }, "net access to 127.0.0.1 (the local socket)"],
  ];
  const files = pgliteDir();
  if (files !== undefined) {
    wanted.push([
      { name: "read", path: files },
      "read access to PGlite's files in its package directory",
    ]);
  }
  const missing: string[] = [];
  for (const [descriptor, what] of wanted) {
    let state = permissions.querySync(descriptor).state;
    if (state === "prompt") state = permissions.requestSync(descriptor).state;
    if (state !== "granted") missing.push(what);
  }
  return missing;
}

/** The DatabaseError naming the Deno permissions that are missing, and their flags. */
function missingPermissionsFailure(missing: readonly string[]): DatabaseError {
  const flags = [
    ...new Set(missing.map((m) => `--allow-${m.slice(0, m.indexOf(" "))}`)),
  ];
  return failure(
    `Deno denies ${missing.join(", ")}: run it with ${flags.join(", ")}` +
      " (the README lists the permissions of the embedded database)",
    undefined,
  );
}

/** Whether `dataDir` holds an initialised cluster (false when it does not exist yet). */
async function initialised(dataDir: string): Promise<boolean> {
  try {
    await stat(join(dataDir, CLUSTER_MARK));
    return true;
  } catch (error) {
    if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") return false;
    throw error;
  }
}

/**
 * Opens (creating and initialising it the first time) the data directory with PGlite and serves
 * it on 127.0.0.1 on a port the system picks, one connection at a time. Logs its progress: the
 * start (with a warning that a first start takes seconds), PGlite ready with its duration, and the
 * address it listens on.
 */
export async function startPglite(
  dataDir: string,
  options: StartPgliteOptions,
): Promise<EmbeddedServer> {
  const { logger, now } = options;
  const started = now();
  const missing = missingDenoPermissions(dataDir);
  if (missing.length > 0) throw missingPermissionsFailure(missing);
  let modules: PgliteModules;
  try {
    modules = await (options.load ?? loadPglite)();
  } catch (error) {
    throw isMissingModule(error)
      ? failure(
        `its optional peer dependencies @electric-sql/pglite and @electric-sql/pglite-socket are not installed: ${INSTALL_HINT}`,
        error,
      )
      : failure(`cannot load PGlite: ${errorMessage(error)}`, error);
  }
  let first: boolean;
  try {
    first = !(await initialised(dataDir));
    if (first) {
      logger.info(
        "Creating the embedded database: the first start of a data directory initialises PostgreSQL and takes several seconds",
        { data_dir: dataDir },
      );
      await mkdir(dataDir, { recursive: true });
    } else {
      logger.info("Starting the embedded database", { data_dir: dataDir });
    }
  } catch (error) {
    throw startFailure(error, dataDir);
  }
  let db: PGlite;
  try {
    db = await modules.PGlite.create(dataDir);
  } catch (error) {
    throw startFailure(error, dataDir);
  }
  logger.info("PGlite ready", {
    duration_ms: Math.round(now() - started),
    first_start: first,
  });
  const server = new modules.PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port: 0,
    maxConnections: 1,
  });
  try {
    await server.start();
  } catch (error) {
    await db.close().catch(() => {});
    throw startFailure(error, dataDir);
  }
  // "127.0.0.1:<port>", the port the system picked.
  const address = server.getServerConn();
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  logger.info("Embedded database listening", { address, host: "127.0.0.1", port });
  let closing: Promise<void> | undefined;
  return {
    host: "127.0.0.1",
    port,
    close(): Promise<void> {
      closing ??= (async () => {
        try {
          await server.stop();
        } finally {
          if (!db.closed) await db.close();
        }
        logger.debug("Embedded database stopped", { address });
      })();
      return closing;
    },
  };
}
