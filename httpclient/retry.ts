/**
 * How a client retries: at most `attempts` tries in all, waiting a full-jitter exponential
 * backoff between them (a random delay from 0 to `min(max, base × 2^(retry − 1))`), or what the
 * upstream asked for (`Retry-After`, `retry-after-ms`), never past the call's total timeout.
 *
 * @example
 * ```ts
 * import { createHttpClient, type RetryOptions } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const retry: RetryOptions = { attempts: 5, base: 50, max: 2000 };
 * const client = createHttpClient({ baseUrl: "http://127.0.0.1:9", retry });
 * assert.equal(typeof client.get, "function");
 * ```
 */
export interface RetryOptions {
  /** The most attempts in all (the first included); `1` turns retries off. @default {3} */
  readonly attempts?: number | undefined;
  /** The backoff's base delay in ms. @default {200} */
  readonly base?: number | undefined;
  /** The backoff's largest delay in ms (a `Retry-After` is bounded by the total timeout only). @default {10000} */
  readonly max?: number | undefined;
  /** A source of numbers in [0, 1) for the jitter. @default {Math.random} */
  readonly random?: (() => number) | undefined;
  /**
   * Reads the delay the upstream asks for from a retryable response, in ms, or `undefined` for
   * none. @default {parseRetryAfter}
   */
  readonly retryAfter?: ((response: Response, now: number) => number | undefined) | undefined;
}

/**
 * The delay in ms a response asks for before the next attempt: `retry-after-ms` (ms, as OpenAI
 * sends), else `Retry-After` as seconds or as an HTTP date (relative to `now`). A date in the past
 * gives `0`; a missing or unreadable header `undefined`.
 *
 * @param response The response (only its headers are read).
 * @param now The current time, epoch ms.
 * @returns The delay in ms, or `undefined`.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * const now = Date.parse("2026-01-01T00:00:00Z");
 * assert.equal(parseRetryAfter(new Response(null, { headers: { "retry-after": "2" } }), now), 2000);
 * const date = new Response(null, { headers: { "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" } });
 * assert.equal(parseRetryAfter(date, now), 5000);
 * assert.equal(parseRetryAfter(new Response(null), now), undefined);
 * ```
 */
export function parseRetryAfter(response: Response, now: number): number | undefined {
  const ms = response.headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const header = response.headers.get("retry-after");
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * The full-jitter backoff before retry number `retry` (1 for the wait after the first attempt):
 * `random() × min(max, base × 2^(retry − 1))`.
 *
 * @param retry Which retry this is, from 1.
 * @param options `base`, `max` and `random`.
 * @returns The delay in ms, from 0 up to (not including) the cap.
 * @throws {never} Never throws.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "@plinth/httpclient";
 * import assert from "node:assert/strict";
 *
 * assert.equal(backoffDelay(3, { base: 100, max: 10_000, random: () => 0.5 }), 200);
 * assert.equal(backoffDelay(20, { base: 100, max: 1000, random: () => 0.5 }), 500);
 * ```
 */
export function backoffDelay(
  retry: number,
  options: { readonly base: number; readonly max: number; readonly random: () => number },
): number {
  const cap = Math.min(options.max, options.base * 2 ** Math.min(retry - 1, 52));
  return Math.floor(options.random() * cap);
}
