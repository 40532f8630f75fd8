// Shared by the tests (not exported from mod.ts): the server URL, skip-or-fail when it is
import process from "node:process";
// unreachable, unique names, a capturing logger and a throwaway PostgreSQL cluster.
import { spawn, spawnSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DatabaseLogger } from "./connect_database.ts";

/** The shared test server. */
export const DATABASE_URL: string = process.env.DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/test";

/** Whether this is CI, where an unreachable server fails the test. */
export const IN_CI: boolean = process.env.CI === "true" ||
  process.env.CI === "1";

/** Which runtime runs the tests. */
export function runtime(): "deno" | "bun" | "node" {
  if ("Deno" in globalThis) return "deno";
  if (process.versions.bun !== undefined) return "bun";
  return "node";
}

/** Node's major version (0 on Deno and Bun). */
export function nodeMajor(): number {
  return runtime() === "node" ? Number(process.versions.node.split(".")[0]) : 0;
}

let reachable: Promise<boolean> | undefined;

/** Whether a TCP connection to the shared server's port succeeds. */
export function serverReachable(): Promise<boolean> {
  reachable ??= new Promise((resolve) => {
    const url = new URL(DATABASE_URL);
    const socket = connect({
      host: url.hostname,
      port: Number(url.port || 5432),
    });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
  return reachable;
}

/** Context with skip (node:test's TestContext, structurally). */
export interface SkipContext {
  skip(message?: string): void;
}

/** True when the test should go on; skips (outside CI) or throws (in CI) when the server is down. */
export async function needServer(t: SkipContext): Promise<boolean> {
  if (await serverReachable()) return true;
  const message = `PostgreSQL at ${new URL(DATABASE_URL).host} is not reachable`;
  if (IN_CI) throw new Error(message);
  console.log(`skipped: ${message}`);
  t.skip(message);
  return false;
}

/** A name no other test (or runtime) uses at the same time. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${runtime()}_${process.pid}_${Date.now().toString(36)}_${
    Math.floor(Math.random() * 1e6)
  }`;
}

/** A logged line. */
export interface LogLine {
  level: string;
  message: string;
  fields: Readonly<Record<string, unknown>>;
}

/** A logger that keeps what it is given. */
export function captureLogger(): DatabaseLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: string) => (message: string, fields: Readonly<Record<string, unknown>> = {}) => {
      lines.push({ level, message, fields });
    };
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

const BIN = "/usr/lib/postgresql/15/bin";

/** A PostgreSQL cluster of its own: initdb'd into a temporary directory, on a free port. */
export class ThrowawayPostgres {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  #asPostgres: boolean;

  private constructor(dir: string, port: number, asPostgres: boolean) {
    this.dir = dir;
    this.port = port;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    this.#asPostgres = asPostgres;
  }

  /** Whether the PostgreSQL 15 binaries are installed. */
  static available(): boolean {
    return spawnSync(`${BIN}/initdb`, ["--version"]).status === 0;
  }

  /** Creates the cluster (not started). */
  static async create(): Promise<ThrowawayPostgres> {
    const asPostgres = process.getuid?.() === 0;
    const dir = mkdtempSync(join(tmpdir(), "plinth-pg-"));
    const port = await freePort();
    const cluster = new ThrowawayPostgres(dir, port, asPostgres);
    try {
      if (asPostgres) {
        const uid = Number(
          spawnSync("id", ["-u", "postgres"]).stdout.toString().trim(),
        );
        const gid = Number(
          spawnSync("id", ["-g", "postgres"]).stdout.toString().trim(),
        );
        chownSync(dir, uid, gid);
      }
      cluster.#run("initdb", [
        "-D",
        join(dir, "data"),
        "-U",
        "postgres",
        "--auth=trust",
        "--no-sync",
        "-E",
        "UTF8",
      ]);
    } catch (error) {
      cluster.remove();
      throw error;
    }
    return cluster;
  }

  #run(tool: string, args: string[]): void {
    const command = this.#asPostgres ? "runuser" : `${BIN}/${tool}`;
    const argv = this.#asPostgres ? ["-u", "postgres", "--", `${BIN}/${tool}`, ...args] : args;
    const result = spawnSync(command, argv, {
      cwd: tmpdir(),
      encoding: "utf8",
    });
    if (result.status !== 0) {
      throw new Error(
        `${tool} failed (${result.status}): ${result.stderr}${result.stdout}`,
      );
    }
  }

  /** Starts the server and waits until it accepts connections. */
  start(): void {
    this.#run("pg_ctl", [
      "-D",
      join(this.dir, "data"),
      "-l",
      join(this.dir, "log"),
      "-w",
      "-t",
      "30",
      "-o",
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      "start",
    ]);
  }

  /** Starts the server without waiting (returns at once). */
  startAsync(): Promise<void> {
    return new Promise((resolve, reject) => {
      const args = [
        "-D",
        join(this.dir, "data"),
        "-l",
        join(this.dir, "log"),
        "-W",
        "-o",
        `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
        "start",
      ];
      const command = this.#asPostgres ? "runuser" : `${BIN}/pg_ctl`;
      const argv = this.#asPostgres ? ["-u", "postgres", "--", `${BIN}/pg_ctl`, ...args] : args;
      const child = spawn(command, argv, { cwd: tmpdir(), stdio: "ignore" });
      child.once("error", reject);
      child.once(
        "exit",
        (code) => code === 0 ? resolve() : reject(new Error(`pg_ctl ${code}`)),
      );
    });
  }

  /** Stops the server (fast mode: clients are disconnected). */
  stop(mode: "fast" | "immediate" = "fast"): void {
    this.#run("pg_ctl", [
      "-D",
      join(this.dir, "data"),
      "-m",
      mode,
      "-w",
      "stop",
    ]);
  }

  /** Stops the server if it runs, and deletes the directory. */
  remove(): void {
    try {
      this.#run("pg_ctl", [
        "-D",
        join(this.dir, "data"),
        "-m",
        "immediate",
        "-w",
        "stop",
      ]);
    } catch {
      // not running
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
