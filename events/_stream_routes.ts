// Which stream stores a subject, known before a publish is sent: a plain NATS publish to a
// subject no stream covers would reach core subscribers instead of failing.
import { EventError } from "./errors.ts";
import type { ResolvedStream } from "./_options.ts";
import { PUBLISH_ACTION } from "./_prepare.ts";
import { matchSubject } from "./_subject.ts";

/** Looks up the stream covering a subject on the server: its name, or `undefined` for none. */
export type FindStream = (subject: string) => Promise<string | undefined>;

const MAX_REMEMBERED = 10_000;

/**
 * The streams publishes may go to: the configured ones (the bus ensured them at start), else
 * the one the server reports for the subject, looked up once and remembered.
 */
export class StreamRoutes {
  readonly #configured: readonly ResolvedStream[];
  readonly #find: FindStream;
  readonly #known = new Map<string, string>();

  constructor(configured: readonly ResolvedStream[], find: FindStream) {
    this.#configured = configured;
    this.#find = find;
  }

  /**
   * `undefined` when a stream is known to cover `subject`; otherwise a promise that resolves
   * once the server named one, or rejects with a `no_stream` {@linkcode EventError}.
   */
  check(subject: string): Promise<void> | undefined {
    if (this.#known.has(subject)) return undefined;
    const stream = this.#configured.find((s) => s.subjects.some((p) => matchSubject(p, subject)));
    if (stream !== undefined) {
      this.#remember(subject, stream.name);
      return undefined;
    }
    return this.#find(subject).then((name) => {
      if (name === undefined) {
        throw new EventError(`${PUBLISH_ACTION} to "${subject}": no stream covers the subject`, {
          code: "no_stream",
          subject,
        });
      }
      this.#remember(subject, name);
    });
  }

  /** Forgets what is known about `subject` (its stream was deleted, say). */
  forget(subject: string): void {
    this.#known.delete(subject);
  }

  /** Forgets every subject looked up on the server. */
  clear(): void {
    this.#known.clear();
  }

  #remember(subject: string, stream: string): void {
    if (this.#known.size >= MAX_REMEMBERED) this.#known.clear();
    this.#known.set(subject, stream);
  }
}
