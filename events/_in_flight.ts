import type { Delivery } from "./_dispatch.ts";

/**
 * The handlers a subscription is running: a bounded pool that can wait for a free slot, wait
 * (with a timeout) until all finish, and abandon the stragglers so that a handler finishing
 * after shutdown acknowledges nothing.
 */
export class InFlight {
  #count = 0;
  #abandoned = false;
  #waiters: (() => void)[] = [];
  readonly #onSettled: (() => void) | undefined;

  /** `onSettled` runs each time a handler settles, after the count went down. */
  constructor(onSettled?: () => void) {
    this.#onSettled = onSettled;
  }

  /** Handlers running now. */
  get size(): number {
    return this.#count;
  }

  /** Runs `work` on a guarded copy of `delivery` and tracks it until it settles. */
  run(delivery: Delivery, work: (delivery: Delivery) => Promise<void>): void {
    const guarded: Delivery = {
      subject: delivery.subject,
      headers: delivery.headers,
      body: delivery.body,
      deliveryCount: delivery.deliveryCount,
      stream: delivery.stream,
      sequence: delivery.sequence,
      ack: () => this.#settle(() => delivery.ack()),
      nak: (delay) => this.#settle(() => delivery.nak(delay)),
      term: () => this.#settle(() => delivery.term()),
    };
    this.#count++;
    work(guarded).catch(() => {}).finally(() => {
      this.#count--;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
      this.#onSettled?.();
    });
  }

  #settle(fn: () => void): void {
    if (this.#abandoned) return;
    try {
      fn();
    } catch {
      // The connection is gone: the server redelivers after ackWait.
    }
  }

  /** Resolves when fewer than `limit` handlers run (or at once if already so). */
  waitBelow(limit: number): Promise<void> {
    if (this.#count < limit) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves with the number of handlers still running when all finished or `timeout` passed. */
  async drain(timeout: number): Promise<number> {
    if (this.#count === 0) return 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout);
    });
    try {
      while (this.#count > 0) {
        const next = new Promise<void>((resolve) => this.#waiters.push(resolve));
        const result = await Promise.race([next.then(() => "next"), expired.then(() => "expired")]);
        if (result === "expired") break;
      }
    } finally {
      clearTimeout(timer);
    }
    return this.#count;
  }

  /** From now on, settling a delivery does nothing (the server will redeliver it). */
  abandon(): void {
    this.#abandoned = true;
  }

  /** Wakes every waiter (used when stopping). */
  wakeAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
