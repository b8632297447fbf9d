// requestChanges(fromTask): the next attempt runs the named task and the ones after it with the
// reviewer's feedback; the earlier tasks' checkpointed outputs are reused, neither run nor charged
// again. The bundled implement-feature crew (plan → implement → test) on the agent runtime with the
// offline model, on the sample repository: a re-run task starts from the reused tasks' checkpoint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { waitForJob } from '../test/scripted.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ role: 'all', env: { AUTODEV_VALIDATION_TIMEOUT_MS: '30000' } });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const REQUEST = `mutation($id: ID!, $feedback: String!, $fromTask: String) { requestChanges(id: $id, feedback: $feedback, fromTask: $fromTask) { status job { state } } }`;

const FEATURE = {
  specification: 'slugify turns every run of spaces and punctuation into one dash and trims dashes at both ends.',
  language: 'javascript',
};

/** Each model call is a usage record (several per task on the tool loop): the tasks charged, in order, once per run. */
const runs = (usage: { task: string; number: number }[]) =>
  usage.map((u) => [u.task, u.number]).filter((r, i, all) => i === 0 || r[0] !== all[i - 1][0] || r[1] !== all[i - 1][1]);

async function usageOf(jobId: string) {
  const { rows } = await t.app.services.pool.query<{ task: string; number: number; cost: number }>(
    `SELECT u.task, a.number, u."costUsd"::float AS cost FROM "UsageRecord" u JOIN "JobAttempt" a ON a.id = u."attemptId" WHERE u."jobId" = $1 ORDER BY u."createdAt"`,
    [jobId],
  );
  return rows;
}

async function reviewed(title: string) {
  const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
    input: { templateSlug: 'implement-feature', input: { ...FEATURE, title, repository: t.app.services.config.sampleRepository } },
  });
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
    expect(runs(usage)).toEqual([
      ['plan', 1],
      ['implement', 1],
      ['test', 1],
      ['implement', 2],
      ['test', 2],
    ]);
    // Attempt 2 cost what its two tasks cost, nothing for the plan.
    const second = usage.filter((u) => u.number === 2).reduce((sum, u) => sum + u.cost, 0);
    expect(usage.filter((u) => u.number === 2).every((u) => u.task !== 'plan')).toBe(true);
    expect(again.attempts[1].costUsd).toBeCloseTo(second, 8);
    expect(again.costUsd).toBeCloseTo(firstCost + second, 8);
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
    expect(runs(await usageOf(id))).toEqual([
      ['plan', 1],
      ['implement', 1],
      ['test', 1],
      ['test', 2],
    ]);
    expect(again.state).toBe('AWAITING_REVIEW');
  }, 120_000);
});
