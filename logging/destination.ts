import { FdWriter, flushAtExit, forgetAtExit, type FsLike } from "./_fd_writer.ts";
import { builtin } from "./_node.ts";
import { LoggingError } from "./logging_error.ts";

/**
 * Where a logger writes: anything with a `write(line)` method. Every call gets one complete
 * line that ends in `"\n"`; `flush()`, when present, is called by the logger's `flush()` and
 * after `fatal()`.
 *
 * @example
 * ```ts
 * import { createLogger, type LogWriter } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const writer: LogWriter = { write: (line) => lines.push(line) };
 * createLogger({ service: "svc", destination: writer }).info("hello");
 * assert.ok(lines[0]!.endsWith("}\n"));
 * ```
 */
export interface LogWriter {
  /** Takes one complete JSON line, `"\n"` included. Should not throw (if it does, the line is lost). */
  write(line: string): unknown;
  /** Writes out anything buffered. */
  flush?(): unknown;
}

/**
 * A buffered destination on a file descriptor: lines are collected and written in whole-line
 * chunks when the buffer fills, at the end of the current task (a microtask), on `flush()` and
 * when the process exits. Writes are synchronous: a full pipe (`EAGAIN`) is waited out, so no
 * line is lost or cut, at the cost of blocking while the reader lags.
 *
 * @example
 * ```ts
 * import { type LogDestination, stdoutDestination } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const destination: LogDestination = stdoutDestination();
 * assert.equal(typeof destination.flush, "function");
 * ```
 */
export interface LogDestination extends LogWriter {
  /** Writes out anything buffered, synchronously. */
  flush(): void;
  /**
   * Flushes, releases the descriptor (files only) and drops later lines. The work is done
   * when the call returns; the promise is for `await using` and uniform `close()` handling.
   * Closing twice is harmless.
   */
  close(): Promise<void>;
  /** The same as {@linkcode LogDestination.close}, so `await using` closes the destination. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Options of {@linkcode fileDestination}.
 *
 * @example
 * ```ts
 * import { fileDestination, type FileDestinationOptions } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * const options: FileDestinationOptions = { bufferSize: 16384 };
 * const destination = fileDestination("/dev/null", options);
 * destination.write("{}\n");
 * await destination.close();
 * assert.ok(true);
 * ```
 */
export interface FileDestinationOptions {
  /** Buffered UTF-16 units that trigger a write (0 writes every line at once). @default {4096} */
  readonly bufferSize?: number | undefined;
}

interface FileFs extends FsLike {
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
}

class FdDestination implements LogDestination {
  readonly #writer: FdWriter;
  readonly #release: (() => void) | undefined;
  #closed = false;

  constructor(writer: FdWriter, release?: () => void) {
    this.#writer = writer;
    this.#release = release;
    flushAtExit(this);
  }

  write(line: string): void {
    this.#writer.write(line);
  }

  flush(): void {
    this.#writer.flush();
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#writer.close();
      forgetAtExit(this);
      try {
        this.#release?.();
      } catch {
        // The descriptor is gone either way.
      }
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

class ConsoleDestination implements LogDestination {
  write(line: string): void {
    console.log(line.endsWith("\n") ? line.slice(0, -1) : line);
  }
  flush(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return Promise.resolve();
  }
}

function reportOnce(what: string): (error: unknown) => void {
  return (error) => {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(`Cannot write log lines to ${what}: ${reason}; dropping further lines`);
  };
}

let stdout: LogDestination | undefined;

/**
 * The process's standard output, shared by every logger that writes there (the default
 * destination). On runtimes with `node:fs` (Node, Deno, Bun) it writes descriptor 1 through a
 * {@linkcode LogDestination} buffer; elsewhere (edge runtimes) it falls back to `console.log`.
 * `close()` (and `[Symbol.asyncDispose]()`) on it only flushes: descriptor 1 stays open.
 *
 * @returns The shared destination, created on first call.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { stdoutDestination } from "@plinth/logging";
 * import assert from "node:assert/strict";
 *
 * assert.equal(stdoutDestination(), stdoutDestination());
 * ```
 */
export function stdoutDestination(): LogDestination {
  if (stdout !== undefined) return stdout;
  const fs = builtin<FsLike>("node:fs");
  if (fs === undefined || typeof fs.writeSync !== "function") {
    stdout = new ConsoleDestination();
    return stdout;
  }
  const writer = new FdWriter({ fs, fd: 1, bufferSize: 4096, onError: reportOnce("stdout") });
  const shared = new FdDestination(writer);
  const flushOnly = (): Promise<void> => {
    shared.flush();
    return Promise.resolve();
  };
  stdout = {
    write: (line: string) => shared.write(line),
    flush: () => shared.flush(),
    close: flushOnly,
    [Symbol.asyncDispose]: flushOnly,
  };
  return stdout;
}

/**
 * A file opened for appending (created when missing), written through a buffer that is
 * flushed when full, at the end of each task, on `flush()`/`close()` and at process exit.
 * `node:fs` is loaded only when this is called. `close()` (or `await using`) releases the
 * descriptor.
 *
 * @param path The file's path.
 * @param options Buffer size.
 * @returns The destination; call `close()` when done with it (or declare it with `await using`).
 * @throws {TypeError} When `path` is not a non-empty string, or the runtime has no `node:fs`.
 * @throws {RangeError} When `bufferSize` is not a non-negative integer.
 * @throws {LoggingError} When the file cannot be opened (`log_file_unavailable`; the cause says why).
 *
 * @example
 * ```ts
 * import { createLogger, fileDestination } from "@plinth/logging";
 * import { mkdtempSync, readFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const path = join(mkdtempSync(join(tmpdir(), "log-")), "app.log");
 * const destination = fileDestination(path);
 * const logger = createLogger({ service: "svc", destination });
 * logger.info("to the file");
 * await logger.flush();
 * await destination.close();
 * assert.equal(JSON.parse(readFileSync(path, "utf8")).message, "to the file");
 * ```
 *
 * @example Closed by `[Symbol.asyncDispose]()`, which `await using` calls
 * ```ts
 * import { fileDestination } from "@plinth/logging";
 * import { mkdtempSync, readFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const path = join(mkdtempSync(join(tmpdir(), "log-")), "app.log");
 * {
 *   await using destination = fileDestination(path);
 *   destination.write('{"message":"bye"}\n');
 * } // flushed and closed here
 * assert.equal(readFileSync(path, "utf8"), '{"message":"bye"}\n');
 * ```
 */
export function fileDestination(
  path: string,
  options: FileDestinationOptions = {},
): LogDestination {
  if (typeof path !== "string" || path === "") {
    throw new TypeError("Cannot open log file: path must be a non-empty string");
  }
  const bufferSize = options.bufferSize ?? 4096;
  if (!Number.isInteger(bufferSize) || bufferSize < 0) {
    throw new RangeError(
      "Invalid file destination option bufferSize: must be a non-negative integer",
    );
  }
  const fs = builtin<FileFs>("node:fs");
  if (fs === undefined) {
    throw new TypeError(`Cannot open log file "${path}": node:fs is not available here`);
  }
  let fd: number;
  try {
    fd = fs.openSync(path, "a");
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new LoggingError(`Cannot open log file "${path}": ${reason}`, {
      code: "log_file_unavailable",
      cause,
    });
  }
  const writer = new FdWriter({ fs, fd, bufferSize, onError: reportOnce(`"${path}"`) });
  return new FdDestination(writer, () => fs.closeSync(fd));
}
