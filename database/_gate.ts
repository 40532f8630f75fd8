// A counting gate: at most `limit` holders at a time, the rest wait in FIFO order for at most
// `timeout` ms (0: no limit). Holding the gate is what "busy" means in the pool's stats.

/** Why a wait ended without a slot. */
export type GateRejection = "timeout" | "closed";

/** A caller waiting for a slot, as {@linkcode Gate.wait} returns it. */
export interface Waiter {
  readonly grant: () => void;
  readonly fail: (reason: GateRejection) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class Gate {
  #limit: number;
  #timeout: number;
  #busy = 0;
  #waiters: (Waiter | undefined)[] = [];
  #head = 0;
  #queued = 0;
  #idle: (() => void)[] = [];

  constructor(limit: number, timeout: number) {
    this.#limit = limit;
    this.#timeout = timeout;
  }

  /** Slots in use. */
  get busy(): number {
    return this.#busy;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.#queued;
  }

  /** Takes a slot now if one is free and nobody waits. */
  tryAcquire(): boolean {
    if (this.#busy < this.#limit && this.#queued === 0) {
      this.#busy++;
      return true;
    }
    return false;
  }

  /**
   * Waits for a slot; `grant` runs holding it, `fail` when the wait times out or the gate
   * rejects every waiter. The returned waiter can be withdrawn.
   */
  wait(grant: () => void, fail: (reason: GateRejection) => void): Waiter {
    const waiter: Waiter = { grant, fail, timer: undefined };
    if (this.#timeout > 0) {
      waiter.timer = setTimeout(() => {
        if (this.withdraw(waiter)) waiter.fail("timeout");
      }, this.#timeout);
    }
    this.#waiters.push(waiter);
    this.#queued++;
    return waiter;
  }

  /**
   * Stops a wait without calling `grant` or `fail`; false when it is no longer waiting (it was
   * granted a slot, failed or withdrawn already).
   */
  withdraw(waiter: Waiter): boolean {
    const index = this.#waiters.indexOf(waiter, this.#head);
    if (index === -1) return false;
    this.#waiters[index] = undefined;
    this.#queued--;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    this.#wakeIfIdle();
    return true;
  }

  /** Gives a slot back, handing it to the first waiter. */
  release(): void {
    const next = this.#shift();
    if (next !== undefined) {
      if (next.timer !== undefined) clearTimeout(next.timer);
      next.grant();
      return;
    }
    this.#busy--;
    this.#wakeIfIdle();
  }

  /** Fails every waiter with `reason`. */
  rejectAll(reason: GateRejection): void {
    for (
      let waiter = this.#shift();
      waiter !== undefined;
      waiter = this.#shift()
    ) {
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      waiter.fail(reason);
    }
    this.#wakeIfIdle();
  }

  /** Resolves once nothing holds or waits for a slot. */
  idle(): Promise<void> {
    if (this.#busy === 0 && this.#queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #shift(): Waiter | undefined {
    while (this.#head < this.#waiters.length) {
      const waiter = this.#waiters[this.#head];
      this.#waiters[this.#head++] = undefined;
      if (waiter !== undefined) {
        this.#queued--;
        if (this.#head === this.#waiters.length) {
          this.#waiters = [];
          this.#head = 0;
        }
        return waiter;
      }
    }
    return undefined;
  }

  #wakeIfIdle(): void {
    if (this.#busy !== 0 || this.#queued !== 0 || this.#idle.length === 0) {
      return;
    }
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }
}
