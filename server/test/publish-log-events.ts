import { expect } from 'vitest';
import { appendJobEvents } from '../jobs/job-event.ts';
import type { Services } from '../services.ts';

type Deps = Pick<Services, 'pool' | 'events'>;

/** Stores `n` LOG events of `jobId` and publishes them, as a job's transaction does: their seqs. */
export async function publishLogEvents({ pool, events }: Deps, jobId: string, n: number, message = 'event'): Promise<number[]> {
  const appended = await appendJobEvents(
    pool,
    jobId,
    Array.from({ length: n }, (_, k) => ({ type: 'LOG' as const, message: `${message} ${k}`, actor: 'test' })),
  );
  await events.publish(appended);
  return appended.map((e) => e.seq);
}

/**
 * Publishes one log event of `jobId` every 100 ms until `live()` (every subscriber listening; at
 * most 100 tries): the seq of the last one published.
 */
export async function publishUntilLive(deps: Deps, jobId: string, live: () => boolean): Promise<number> {
  let last = 0;
  for (let i = 0; i < 100 && !live(); i++) {
    [last] = await publishLogEvents(deps, jobId, 1, 'warm-up');
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(live(), 'every subscriber received an event').toBe(true);
  return last;
}
