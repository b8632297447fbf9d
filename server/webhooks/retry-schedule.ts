// When a failed delivery is tried again: the first retry `retryBaseMs` after the first attempt,
// each later one twice as long after the previous, until `maxAttempts` attempts were made.
// Defaults (30 s, 13 attempts): retries at 30 s, 1, 2, 4, 8, 16, 32 min, 1 h 4, 2 h 8, 4 h 16, 8 h 32,
// 17 h 4 after each previous attempt: the last one 34 h 7 min after the first.

export interface RetryPolicy {
  retryBaseMs: number;
  maxAttempts: number;
}

/** The wait after attempt number `attemptsMade` failed, or null when that was the last one. */
export function retryDelayMs(attemptsMade: number, policy: RetryPolicy): number | null {
  if (attemptsMade >= policy.maxAttempts) return null;
  return policy.retryBaseMs * 2 ** (attemptsMade - 1);
}

/** Milliseconds from the first attempt to each retry. */
export function retryOffsetsMs(policy: RetryPolicy): number[] {
  const offsets: number[] = [];
  let at = 0;
  for (let n = 1; ; n++) {
    const wait = retryDelayMs(n, policy);
    if (wait === null) return offsets;
    at += wait;
    offsets.push(at);
  }
}
