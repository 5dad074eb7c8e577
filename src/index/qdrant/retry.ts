import { isTransient, retryAfterMs, statusOf } from './errors.js';

export interface RetryPolicy {
  /** Further attempts after the first one. */
  retries: number;
  /** First backoff; it doubles per attempt, with jitter, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Which failures are worth another try; default isTransient. */
  retryable?: (err: unknown) => boolean;
  onRetry?: (info: { attempt: number; delayMs: number; status?: number; error: unknown }) => void;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn`, retrying transient failures (network, 429, 5xx) a bounded number of times with
 * exponential backoff. Every call it wraps is idempotent (upserts by id, deletes by filter, reads).
 */
export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  const sleep = policy.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= policy.retries || !(policy.retryable ?? isTransient)(err)) throw err;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
      const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
      const delayMs = Math.round(Math.min(policy.maxDelayMs, Math.max(jittered, retryAfterMs(err) ?? 0)));
      policy.onRetry?.({ attempt: attempt + 1, delayMs, status: statusOf(err), error: err });
      await sleep(delayMs);
    }
  }
}
