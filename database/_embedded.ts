// What the main entry point knows of the embedded database: a server to close with the pool, handed
// over by connectEmbedded() of ./connect_embedded.ts. Nothing here loads PGlite: it is in the
// module graph of @plinth/database, which must not reference PGlite at all (embedded_test.ts
// checks).

/** A running embedded server: the pool that uses it closes it last. */
export interface EmbeddedServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Servers started by connectEmbedded(), keyed by the options object it passes to connectDatabase(). */
const lent = new WeakMap<object, EmbeddedServer>();

/** Hands `server` to the connectDatabase() call that receives `options`. */
export function lendServer(options: object, server: EmbeddedServer): void {
  lent.set(options, server);
}

/** The server connectEmbedded() handed over with `options`, if any (taken once). */
export function takeServer(options: object): EmbeddedServer | undefined {
  const server = lent.get(options);
  lent.delete(options);
  return server;
}

/** The TypeError of an option that moved to `@plinth/database/embedded`. */
export function movedToEmbedded(option: string): TypeError {
  return new TypeError(
    `Cannot connect to the database: option "${option}" is not known; the embedded database is connectEmbedded() of "@plinth/database/embedded"`,
  );
}
