// JetStream publishes with acknowledgements, on one reply subscription per connection.
//
// `js.publish` of @nats-io/jetstream goes through the connection's `request()`: per message a
// request object, a timer armed and cleared, an options copy, a retry loop and two async frames.
// For a bus that publishes thousands of events a second those are most of the client's work. A
// JetStream publish is a plain NATS publish with a reply subject, answered on it by the stream's
// ack (`{"stream","seq","duplicate"}`) or an API error (`{"error":{…}}`), or by the server's
// "no responders" status when no stream listens on the subject. So the bus publishes itself, with
// the reply going to `<inbox>.<token>` under one wildcard subscription, keeps the waiting
// publishes in a map in the order they were sent, and fails those that waited too long with one
// timer for all of them.
import {
  ClosedConnectionError,
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  NoRespondersError,
  type Subscription,
  TimeoutError,
} from "@nats-io/nats-core";
import { JetStreamApiError } from "@nats-io/jetstream";

/** What the stream answered for one stored message. */
export interface StreamAck {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

interface Waiter {
  readonly subject: string;
  readonly deadline: number;
  readonly resolve: (ack: StreamAck) => void;
  readonly reject: (error: Error) => void;
}

interface AckBody {
  stream?: unknown;
  seq?: unknown;
  duplicate?: unknown;
  error?: { code: number; err_code: number; description: string };
}

const decoder = new TextDecoder();

/** Publishes to JetStream and matches each ack to its publish; one per bus. */
export class AckPublisher {
  readonly #nc: NatsConnection;
  readonly #timeout: number;
  readonly #prefix: string;
  readonly #waiting = new Map<string, Waiter>();
  #subscription: Subscription | undefined;
  #next = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed: Error | undefined;
  readonly #slack: number;

  /** `timeout`: how long a publish waits for its ack, in milliseconds. */
  constructor(nc: NatsConnection, timeout: number) {
    this.#nc = nc;
    this.#timeout = timeout;
    this.#slack = Math.min(timeout / 20, 50);
    const prefix = (nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
    this.#prefix = `${createInbox(prefix)}.`;
  }

  /** How many publishes wait for their ack. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * Publishes `body` with `headers` and resolves with the stream's ack. Rejects with nats-core's
   * `TimeoutError` when no ack came within the timeout, `NoRespondersError` when no stream
   * listens on the subject, a `JetStreamApiError` when the stream refused the message, or what
   * `NatsConnection.publish` threw (closed connection, bad subject, payload over `max_payload`).
   */
  publish(subject: string, body: string | Uint8Array, headers: MsgHdrs): Promise<StreamAck> {
    return new Promise<StreamAck>((resolve, reject) => {
      if (this.#closed !== undefined) return reject(this.#closed);
      this.#subscription ??= this.#listen();
      const token = (this.#next++).toString(36);
      this.#waiting.set(token, {
        subject,
        deadline: performance.now() + this.#timeout,
        resolve,
        reject,
      });
      try {
        this.#nc.publish(subject, body, { reply: this.#prefix + token, headers });
      } catch (error) {
        this.#waiting.delete(token);
        return reject(error instanceof Error ? error : new Error(String(error)));
      }
      this.#timer ??= setTimeout(this.#sweep, this.#timeout);
    });
  }

  /** Fails every waiting publish and refuses new ones; unsubscribes from the replies. */
  close(error: Error = new ClosedConnectionError()): void {
    if (this.#closed !== undefined) return;
    this.#closed = error;
    this.#failAll(error);
    try {
      this.#subscription?.unsubscribe();
    } catch {
      // The connection is already closed: so is the subscription.
    }
  }

  #listen(): Subscription {
    const subscription = this.#nc.subscribe(`${this.#prefix}*`, {
      callback: (error, msg) => {
        if (error !== null) this.#failAll(error);
        else this.#reply(msg);
      },
    });
    // A connection closed underneath (by its owner, or after its last reconnect attempt) ends
    // the subscription: nothing can be answered any more.
    subscription.closed.then(
      (error) => this.close(error instanceof Error ? error : undefined),
      (error: unknown) => this.close(error instanceof Error ? error : undefined),
    );
    return subscription;
  }

  #reply(msg: Msg): void {
    const token = msg.subject.slice(this.#prefix.length);
    const waiter = this.#waiting.get(token);
    if (waiter === undefined) return; // answered after it timed out: its retry has the same id
    this.#waiting.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      return waiter.reject(new NoRespondersError(waiter.subject));
    }
    let body: AckBody;
    try {
      body = JSON.parse(decoder.decode(msg.data)) as AckBody;
    } catch (cause) {
      return waiter.reject(new Error("JetStream sent an ack that is not JSON", { cause }));
    }
    if (typeof body !== "object" || body === null) {
      return waiter.reject(new Error("JetStream sent an ack that is not an object"));
    }
    if (body.error !== undefined) return waiter.reject(new JetStreamApiError(body.error));
    if (typeof body.stream !== "string" || body.stream === "" || typeof body.seq !== "number") {
      return waiter.reject(new Error("JetStream sent an ack without stream and sequence"));
    }
    waiter.resolve({ stream: body.stream, seq: body.seq, duplicate: body.duplicate === true });
  }

  /** Times out the publishes past their deadline (the oldest come first) and re-arms. */
  readonly #sweep = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    for (const [token, waiter] of this.#waiting) {
      if (waiter.deadline > now) {
        // At most a twentieth of the timeout late, so a backlog is swept in few turns.
        this.#timer = setTimeout(this.#sweep, Math.max(waiter.deadline - now, this.#slack));
        return;
      }
      this.#waiting.delete(token);
      waiter.reject(new TimeoutError());
    }
  };

  #failAll(error: Error): void {
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiter of waiting) waiter.reject(error);
  }
}
