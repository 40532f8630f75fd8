// A buffered, synchronous writer to a file descriptor: whole lines only, partial writes
// completed, EAGAIN (a full non-blocking pipe) waited out, never throwing.
import { processObject } from "./_node.ts";

/** The `node:fs` functions the writer needs. */
export interface FsLike {
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
}

/** Settings of an {@linkcode FdWriter}. */
export interface FdWriterSettings {
  /** Where `writeSync` goes. */
  readonly fs: FsLike;
  /** The open file descriptor. */
  readonly fd: number;
  /** Buffered UTF-16 units that trigger a write. */
  readonly bufferSize: number;
  /** Blocks for `ms` milliseconds (waiting for a full pipe to drain). */
  readonly sleep?: ((ms: number) => void) | undefined;
  /** Told once when the descriptor fails for good (the writer then drops lines). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

const encoder = new TextEncoder();
let waitCell: Int32Array | undefined;

function sleepSync(ms: number): void {
  waitCell ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(waitCell, 0, 0, ms);
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
}

/** Buffers lines and writes them to a descriptor at `bufferSize`, on a microtask, or on flush. */
export class FdWriter {
  readonly #settings: FdWriterSettings;
  #buffer = "";
  #scheduled = false;
  #broken = false;
  #closed = false;
  readonly #task = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(settings: FdWriterSettings) {
    this.#settings = settings;
  }

  /** Whether writes are dropped (the descriptor failed, or the writer was closed). */
  get dropping(): boolean {
    return this.#broken || this.#closed;
  }

  /** Adds one complete line. */
  write(line: string): void {
    if (this.#closed) return;
    this.#buffer += line;
    if (this.#buffer.length >= this.#settings.bufferSize) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#task);
    }
  }

  /** Writes everything buffered, synchronously. */
  flush(): void {
    if (this.#buffer === "") return;
    const text = this.#buffer;
    this.#buffer = "";
    if (!this.#broken) this.#writeAll(encoder.encode(text));
  }

  /** Flushes and stops accepting lines. */
  close(): void {
    this.flush();
    this.#closed = true;
  }

  #writeAll(bytes: Uint8Array): void {
    const { fs, fd } = this.#settings;
    const sleep = this.#settings.sleep ?? sleepSync;
    let offset = 0;
    let wait = 1;
    while (offset < bytes.length) {
      try {
        offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
        wait = 1;
      } catch (error) {
        if (codeOf(error) === "EAGAIN" || codeOf(error) === "EWOULDBLOCK") {
          sleep(wait);
          wait = Math.min(wait * 2, 64);
          continue;
        }
        this.#broken = true;
        try {
          this.#settings.onError?.(error);
        } catch {
          // Nowhere left to report to.
        }
        return;
      }
    }
  }
}

const atExit = new Set<{ flush(): void }>();
let hooked = false;

/** Flushes `target` when the process exits (where the runtime emits `exit`). */
export function flushAtExit(target: { flush(): void }): void {
  atExit.add(target);
  if (hooked) return;
  hooked = true;
  try {
    processObject()?.on?.("exit", () => {
      for (const item of atExit) {
        try {
          item.flush();
        } catch {
          // Exiting: nothing else to do.
        }
      }
    });
  } catch {
    // No exit event in this runtime: flush() remains.
  }
}

/** Stops flushing `target` at exit. */
export function forgetAtExit(target: { flush(): void }): void {
  atExit.delete(target);
}
