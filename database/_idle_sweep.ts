// plinth's idle-connection close, in place of the driver's idle timer (which postgres.js re-arms
// on every query): which connections are idle, and how one is closed.
// node:timers, not the globals: on every runtime its timers have unref(), so nothing here keeps a
// process alive (Deno's global timers are numbers).
import * as timers from "node:timers";
import { type SocketBook, TERMINATE, type TrackedSocket } from "./_sockets.ts";

/** Idle sweeps per `idleTimeout`: a connection closes between 1 and 1.25 idle timeouts after its last byte. */
export const SWEEPS = 4;

/** How long an idle connection being closed may take to close before its socket is destroyed. */
export const CLOSE_BOUND = 1_000;

/**
 * Closes an idle connection: sends Terminate and ends the socket, destroys it if it has not
 * closed within `CLOSE_BOUND`, and calls `done` once (when the driver has seen it close).
 */
export function closeIdle(entry: TrackedSocket, done: () => void): void {
  const socket = entry.socket;
  let finished = false;
  let grace: ReturnType<typeof timers.setTimeout> | undefined;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    timers.clearTimeout(bound);
    if (grace !== undefined) timers.clearTimeout(grace);
    done();
  };
  // Registered after the driver's own close listener, so it runs once the driver has moved the
  // connection to its closed ones.
  socket.once("close", finish);
  const bound = timers.setTimeout(() => {
    socket.destroy();
    // A destroyed socket emits close on a later turn; do not wait for it forever.
    grace = timers.setTimeout(finish, 100);
    grace.unref();
  }, CLOSE_BOUND);
  bound.unref();
  socket.end(TERMINATE);
}

/**
 * The connections of the driver instance `owner` that have been idle for more than `SWEEPS`
 * sweeps and last received a ReadyForQuery with status idle; undefined when there are none.
 */
export function idleConnections(book: SocketBook, owner: object): TrackedSocket[] | undefined {
  let idle: TrackedSocket[] | undefined;
  for (const entry of book.tracked) {
    if (entry.owner === owner && entry.ready && book.tick - entry.io > SWEEPS) {
      (idle ??= []).push(entry);
    }
  }
  return idle;
}
