// The outside world of loadConfig(): files through node:fs and the process environment (read
// one variable at a time, never listed), on Deno, Node and Bun alike. A refused permission is
// reported as such, naming the path or variable and Deno's flag, never as something missing.
// node:fs comes from process.getBuiltinModule, never from an import, so a bundle for an edge
// runtime (esbuild's browser or neutral platform) builds without marking node: external.
import { ConfigError, ConfigParseError } from "./errors.ts";

/** The `node:fs` functions loadConfig() uses. */
export interface FsLike {
  existsSync(path: string): boolean;
  readFileSync(path: string, encoding: "utf8"): string;
  readdirSync(path: string): string[];
}

/**
 * `node:fs` through `process.getBuiltinModule` (Node ≥ 20.16, Deno, Bun, workerd with
 * nodejs_compat), or `undefined` where `scope` offers none.
 */
export function nodeFs(scope: { readonly process?: unknown } = globalThis): FsLike | undefined {
  const process = scope.process as { getBuiltinModule?: unknown } | undefined;
  if (typeof process !== "object" || process === null) return undefined;
  if (typeof process.getBuiltinModule !== "function") return undefined;
  try {
    const fs = process.getBuiltinModule("node:fs") as Partial<FsLike> | undefined;
    return typeof fs?.readFileSync === "function" ? fs as FsLike : undefined;
  } catch {
    return undefined;
  }
}

/** Deno's refusal without `--allow-read`/`--allow-env` (NotCapable; PermissionDenied before 2.0). */
export function isDenoPermissionError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === "NotCapable" || name === "PermissionDenied";
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function loadFs(path: string): FsLike {
  const fs = nodeFs();
  if (fs === undefined) {
    throw new ConfigParseError(
      "no file system is available here (pass dir: null and in-memory files)",
      { code: "config_file_unreadable", file: path },
    );
  }
  return fs;
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
 * Reads a file with `node:fs` (see {@linkcode nodeFs}): its text, or `undefined` when it does
 * not exist.
 */
export function readFileFromDisk(path: string): string | undefined {
  const fs = loadFs(path);
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
export function listDirectory(dir: string): Set<string> | undefined {
  const fs = loadFs(dir);
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

/** Reads one environment variable by name; never lists the environment. */
export type ReadEnv = (name: string) => string | undefined;

/**
 * A reader of single variables: from `env` when given, else from the process environment one
 * name at a time (`process.env[name]`, which Deno checks per variable, so `--allow-env=A,B`
 * suffices), else none (edge runtimes without `process`).
 *
 * @param env The injected variables, or `undefined` for the process environment.
 * @param needed Every name config means to read, listed in the permission hint.
 * @throws {ConfigError} From the reader, with code `config_env_unreadable`, naming the variable
 * and the `--allow-env` list when Deno refuses it.
 */
export function envReader(
  env: Readonly<Record<string, string | undefined>> | undefined,
  needed: readonly string[],
): ReadEnv {
  if (env !== undefined) return (name) => Object.hasOwn(env, name) ? env[name] : undefined;
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const vars = proc?.env;
  if (vars === undefined) return () => undefined;
  return (name) => {
    try {
      const value: unknown = vars[name];
      return typeof value === "string" ? value : undefined; // not Object.prototype's members
    } catch (error) {
      const names = needed.includes(name) ? needed : [...needed, name];
      throw new ConfigError(
        isDenoPermissionError(error)
          ? `Cannot read environment variable ${name}: env permission is missing: run Deno with ` +
            `--allow-env=${names.join(",")}, or pass \`env\``
          : `Cannot read environment variable ${name}: access was denied (pass \`env\`)`,
        { code: "config_env_unreadable", cause: error },
      );
    }
  };
}
