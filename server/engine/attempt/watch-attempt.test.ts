// watchAttempt stops the attempt when the worker shuts down, including a shutdown that began before
// the watch did (the claim had committed, so the drain counts the attempt as one it must release).
import { expect, it } from 'vitest';
import type { TransitionDeps } from '../../jobs/transition-job.ts';
import { createAttemptStop } from './attempt-stop.ts';
import { watchAttempt } from './watch-attempt.ts';

// No heartbeat falls into these tests (the lease is long): the watch sends nothing.
const deps = {} as TransitionDeps;

it('a shutdown during the attempt stops it', () => {
  const shutdown = new AbortController();
  const stop = createAttemptStop();
  const unwatch = watchAttempt(deps, { attemptId: 'a', leaseMs: 600_000, shutdown: shutdown.signal, stop });
  expect(stop.signal.aborted).toBe(false);
  shutdown.abort();
  expect(stop.reason).toEqual({ kind: 'shutdown' });
  unwatch();
});

it('a shutdown that began before the watch stops the attempt at once', () => {
  const shutdown = new AbortController();
  shutdown.abort();
  const stop = createAttemptStop();
  const unwatch = watchAttempt(deps, { attemptId: 'a', leaseMs: 600_000, shutdown: shutdown.signal, stop });
  expect(stop.signal.aborted).toBe(true);
  expect(stop.reason).toEqual({ kind: 'shutdown' });
  unwatch();
});
