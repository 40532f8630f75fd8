/**
 * One `serve()` for the three runtimes: `Deno.serve` on Deno, `Bun.serve` on Bun and
 * `@hono/node-server` on Node, each on a Web-standard `fetch` handler, with the same graceful
 * stop: no new connections, requests in flight finished (up to a bound), idle keep-alive
 * connections closed.
 *
 * @module
 */

/** A Web-standard request handler (`app.fetch` of Hono). */
export type Fetch = (request: Request) => Response | Promise<Response>;

/** A listening server. */
export interface Server {
  /** The port it listens on (the one given, or the one the system chose for 0). */
  readonly port: number;
  /**
   * Requests being answered right now: counted from the handler's call until it returned, or,
   * for a streamed body (Server-Sent Events, NDJSON), until the body's end.
   */
  readonly inFlight: number;
  /**
   * Stops accepting connections and waits for the requests in flight, at most `timeout`
   * milliseconds; then closes what is left. Resolves `true` when everything finished in time.
   */
  stop(timeout: number): Promise<boolean>;
}

interface DenoServer {
  readonly addr: { port: number };
  shutdown(): Promise<void>;
}
interface DenoLike {
  serve(
    options: { port: number; hostname: string; onListen: () => void },
    handler: Fetch,
  ): DenoServer;
}
interface BunServer {
  readonly port: number;
  stop(closeActiveConnections?: boolean): Promise<void>;
}
interface BunLike {
  serve(options: { port: number; hostname: string; fetch: Fetch; idleTimeout?: number }): BunServer;
}

/**
 * Media types of bodies sent as a stream, whose end `inFlight` waits for: those whose size
 * `requestLogger()`'s `responseSize: "auto"` counts.
 */
const STREAMED =
  /^\s*(text\/event-stream|application\/(x-)?ndjson|application\/jsonl|application\/x-jsonlines|application\/octet-stream)\s*(;|$)/i;

function streamed(contentType: string | null): boolean {
  return contentType !== null && STREAMED.test(contentType);
}

/**
 * Serves `fetch` on `hostname:port` with the runtime's own server.
 *
 * @param fetch The handler.
 * @param options Host (default `127.0.0.1`) and port (default 0: any free port).
 */
export async function serve(
  fetch: Fetch,
  options: { hostname?: string; port?: number } = {},
): Promise<Server> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  let inFlight = 0;
  const idle = new Set<() => void>();
  // Counted until the handler returned; a streamed body (Server-Sent Events, NDJSON, bytes) until
  // it has been sent or the client went away, so a stream in progress counts as in flight. Other
  // bodies are in memory when the handler returns and are left alone: wrapping one in a stream
  // takes it off the runtime's fast path for a string body, which cost more CPU per request than
  // the whole middleware stack (bench/README.md, service); the server's own stop waits for them.
  const counted: Fetch = async (request) => {
    inFlight++;
    let response: Response;
    try {
      response = await fetch(request);
    } catch (error) {
      done();
      throw error;
    }
    if (!streamed(response.headers.get("content-type")) || response.body === null) {
      queueMicrotask(done);
      return response;
    }
    let finished = false;
    const finish = () => {
      if (!finished) {
        finished = true;
        done();
      }
    };
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({ flush: finish }),
    );
    request.signal.addEventListener("abort", finish, { once: true });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  function done(): void {
    inFlight--;
    if (inFlight === 0) { for (const wake of [...idle]) wake(); }
  }
  function drained(timeout: number): Promise<boolean> {
    if (inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        idle.delete(wake);
        resolve(true);
      };
      const timer = setTimeout(() => {
        idle.delete(wake);
        resolve(false);
      }, timeout);
      idle.add(wake);
    });
  }

  const deno = (globalThis as { Deno?: DenoLike }).Deno;
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  if (deno !== undefined) {
    const server = deno.serve({ port, hostname, onListen: () => {} }, counted);
    return {
      port: server.addr.port,
      get inFlight() {
        return inFlight;
      },
      async stop(timeout) {
        // shutdown() stops listening and waits for every connection, streams included.
        const shutdown = server.shutdown();
        const ok = await drained(timeout);
        if (ok) await shutdown;
        return ok;
      },
    };
  }
  if (bun !== undefined) {
    const server = bun.serve({ port, hostname, fetch: counted, idleTimeout: 0 });
    return {
      port: server.port,
      get inFlight() {
        return inFlight;
      },
      async stop(timeout) {
        const stopping = server.stop(false); // stop listening; requests in flight go on
        const ok = await drained(timeout);
        // Idle keep-alive connections may hold stop(false) open: closed after a short wait.
        const settled = await Promise.race([
          stopping.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ok ? 1000 : 0)),
        ]);
        if (!settled) await server.stop(true);
        return ok;
      },
    };
  }
  const { serve: nodeServe } = await import("@hono/node-server");
  // Node's server.close() stops listening but keeps serving new requests on open keep-alive
  // connections: while stopping, every response says `Connection: close`, and each connection
  // is closed as soon as it is idle.
  let stopping = false;
  const closing: Fetch = async (request) => {
    const response = await counted(request);
    if (stopping) {
      try {
        response.headers.set("connection", "close");
      } catch {
        // Immutable headers (a fetched Response passed through): the idle sweep closes it.
      }
    }
    return response;
  };
  let server!: ReturnType<typeof nodeServe>;
  const bound = await new Promise<number>((resolve) => {
    server = nodeServe({ fetch: closing, port, hostname }, (info) => resolve(info.port));
  });
  const http = server as unknown as {
    close(callback?: () => void): void;
    closeIdleConnections(): void;
    closeAllConnections(): void;
    on(
      event: "request",
      listener: (req: unknown, res: { on(e: "finish", f: () => void): void }) => void,
    ): void;
  };
  http.on("request", (_req, res) => {
    res.on("finish", () => {
      if (stopping) setImmediate(() => http.closeIdleConnections());
    });
  });
  return {
    port: bound,
    get inFlight() {
      return inFlight;
    },
    async stop(timeout) {
      stopping = true;
      const closed = new Promise<void>((done) => http.close(() => done()));
      http.closeIdleConnections();
      const ok = await drained(timeout);
      // Keep-alive connections that became idle after their last response.
      http.closeIdleConnections();
      if (!ok) http.closeAllConnections();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
      return ok;
    },
  };
}
