// An attempt's end gives its slot to a waiting job only when one may wait (project-slots.ts): under
// a limit always; without one only when a job of the project waits. This covers the second case: a
// job parked under a limit that went away without waking it (as when an operator's default limit is
// removed; setMaxRunningAttempts itself wakes the jobs) still gets its run when an attempt ends.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { minimalTemplate } from '../test/minimal-template.ts';

const TEMPLATE = minimalTemplate('wake-minimal', 'Minimal');
const CREATE_JOB = `mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`;

let t: TestServer;
beforeAll(async () => {
  // Every model call takes 3 s: the first job still runs while the test parks the second.
  t = await startTestServer({
    role: 'all',
    env: { AUTODEV_EXECUTOR: 'inline', AUTODEV_WORKER_CONCURRENCY: '2', AUTODEV_OFFLINE_DELAY_MS: '3000' },
  });
  const r = await t.gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`, { input: TEMPLATE });
  expect(r.errors).toBeUndefined();
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const row = async (id: string) =>
  (
    await t.app.services.pool.query<{ state: string; waits: boolean; attempts: number }>(
      `SELECT state, "slotWaitSince" IS NOT NULL AS waits, "attemptCount" AS attempts FROM "Job" WHERE id = $1`,
      [id],
    )
  ).rows[0];

it('a job waiting for a slot in a project that no longer has a limit starts when an attempt of the project ends', async () => {
  expect((await t.gql(`mutation { setMaxRunningAttempts(maxRunningAttempts: 1) { id } }`)).errors).toBeUndefined();
  const first = (await t.gql(CREATE_JOB, { input: { templateSlug: TEMPLATE.slug, input: { n: 1 } } })).data.createJob.id as string;
  await expect.poll(() => row(first), { timeout: 30_000 }).toMatchObject({ state: 'RUNNING' });
  const second = (await t.gql(CREATE_JOB, { input: { templateSlug: TEMPLATE.slug, input: { n: 2 } } })).data.createJob.id as string;
  await expect.poll(() => row(second), { timeout: 30_000 }).toEqual({ state: 'QUEUED', waits: true, attempts: 0 });

  // The limit goes away without waking the waiting job.
  const { rows } = await t.app.services.pool.query<{ at: Date }>(
    `UPDATE "Project" p SET "maxRunningAttempts" = NULL FROM "Job" j WHERE j.id = $1 AND p.id = j."projectId" RETURNING clock_timestamp() AS at`,
    [first],
  );
  expect(await row(second)).toEqual({ state: 'QUEUED', waits: true, attempts: 0 });

  await expect.poll(() => row(first), { timeout: 30_000 }).toMatchObject({ state: 'SUCCEEDED' });
  await expect.poll(() => row(second), { timeout: 30_000 }).toEqual({ state: 'SUCCEEDED', waits: false, attempts: 1 });
  // The first attempt ended after the limit was gone: its end, not the limit's, woke the second job.
  const ended = await t.app.services.pool.query<{ finishedAt: Date }>(`SELECT "finishedAt" FROM "JobAttempt" WHERE "jobId" = $1`, [first]);
  expect(ended.rows[0].finishedAt.getTime()).toBeGreaterThan(rows[0].at.getTime());
}, 120_000);
