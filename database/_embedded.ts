// The embedded PostgreSQL: PGlite in this process, served over a local TCP socket by
// pglite-socket so that postgres.js talks to it exactly as to a server. Loaded on demand, so a
// service that never uses it never loads the WASM build.
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";

/** A running embedded server. */
export interface EmbeddedServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

interface PGliteLike {
  close(): Promise<void>;
  readonly closed?: boolean;
}

function freePort(): Promise<number> {
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

/** Opens (creating it the first time) the data directory and serves it on 127.0.0.1. */
export async function startEmbedded(dataDir: string): Promise<EmbeddedServer> {
  await mkdir(dataDir, { recursive: true });
  const { PGlite } = await import("@electric-sql/pglite");
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  const db = await PGlite.create(dataDir);
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const server = new PGLiteSocketServer({
      db,
      host: "127.0.0.1",
      port,
      maxConnections: 1,
    });
    try {
      await server.start();
    } catch (error) {
      lastError = error;
      continue;
    }
    let closing: Promise<void> | undefined;
    return {
      host: "127.0.0.1",
      port,
      close(): Promise<void> {
        closing ??= (async () => {
          await server.stop();
          if (!(db as PGliteLike).closed) await db.close();
        })();
        return closing;
      },
    };
  }
  await db.close();
  throw new Error("Cannot serve the embedded database on a local port", {
    cause: lastError,
  });
}
