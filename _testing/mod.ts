/**
 * Test support shared by every plinth package's tests: which runtime runs them, free ports,
 * reachability of the real servers (a skip with a printed reason outside CI, a failure in CI),
 * bounded waits on a condition, unique names and a logger that keeps its lines.
 *
 * Not a package: this folder is no workspace member, so nothing here is ever published. Tests
 * import it by name, `@plinth/testing` (the root import map for Deno, an npm workspace link
 * for Node and Bun). The throwaway servers live beside it: `postgres.ts` and `nats.ts`.
 *
 * @module
 */
import process from "node:process";
import { connect, createServer } from "node:net";

/** Whether the tests run in CI, where an unreachable server is a failure, not a skip. */
export const inCI: boolean = process.env.CI === "true" || process.env.CI === "1";

/** The shared PostgreSQL server the integration tests use. */
export const databaseUrl: string = process.env.DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/test";

/** The shared NATS (JetStream) server the integration tests use. */
export const natsUrl: string = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

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

/**
 * The command that runs `script` as a child process on the runtime running the tests: `deno run
 * -A` on Deno, Bun itself, Node with type stripping from 23 on, else with tsx.
 */
export function childCommand(script: string): [string, string[]] {
  switch (runtime()) {
    case "deno":
      return [process.execPath, ["run", "-A", script]];
    case "bun":
      return [process.execPath, [script]];
    default:
      return [process.execPath, nodeMajor() >= 23 ? [script] : ["--import", "tsx", script]];
  }
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

/**
 * Whether a TCP connection to the host and port of `url` succeeds within `timeout` ms.
 * `defaultPort` is used when the URL names none.
 */
export function reachable(url: string, defaultPort: number, timeout = 1000): Promise<boolean> {
  let host: string;
  let port: number;
  try {
    const parsed = new URL(url);
    host = parsed.hostname.replace(/^\[|\]$/g, "");
    port = Number(parsed.port || defaultPort);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeout, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** What a test needs to skip itself: node:test's `TestContext`, structurally. */
export interface SkipContext {
  skip(message?: string): void;
}

const checked = new Map<string, Promise<boolean>>();

/**
 * Resolves `true` when the server at `url` accepts connections. Otherwise it fails in CI and,
 * elsewhere, skips the test with a printed reason and resolves `false`.
 */
export async function needServer(
  t: SkipContext,
  what: string,
  url: string,
  defaultPort: number,
): Promise<boolean> {
  let probe = checked.get(url);
  if (probe === undefined) {
    probe = reachable(url, defaultPort, 2000);
    checked.set(url, probe);
  }
  if (await probe) return true;
  let where = "its address";
  try {
    where = new URL(url).host;
  } catch { /* keep the generic wording */ }
  const reason = `${what} is not reachable at ${where}`;
  if (inCI) throw new Error(`${reason} (required in CI)`);
  console.log(`skipped: ${reason}`);
  t.skip(reason);
  return false;
}

/** Polls `condition` every 20 ms until it holds, or throws after `timeout` ms naming `what`. */
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

/** Resolves after `ms` milliseconds (for pacing, never before an absence check). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A name no other test, runtime or process uses at the same time. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${runtime()}_${process.pid}_${Date.now().toString(36)}_${
    Math.floor(Math.random() * 1e6)
  }`;
}

/** A line kept by {@linkcode captureLogger}. */
export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: Readonly<Record<string, unknown>>;
}

/** A structural logger (`debug`/`info`/`warn`/`error`) that keeps what it is given in `lines`. */
export interface CaptureLogger {
  readonly lines: LogLine[];
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** A logger that keeps every call as a {@linkcode LogLine}. */
export function captureLogger(): CaptureLogger {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine["level"]) =>
    (message: string, fields: Readonly<Record<string, unknown>> = {}): void => {
      lines.push({ level, message, fields });
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
