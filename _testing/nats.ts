/**
 * Throwaway NATS servers for tests that need a server to stop, restart or never exist: each
 * {@linkcode TestNatsServer} runs its own `nats-server` with JetStream on its own port and store
 * directory, so the shared server at `natsUrl` is never touched.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inCI, natsUrl, needServer, reachable, type SkipContext, waitFor } from "./mod.ts";

/** Where Debian's `nats-server` package installs the server. */
export const NATS_SERVER = "/usr/sbin/nats-server";

/** The default port of a NATS URL that names none. */
const NATS_PORT = 4222;

/**
 * Resolves `true` when the NATS server at `url` (the shared one by default) answers; otherwise
 * fails in CI and, elsewhere, skips the test with a printed reason and resolves `false`.
 */
export function needNats(t: SkipContext, url: string = natsUrl): Promise<boolean> {
  return needServer(t, "NATS", url, NATS_PORT);
}

/**
 * Resolves `true` when this machine can start a throwaway `nats-server`; otherwise fails in CI
 * and, elsewhere, skips the test with a printed reason and resolves `false`.
 */
export function needNatsServer(t: SkipContext): Promise<boolean> {
  if (existsSync(NATS_SERVER)) return Promise.resolve(true);
  const reason = `${NATS_SERVER} is not installed`;
  if (inCI) return Promise.reject(new Error(`${reason} (required in CI)`));
  console.log(`skipped: ${reason}`);
  t.skip(reason);
  return Promise.resolve(false);
}

/** A throwaway `nats-server` with JetStream on 127.0.0.1:`port` and its own store directory. */
export class TestNatsServer {
  /** The port it listens on. */
  readonly port: number;
  /** Its JetStream store directory, removed by {@linkcode TestNatsServer.dispose}. */
  readonly dir: string;
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  #child: ChildProcess | undefined;

  /** Prepares a server on `port` (see `freePort()`); nothing runs until `start()`. */
  constructor(port: number) {
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), "plinth-nats-"));
    this.url = `nats://127.0.0.1:${port}`;
  }

  /** Starts the server and waits (up to 10 s) until it accepts connections. */
  async start(): Promise<void> {
    this.#child = spawn(
      NATS_SERVER,
      ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.dir],
      { stdio: "ignore" },
    );
    await waitFor(() => reachable(this.url, NATS_PORT), 10_000, "nats-server to start");
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the server and removes its store directory. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The same as {@linkcode TestNatsServer.dispose}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
