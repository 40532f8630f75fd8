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
 * `server` as `host:port`, without its scheme, credentials, path or query: what a message or a
 * log line may show. The port defaults to 4222 as in the client.
 */
export function describeServer(server: string): string {
  let rest = server.trim().replace(SCHEME, "");
  const end = rest.search(/[/?#]/);
  if (end >= 0) rest = rest.slice(0, end);
  const at = rest.lastIndexOf("@");
  if (at >= 0) rest = rest.slice(at + 1);
  if (rest === "") return "(empty)";
  const bracketed = rest.startsWith("[");
  const hasPort = bracketed ? /\]:\d+$/.test(rest) : /^[^:]*:\d+$/.test(rest);
  if (hasPort) return rest;
  // An IPv6 address without brackets is written with them, as a URL would.
  return bracketed || !rest.includes(":") ? `${rest}:4222` : `[${rest}]:4222`;
}

/** Removes every `user[:password]@` part of `servers` from `text`. */
function scrub(text: string, servers: readonly string[]): string {
  let clean = text;
  for (const server of servers) {
    const rest = server.trim().replace(SCHEME, "");
    const end = rest.search(/[/?#]/);
    const authority = end >= 0 ? rest.slice(0, end) : rest;
    const at = authority.lastIndexOf("@");
    if (at > 0) clean = clean.replaceAll(authority.slice(0, at), "***");
  }
  return clean;
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
      error: scrub(describeError(last), servers),
    });
    await sleep(delay);
    if (performance.now() >= deadline) break;
  }
  const reason = last === undefined
    ? "no answer"
    : `last error: ${scrub(describeError(last), servers)}`;
  throw new EventError(
    `Cannot connect event bus: NATS at ${target} unreachable after ${attempt} attempt${
      attempt === 1 ? "" : "s"
    } in ${Math.round(performance.now() - started)} ms (connectTimeout): ${reason}`,
    { code: "connect_failed", cause: last },
  );
}
