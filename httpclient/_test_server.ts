// Test support: a loopback HTTP server (node:http, so it runs on Deno, Bun and Node) that counts
// requests and tracks its sockets, so a test can assert that nothing was left open.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Buffer } from "node:buffer";

export interface TestServer {
  readonly url: string;
  /** Requests received so far, by path. */
  readonly hits: Map<string, number>;
  /** Request headers of every request, in order. */
  readonly seen: {
    path: string;
    method: string;
    headers: IncomingMessage["headers"];
    body: string;
  }[];
  /** Sockets currently open. */
  openSockets(): number;
  close(): Promise<void>;
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  hit: number,
) => unknown;

export async function startServer(handler: Handler): Promise<TestServer> {
  const hits = new Map<string, number>();
  const seen: TestServer["seen"] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const hit = (hits.get(path) ?? 0) + 1;
      hits.set(path, hit);
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ path, method: req.method ?? "", headers: req.headers, body });
      Promise.resolve(handler(req, res, body, hit)).catch((error) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    hits,
    seen,
    openSockets: () => {
      let open = 0;
      for (const s of sockets) if (!s.destroyed) open++;
      return open;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * How long a test waits for the upstream to see a socket closed. Node's fetch (undici) may keep
 * the socket of an aborted request open for a few seconds (Node 24: 4 s before the headers;
 * Node 20: 3 s, body too), though the process exits at once (exit_test.ts); Deno and Bun close it
 * at once.
 */
export const SOCKET_GRACE = 6000;

/** Resolves when `condition()` holds, or rejects after `ms`. */
export async function eventually(condition: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A logger that keeps its lines. */
export function memoryLogger(): {
  lines: { level: string; message: string; fields: Record<string, unknown> | undefined }[];
  debug(m: string, f?: Record<string, unknown>): void;
  info(m: string, f?: Record<string, unknown>): void;
  warn(m: string, f?: Record<string, unknown>): void;
  error(m: string, f?: Record<string, unknown>): void;
} {
  const lines: { level: string; message: string; fields: Record<string, unknown> | undefined }[] =
    [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push({ level, message, fields });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
