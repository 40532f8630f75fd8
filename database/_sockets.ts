// The sockets plinth hands to postgres.js: the #1154 write guard, the open count, and what the
// idle sweep needs to know about each connection (when it last sent or received a byte, and
// whether the last message it received says the server is idle outside a transaction).
import { connect as netConnect, type Socket } from "node:net";
import type { Target } from "./_target.ts";

/** One socket of a pool instance whose idle connections plinth closes itself. */
export interface TrackedSocket {
  readonly socket: Socket;
  /** The parsed options of the driver instance that opened it. */
  readonly owner: object;
  /** The sweep tick of its last byte sent or received. */
  io: number;
  /** Whether the last bytes received are a ReadyForQuery with status idle, and nothing was sent since. */
  ready: boolean;
}

/** The open sockets of a pool (all of them counted, those of `owners` tracked for the sweep). */
export class SocketBook {
  /** Sockets connected and not yet closed, whatever instance opened them. */
  count = 0;
  /** Advanced by every idle sweep; what `io` is measured in. */
  tick = 0;
  /** Connected sockets of the instances in `owners`. */
  readonly tracked: Set<TrackedSocket> = new Set();
  /**
   * Parsed options of the driver instances whose sockets are tracked. postgres.js passes an
   * instance's own options object to the socket factory, so the instances it opens on the side
   * (`sql.listen()`, `sql.subscribe()`) have other objects and are never tracked.
   */
  readonly owners: WeakSet<object> = new WeakSet();
}

/** PostgreSQL's Terminate message: `X`, then the length 4. */
export const TERMINATE: Uint8Array = new Uint8Array([0x58, 0, 0, 0, 4]);

/**
 * Whether a chunk the server sent ends with a complete ReadyForQuery message whose status is
 * `I` (idle, not in a transaction block): `Z`, the length 5, the status. A shorter chunk, or
 * one that ends otherwise, is not taken as idle.
 */
export function endsIdle(chunk: Uint8Array): boolean {
  const n = chunk.length;
  return n >= 6 && chunk[n - 1] === 0x49 && chunk[n - 2] === 5 &&
    chunk[n - 3] === 0 && chunk[n - 4] === 0 && chunk[n - 5] === 0 &&
    chunk[n - 6] === 0x5a;
}

/** A caller's own socket factory, the driver's `socket` option. */
export type CustomSocket = (options: object) => Socket | Promise<Socket>;

/**
 * Starts a TCP (or Unix socket) connection and hands it to postgres.js at once (it queues the
 * first writes until connected, and its own connect timer and error handling apply), counting
 * the sockets that are open and tracking those of the instances in `book.owners`. With the
 * caller's own factory (`custom`), its sockets get the same guards and are counted from the
 * moment they are handed over, but never tracked (the driver's idle timer applies then).
 */
export function socketFactory(
  target: Target,
  book: SocketBook,
  custom?: CustomSocket,
): (options?: object) => Socket | Promise<Socket> {
  if (custom !== undefined) {
    return async (options?: object): Promise<Socket> => {
      const socket = await custom(options ?? {});
      if (typeof socket?.once === "function") {
        guard(socket, undefined, book);
        book.count++;
        socket.once("close", () => book.count--);
      }
      return socket;
    };
  }
  return (options?: object): Socket => {
    const socket = target.path
      ? netConnect({
        path: `${target.host.replace(/\/$/, "")}/.s.PGSQL.${target.port}`,
      })
      : netConnect({ host: target.host, port: target.port });
    const entry: TrackedSocket | undefined = options !== undefined && book.owners.has(options)
      ? { socket, owner: options, io: book.tick, ready: false }
      : undefined;
    guard(socket, entry, book);
    if (entry !== undefined) {
      // Registered before the driver's own listener (it adds one once connected); the driver
      // removes it with the others when the connection closes.
      socket.on("data", (chunk: Uint8Array) => {
        entry.io = book.tick;
        entry.ready = endsIdle(chunk);
      });
    }
    socket.once("connect", () => {
      book.count++;
      if (entry !== undefined) book.tracked.add(entry);
      socket.once("close", () => {
        book.count--;
        if (entry !== undefined) book.tracked.delete(entry);
      });
    });
    return socket;
  };
}

/** The #1154 write guard and the late-error listener, on any socket handed to the driver. */
function guard(socket: Socket, entry: TrackedSocket | undefined, book: SocketBook): void {
  // postgres.js writes from a timer (its nextWrite); a write that throws there (a socket the
  // server just closed: its #1154) would be uncatchable. Turn it into the socket's error event,
  // which the driver handles by failing the connection's queries. The driver passes a chunk and
  // an optional callback: fixed parameters, no `arguments` or rest array per call.
  const write = socket.write as (chunk: unknown, callback?: unknown) => boolean;
  socket.write = function (this: Socket, chunk: unknown, callback?: unknown): boolean {
    if (entry !== undefined) {
      entry.io = book.tick;
      entry.ready = false;
    }
    try {
      return callback === undefined ? write.call(this, chunk) : write.call(this, chunk, callback);
    } catch (error) {
      socket.destroy(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  } as Socket["write"];
  // postgres.js removes every listener when a connection closes, so an error the socket emits
  // afterwards ("ended by the other party" from a late write) would be an uncaught exception.
  // Keep one listener that survives: the driver has already failed that connection's queries.
  const ignoreLate = (): void => {};
  socket.on("error", ignoreLate);
  const removeAll = socket.removeAllListeners;
  socket.removeAllListeners = function (this: Socket, ...args: unknown[]): Socket {
    (removeAll as (...a: unknown[]) => Socket).apply(this, args);
    if (args.length === 0 || args[0] === "error") this.on("error", ignoreLate);
    return this;
  } as Socket["removeAllListeners"];
}
