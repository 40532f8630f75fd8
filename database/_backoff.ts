/** Settings of exponential backoff, in milliseconds. */
export interface BackoffSettings {
  readonly baseDelay: number;
  readonly maxDelay: number;
}

/**
 * The delay before retry `attempt` (1 for the first retry): `baseDelay * 2^(attempt-1)`, capped at
 * `maxDelay`, with "equal jitter" (a random point in its upper half), so replicas that failed
 * together do not retry together and the total stays bounded by `retries * maxDelay`.
 */
export function backoffDelay(
  attempt: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    settings.maxDelay,
    settings.baseDelay * 2 ** Math.max(0, attempt - 1),
  );
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
