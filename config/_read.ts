// The outside world of loadConfig(): files through node:fs and the process environment, on
// Deno, Node and Bun alike. A refused permission is reported as such, naming the path and
// Deno's flag, never as a file that is missing.
import { ConfigError, ConfigParseError } from "./errors.ts";

let nodeFs: Promise<typeof import("node:fs")> | undefined;

/** Deno's refusal without `--allow-read`/`--allow-env` (NotCapable; PermissionDenied before 2.0). */
export function isDenoPermissionError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "NotCapable" || name === "PermissionDenied";
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

async function loadFs(path: string): Promise<typeof import("node:fs")> {
  try {
    return await (nodeFs ??= import("node:fs"));
  } catch (error) {
    throw new ConfigParseError(
      "no file system is available here (pass dir: null and in-memory files)",
      { code: "config_file_unreadable", file: path, cause: error },
    );
  }
}

/** What to say when reading `path` was refused by the runtime or the operating system. */
function deniedReason(error: unknown, path: string, what: "file" | "directory"): string {
  if (isDenoPermissionError(error)) {
    return `read permission is missing for this ${what}: run Deno with --allow-read=${path}, ` +
      "or pass dir: null to read no files";
  }
  return `cannot read the ${what}: permission denied (${errorCode(error)})`;
}

function isDenied(error: unknown): boolean {
  const code = errorCode(error);
  return isDenoPermissionError(error) || code === "EACCES" || code === "EPERM";
}

/**
 * Reads a file with `node:fs`, imported on first use: its text, or `undefined` when it does
 * not exist.
 */
export async function readFileFromDisk(path: string): Promise<string | undefined> {
  const fs = await loadFs(path);
  try {
    // Synchronous: a handful of small files at start-up read faster than the thread pool answers.
    // Most candidates (config.yml, .env.local, …) are absent: asking is cheaper than an ENOENT throw.
    if (!fs.existsSync(path)) return undefined;
    return fs.readFileSync(path, "utf8");
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new ConfigParseError(
      isDenied(error)
        ? deniedReason(error, path, "file")
        : `cannot read the file (${code ?? "error"})`,
      { code: "config_file_unreadable", file: path, cause: error },
    );
  }
}

/**
 * The names in a directory, or `undefined` when it cannot be listed for a reason other than a
 * refused permission (then each file is asked for).
 *
 * @throws {ConfigParseError} When reading the directory is not permitted.
 */
export async function listDirectory(dir: string): Promise<Set<string> | undefined> {
  const fs = await loadFs(dir);
  try {
    return new Set(fs.readdirSync(dir));
  } catch (error) {
    if (!isDenied(error)) return undefined;
    throw new ConfigParseError(deniedReason(error, dir, "directory"), {
      code: "config_file_unreadable",
      file: dir === "." ? "./" : dir,
      cause: error,
    });
  }
}

/**
 * A copy of the process environment (`{}` where there is none): the default of the `env`
 * option, read only when the caller passes no `env`.
 *
 * @throws {ConfigError} With code `config_env_unreadable` when reading it is refused.
 */
export function processEnv(): Record<string, string | undefined> {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  if (proc?.env === undefined) return {};
  try {
    return { ...proc.env };
  } catch (error) {
    throw new ConfigError(
      isDenoPermissionError(error)
        ? "Cannot read the environment: env permission is missing: run Deno with --allow-env " +
          "(all of it: config lists every variable), or pass `env`"
        : "Cannot read the environment: access was denied (pass `env`)",
      { code: "config_env_unreadable", cause: error },
    );
  }
}
