// A claim of a project without a limit takes the project's row lock shared (project-slots.ts):
// claims of one project do not queue behind each other's lock. A project with a limit of its own
// still has its claims take the lock exclusively, one after another, so that each one's count of
// running attempts sees the others'.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { untilWaitingForLock } from '../test/lock-wait.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startAttempt } from './start-attempt.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});
const deps = () => ({ pool: t.app.services.pool, events: t.app.services.events });
const claim = (jobId: string) => startAttempt(deps(), { jobId, workerId: 'w', executor: 'inline', defaultMaxRunning: null });

async function newJob(): Promise<string> {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  expect(res.errors).toBeUndefined();
  return res.data.createJob.id as string;
}

/** Runs `fn` while another transaction holds the project's row lock shared, as a claim in flight does. */
async function whileClaimHoldsLock(jobId: string, fn: () => Promise<void>) {
  const holder = await t.app.services.pool.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM "Project" p JOIN "Job" j ON j."projectId" = p.id WHERE j.id = $1 FOR SHARE OF p`, [jobId]);
    await fn();
  } finally {
    await holder.query('ROLLBACK').catch(() => {});
    holder.release();
  }
}

it('without a limit, a claim does not wait for another claim of its project', async () => {
  const held = await newJob();
  const jobId = await newJob();
  await whileClaimHoldsLock(held, async () => {
    // Taken exclusively, the lock would hold the claim until the holder ends.
    const started = await Promise.race([
      claim(jobId),
      new Promise((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000)),
    ]);
    expect(started).toMatchObject({ jobId });
  });
}, 60_000);

it("under the project's own limit, a claim takes the lock exclusively: it waits for another claim's", async () => {
  const held = await newJob();
  const jobId = await newJob();
  await t.app.services.pool.query(`UPDATE "Project" p SET "maxRunningAttempts" = 5 FROM "Job" j WHERE j.id = $1 AND p.id = j."projectId"`, [
    jobId,
  ]);
  try {
    let started: ReturnType<typeof claim> | undefined;
    await whileClaimHoldsLock(held, async () => {
      started = claim(jobId);
      // The shared read found the limit; the claim is back, waiting for the lock exclusively.
      await untilWaitingForLock(t.app.services.pool, 'SELECT j."attemptCount", j."projectId"');
    });
    // The holder is gone: the claim goes on and starts its attempt under the limit.
    expect((await started)?.jobId).toBe(jobId);
  } finally {
    await t.app.services.pool.query(`UPDATE "Project" SET "maxRunningAttempts" = NULL`);
  }
}, 60_000);
