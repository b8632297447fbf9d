import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driveJob } from '../test/drive-job.ts';
import { CREATE_JOB, JOB_EVENTS, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import type { JobState } from '../jobs/state-machine.ts';

const TERMINAL: JobState[] = ['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED', 'BUDGET_EXCEEDED'];
let t: TestServer;
beforeAll(async () => {
  // Two subscriptions per token: a subscription that never completed would use up the slots.
  t = await startTestServer({ env: { AUTODEV_MAX_SUBSCRIPTIONS_PER_TOKEN: '2' } });
});
afterAll(async () => {
  await t?.close();
});

const newJob = async () =>
  (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id as string;

/** Iterates a subscription the way an application does; fails if `for await` does not end by itself in time. */
async function forAwait(query: string, variables: Record<string, unknown>, onEach: (item: any) => void = () => {}, timeoutMs = 8000) {
  const iterator = t.ws().iterate({ query, variables });
  let timedOut = false;
  const timer = setTimeout(() => ((timedOut = true), void iterator.return?.()), timeoutMs);
  const items: any[] = [];
  try {
    for await (const result of iterator) {
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      items.push(result.data);
      onEach(result.data);
    }
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw new Error(`for await did not end within ${timeoutMs} ms; received ${JSON.stringify(items)}`);
  return { items };
}

describe('jobEvents completes after the terminal state', () => {
  for (const state of TERMINAL) {
    it(`live: for await ends after the ${state} event`, async () => {
      const jobId = await newJob();
      let drove = false;
      const { items } = await forAwait(JOB_EVENTS, { jobId }, () => {
        if (!drove) {
          drove = true;
          void driveJob(t.app.services, jobId, state);
        }
      });
      expect(items.at(-1).jobEvents).toMatchObject({ type: 'STATE_CHANGED', toState: state });
      expect(items.map((i) => i.jobEvents.seq)).toEqual(items.map((_, k) => k + 1));
    });
  }

  it('subscribing to a finished job replays its events and completes; afterSeq past its end completes at once', async () => {
    const jobId = await newJob();
    await driveJob(t.app.services, jobId, 'SUCCEEDED');
    const all = await forAwait(JOB_EVENTS, { jobId });
    expect(all.items.map((i) => i.jobEvents.toState)).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
    const none = await forAwait(JOB_EVENTS, { jobId, afterSeq: 3 });
    expect(none.items).toEqual([]);
  });

  it('a completed subscription frees its slot: more finished jobs than the per-token limit, one after another', async () => {
    for (let i = 0; i < 5; i++) {
      const jobId = await newJob();
      await driveJob(t.app.services, jobId, 'FAILED');
      const { items } = await forAwait(JOB_EVENTS, { jobId });
      expect(items.at(-1).jobEvents.toState).toBe('FAILED');
    }
  });

  it('projectEvents stays open after a job of the project finishes', async () => {
    const jobId = await newJob();
    const client = t.ws();
    let completed = false;
    const seen: string[] = [];
    let received = 0;
    const dispose = client.subscribe(
      { query: 'subscription { projectEvents { jobId toState } }' },
      {
        next: ({ data }: any) => (received++, data.projectEvents.jobId === jobId && seen.push(data.projectEvents.toState)),
        error: () => {},
        complete: () => (completed = true),
      },
    );
    // Live once it has received an event of the project (no sleep): probe jobs until it has.
    for (let i = 0; i < 50 && received === 0; i++) {
      await newJob();
      await expect
        .poll(() => received, { timeout: 500 })
        .toBeGreaterThan(0)
        .catch(() => {});
    }
    expect(received).toBeGreaterThan(0);
    await driveJob(t.app.services, jobId, 'SUCCEEDED');
    await expect.poll(() => seen).toEqual(['RUNNING', 'SUCCEEDED']);
    await new Promise((r) => setTimeout(r, 500));
    expect(completed).toBe(false);
    dispose();
  });
});
