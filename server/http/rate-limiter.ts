/**
 * Token buckets per key (an API token): `perMinute` operations, refilled continuously, bursts up to
 * the same number. In memory, per API process: with N API processes a token gets up to N times the
 * limit (the load balancer spreads it). Idle full buckets are dropped, so memory is bounded by the
 * keys active in the last minute.
 */
export function createRateLimiter(perMinute: number, now: () => number = Date.now) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const ratePerMs = perMinute / 60_000;
  let lastSweep = now();
  return {
    take(key: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
      const t = now();
      if (t - lastSweep > 60_000) {
        for (const [k, b] of buckets) if (b.tokens + (t - b.at) * ratePerMs >= perMinute) buckets.delete(k);
        lastSweep = t;
      }
      const b = buckets.get(key) ?? { tokens: perMinute, at: t };
      b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * ratePerMs);
      b.at = t;
      buckets.set(key, b);
      if (b.tokens < 1) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / ratePerMs / 1000)) };
      b.tokens -= 1;
      return { ok: true };
    },
  };
}
