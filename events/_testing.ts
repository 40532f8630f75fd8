// Helpers for the events tests (not published): loggers that capture lines, the shared NATS
// server, throwaway nats-server processes, polling.
import { createLogger, type Logger } from "@plinth/logging";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A debug-level logger whose lines are parsed into `lines`. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "events-test",
    level: "debug",
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

/** A short random suffix for unique stream, subject and durable names. */
export function uid(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 10);
}

function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.[name];
}

/** Whether the tests run in CI (where an unreachable server is a failure, not a skip). */
export const inCI: boolean = env("CI") === "true";

/** The shared server's URL. */
export const natsUrl: string = env("NATS_URL") ?? "nats://127.0.0.1:4222";

/** Whether a TCP connection to host:port succeeds within 1 s. */
export function reachable(url: string): Promise<boolean> {
  const match = /^(?:nats:\/\/)?([^:/]+):(\d+)/.exec(url);
  if (match === null) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(Number(match[2]), match[1]!, () => done(true));
  });
}

let shared: Promise<boolean> | undefined;

/**
 * Resolves `true` when the shared NATS server answers; otherwise fails in CI and skips (with a
 * printed reason) elsewhere, resolving `false`.
 */
export async function needNats(t: { skip(message?: string): void }): Promise<boolean> {
  shared ??= reachable(natsUrl);
  if (await shared) return true;
  const reason = `NATS is not reachable at ${natsUrl}`;
  if (inCI) throw new Error(`${reason} (required in CI)`);
  console.log(`skipped: ${reason}`);
  t.skip(reason);
  return false;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const NATS_SERVER = "/usr/sbin/nats-server";

/** A throwaway nats-server with JetStream on its own port and store directory. */
export class TestServer {
  readonly port: number;
  readonly dir: string;
  readonly url: string;
  #child: ChildProcess | undefined;

  constructor(port: number) {
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), "plinth-events-nats-"));
    this.url = `nats://127.0.0.1:${port}`;
  }

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    const child = spawn(
      NATS_SERVER,
      ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.dir],
      { stdio: "ignore" },
    );
    this.#child = child;
    await waitFor(() => reachable(this.url), 10_000, "nats-server to start");
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

  /** Stops the server and removes its store. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether this machine can start a throwaway nats-server; prints why not and skips otherwise. */
export async function needNatsServer(t: { skip(message?: string): void }): Promise<boolean> {
  const { existsSync } = await import("node:fs");
  if (existsSync(NATS_SERVER)) return true;
  const reason = `${NATS_SERVER} is not installed`;
  if (inCI) throw new Error(`${reason} (required in CI)`);
  console.log(`skipped: ${reason}`);
  t.skip(reason);
  return false;
}

/** Polls `condition` every 20 ms until it holds, or throws after `timeout` ms. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeout: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
