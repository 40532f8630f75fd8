import type { HealthReport, PoolStats } from "./database.ts";
import { errorMessage } from "./_message.ts";

/**
 * Runs `query()` (a `select 1`) under `timeout` and reports: never throws, a failure is
 * `ok: false` with its message. Timed with `now` (epoch milliseconds).
 */
export async function measureHealth(
  query: () => PromiseLike<unknown>,
  timeout: number,
  now: () => number,
  stats: () => PoolStats,
): Promise<HealthReport> {
  const started = now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let error: string | undefined;
  try {
    await Promise.race([
      query(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${timeout} ms`)),
          timeout,
        );
      }),
    ]);
  } catch (cause) {
    error = errorMessage(cause);
  } finally {
    clearTimeout(timer);
  }
  const latency = Math.round((now() - started) * 100) / 100;
  const { open, busy, queued } = stats();
  const report = {
    ok: error === undefined,
    latency_ms: latency,
    pool: { open, busy, queued },
  };
  return error === undefined ? report : { ...report, error };
}
