// The graceful close's wait: for the pool's gate to go idle, bounded by the close timeout.
import type { Gate } from "./_gate.ts";

/**
 * Resolves `true` once every slot of `gate` is free and its queue empty, or `false` after
 * `timeout` ms. Timeout 0 waits for nothing (as the driver's `end({ timeout: 0 })`): `false` at
 * once, so what is queued is refused and what runs is destroyed, even a query that would answer
 * within a turn.
 */
export async function drained(gate: Gate, timeout: number): Promise<boolean> {
  if (timeout <= 0) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      gate.idle().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeout);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error a query still running when the close timeout ends is rejected with (the driver's code for it). */
export function destroyedError(target: string): Error {
  return Object.assign(
    new Error(`Cannot run query on ${target}: the database was closed`),
    { code: "CONNECTION_DESTROYED" },
  );
}
