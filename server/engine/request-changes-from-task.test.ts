// requestChanges(fromTask): the next attempt runs the named task and the ones after it with the
// reviewer's feedback; the earlier tasks' checkpointed outputs are reused, neither run nor charged
// again. The seeded implement-feature crew (plan → implement → test) on the reference runner with
// the offline model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { FEATURE_INPUT } from '../test/fixtures.ts';
import { waitForJob } from '../test/scripted.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ role: 'all', env: { AUTODEV_VALIDATION_TIMEOUT_MS: '30000' } });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const REQUEST = `mutation($id: ID!, $feedback: String!, $fromTask: String) { requestChanges(id: $id, feedback: $feedback, fromTask: $fromTask) { status job { state } } }`;

async function usageOf(jobId: string) {
  const { rows } = await t.app.services.pool.query<{ task: string; number: number; cost: number }>(
    `SELECT u.task, a.number, u."costUsd"::float AS cost FROM "UsageRecord" u JOIN "JobAttempt" a ON a.id = u."attemptId" WHERE u."jobId" = $1 ORDER BY u."createdAt"`,
    [jobId],
  );
  return rows;
}

async function reviewed(title: string) {
  const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, { input: { templateSlug: 'implement-feature', input: { ...FEATURE_INPUT, title } } });
  const id = created.data.createJob.id as string;
  return { id, job: await waitForJob(t, id, ['AWAITING_REVIEW', 'FAILED'], 60_000) };
}

describe('requestChanges with fromTask', () => {
  it('runs only implement and test again; the plan is reused and not charged twice', async () => {
    const { id, job } = await reviewed('CSV export');
    expect(job.state).toBe('AWAITING_REVIEW');
    const firstCost = job.costUsd;
    const res = await t.gql(REQUEST, { id: job.review.id, feedback: 'Quote fields that contain commas.', fromTask: 'implement' });
    expect(res.errors).toBeUndefined();
    expect(res.data.requestChanges).toEqual({ status: 'CHANGES_REQUESTED', job: { state: 'QUEUED' } });

    const again = await waitForJob(t, id, ['AWAITING_REVIEW', 'FAILED'], 60_000);
    expect(again.state).toBe('AWAITING_REVIEW');
    const started = again.events.filter((e: any) => e.type === 'TASK_STARTED').map((e: any) => `${e.data.task}`);
    expect(started).toEqual(['plan', 'implement', 'test', 'implement', 'test']);
    const usage = await usageOf(id);
    expect(usage.map((u) => [u.task, u.number])).toEqual([['plan', 1], ['implement', 1], ['test', 1], ['implement', 2], ['test', 2]]);
    // Attempt 2 cost what its two tasks cost, nothing for the plan.
    expect(again.attempts[1].costUsd).toBeCloseTo(usage[3].cost + usage[4].cost, 8);
    expect(again.costUsd).toBeCloseTo(firstCost + usage[3].cost + usage[4].cost, 8);
    const { data } = await t.gql(`query($id: ID!) { job(id: $id) { checkpoints { task attemptNumber superseded } } }`, { id });
    expect(data.job.checkpoints).toEqual([
      { task: 'plan', attemptNumber: 1, superseded: false },
      { task: 'implement', attemptNumber: 1, superseded: true },
      { task: 'test', attemptNumber: 1, superseded: true },
      { task: 'implement', attemptNumber: 2, superseded: false },
      { task: 'test', attemptNumber: 2, superseded: false },
    ]);
    // The re-run tasks got the feedback (the offline model says it addressed it).
    const implement2 = again.events.filter((e: any) => e.type === 'TASK_COMPLETED' && e.data.task === 'implement').at(-1);
    expect(implement2.data.output).toContain('Quote fields that contain commas.');
    expect(again.events.some((e: any) => e.type === 'LOG' && e.message.startsWith('Resuming from checkpoints: plan reused'))).toBe(true);
  }, 120_000);

  it('defaults to the last task, and refuses a task the crew does not have', async () => {
    const { id, job } = await reviewed('PDF export');
    const bad = await t.gql(REQUEST, { id: job.review.id, feedback: 'More tests.', fromTask: 'deploy' });
    expect(bad.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'fromTask' });
    expect(bad.errors![0].message).toMatch(/not a task of this job's crew \(its tasks are plan, implement, test\)/);
    const ok = await t.gql(REQUEST, { id: job.review.id, feedback: 'More tests.' });
    expect(ok.errors).toBeUndefined();
    const again = await waitForJob(t, id, ['AWAITING_REVIEW', 'FAILED'], 60_000);
    expect((await usageOf(id)).map((u) => [u.task, u.number])).toEqual([['plan', 1], ['implement', 1], ['test', 1], ['test', 2]]);
    expect(again.state).toBe('AWAITING_REVIEW');
  }, 120_000);
});
