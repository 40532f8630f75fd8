// The first connection to NATS: bounded in time, each failed attempt logged, and an error that
// names the servers as host:port only (a URL's user, password or token never reaches a message
// or a log line).
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { EventError } from "./errors.ts";
import { describeError } from "./_envelope.ts";
import type { BusLogger } from "./_options.ts";

/** What {@linkcode openConnection} needs besides the servers. */
export interface OpenSettings {
  /** Connection name shown by the server. */
  readonly name: string;
  /** Milliseconds the first connection may take, all attempts included. */
  readonly connectTimeout: number;
  /** Milliseconds between two attempts, and between reconnect attempts later. */
  readonly reconnectWait: number;
  readonly logger: BusLogger;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * `server` without its scheme, split at its last `@`: the credentials (`user[:password]` or a
 * token; `undefined` when there are none) and the rest. The last `@`, not the end of a URL
 * authority: a password written with an unencoded `/`, `?` or `#` would otherwise be taken for
 * a path, and half of it shown as the host.
 */
function splitCredentials(server: string): { credentials: string | undefined; rest: string } {
  const rest = server.trim().replace(SCHEME, "");
  const at = rest.lastIndexOf("@");
  return at < 0
    ? { credentials: undefined, rest }
    : { credentials: rest.slice(0, at), rest: rest.slice(at + 1) };
}

/**
 * `server` as `host:port`, without its scheme, credentials, path or query: what a message or a
 * log line may show. The port defaults to 4222 as in the client.
 */
export function describeServer(server: string): string {
  let rest = splitCredentials(server).rest;
  const end = rest.search(/[/?#]/);
  if (end >= 0) rest = rest.slice(0, end);
  if (rest === "") return "(empty)";
  const bracketed = rest.startsWith("[");
  const hasPort = bracketed ? /\]:\d+$/.test(rest) : /^[^:]*:\d+$/.test(rest);
  if (hasPort) return rest;
  // An IPv6 address without brackets is written with them, as a URL would.
  return bracketed || !rest.includes(":") ? `${rest}:4222` : `[${rest}]:4222`;
}

/**
 * The texts an error about `servers` must not show: each server's credentials, its password
 * (or token) alone, each as written, percent-decoded and percent-encoded; longest first.
 */
function secretsOf(servers: readonly string[]): string[] {
  const secrets = new Set<string>();
  for (const server of servers) {
    const { credentials } = splitCredentials(server);
    if (credentials === undefined || credentials === "") continue;
    const colon = credentials.indexOf(":");
    for (const part of [credentials, credentials.slice(colon + 1)]) {
      if (part.length < 3) continue; // too short to be a secret, and would garble the text
      secrets.add(part);
      secrets.add(encodeURIComponent(part));
      try {
        secrets.add(decodeURIComponent(part));
      } catch {
        // not percent-encoded
      }
    }
  }
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** `text` with every one of `secrets` replaced by `***`. */
function scrub(text: string, secrets: readonly string[]): string {
  let clean = text;
  for (const secret of secrets) clean = clean.replaceAll(secret, "***");
  return clean;
}

/**
 * The cause to attach: the client's error itself when no server carries credentials; otherwise
 * a copy of its name and scrubbed message only. The original may hold the URL anywhere — in its
 * message, its stack, or a property such as Node's `input` of an invalid URL.
 */
function safeCause(error: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0 || error === undefined) return error;
  const copy = new Error(
    scrub(error instanceof Error ? error.message : `thrown value: ${String(error)}`, secrets),
  );
  if (error instanceof Error) copy.name = error.name;
  return copy;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const TIMED_OUT = Symbol("timed out");

/**
 * Connects to the first of `servers` that answers, retrying every `reconnectWait` ms and
 * logging each failed attempt at `warn`, for at most `connectTimeout` ms in all. Once
 * connected, the client reconnects forever on its own.
 *
 * @throws {EventError} `connect_failed` when no server answered in time, naming the servers as
 * `host:port` and the last error (credentials removed).
 */
export async function openConnection(
  servers: readonly string[],
  settings: OpenSettings,
): Promise<NatsConnection> {
  const { connectTimeout, reconnectWait, logger } = settings;
  const target = servers.map(describeServer).join(", ");
  const secrets = secretsOf(servers);
  const started = performance.now();
  const deadline = started + connectTimeout;
  let last: unknown;
  let attempt = 0;
  logger.info("Connecting to NATS", { target, connect_timeout_ms: connectTimeout });
  for (;;) {
    attempt++;
    const pending = connect({
      servers: [...servers],
      name: settings.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: reconnectWait,
      // One dial (TCP and handshake) may take the whole bound, but never more than 20 s, the
      // client's default; the same limit then applies to each reconnect.
      timeout: Math.min(connectTimeout, 20_000),
      noAsyncTraces: true,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), Math.max(deadline - performance.now(), 0));
    });
    try {
      const result = await Promise.race([pending, expired]);
      if (result !== TIMED_OUT) return result;
      // The attempt still runs: close what it opens, whenever that is.
      pending.then((nc) => nc.close(), () => {}).catch(() => {});
      break;
    } catch (error) {
      last = error;
    } finally {
      clearTimeout(timer);
    }
    const left = deadline - performance.now();
    if (left <= 0) break;
    const delay = Math.min(reconnectWait, Math.ceil(left));
    logger.warn("Cannot connect to NATS yet: retrying", {
      target,
      attempt,
      delay_ms: delay,
      error: scrub(describeError(last), secrets),
    });
    await sleep(delay);
    if (performance.now() >= deadline) break;
  }
  const reason = last === undefined
    ? "no answer"
    : `last error: ${scrub(describeError(last), secrets)}`;
  throw new EventError(
    `Cannot connect event bus: NATS at ${target} unreachable after ${attempt} attempt${
      attempt === 1 ? "" : "s"
    } in ${Math.round(performance.now() - started)} ms (connectTimeout): ${reason}`,
    { code: "connect_failed", cause: safeCause(last, secrets) },
  );
}
