/**
 * A throwaway PostgreSQL cluster for fault tests (a server the test may stop and restart,
 * never the shared one), and the skip-or-fail check for the shared server.
 *
 * @module
 */
import process from "node:process";
import { spawn, spawnSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { databaseUrl, freePort, needServer, type SkipContext } from "./mod.ts";

/**
 * Resolves `true` when the shared PostgreSQL (`DATABASE_URL`) accepts connections; otherwise
 * fails in CI, or skips the test with a printed reason and resolves `false`.
 */
export function needPostgres(t: SkipContext): Promise<boolean> {
  return needServer(t, "PostgreSQL", databaseUrl, 5432);
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
