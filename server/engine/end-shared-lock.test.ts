// An attempt's end of a project without a limit takes the project's row lock shared
// (finish-attempt.ts): it does not wait for the project's claims or other ends. Under a limit of
// the project's own it takes the lock exclusively, so that a wake counts the running attempts alone.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { untilWaitingForLock } from '../test/lock-wait.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startAttempt } from './start-attempt.ts';
import { finishAttempt } from './finish-attempt.ts';
import { wakeWaitingJobs } from './project-slots.ts';
import { recordStatements } from '../test/count-statements.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});
const deps = () => ({ pool: t.app.services.pool, events: t.app.services.events });

/** A job with a running attempt, and the end that makes it SUCCEEDED. */
async function runningJob(): Promise<{ jobId: string; end: () => Promise<string> }> {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  expect(res.errors).toBeUndefined();
  const jobId = res.data.createJob.id as string;
  const attempt = await startAttempt(deps(), { jobId, workerId: 'w', executor: 'inline', defaultMaxRunning: null });
  expect(attempt).not.toBeNull();
  const end = () =>
    finishAttempt(
      deps(),
      attempt!,
      { kind: 'succeeded', output: { ok: true }, guardrails: [] },
      { retryBaseMs: 1000, defaultMaxRunning: null },
    );
  return { jobId, end };
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

it("without a limit, an attempt's end does not wait for a claim of its project", async () => {
  const { jobId, end } = await runningJob();
  await whileClaimHoldsLock(jobId, async () => {
    // Taken exclusively, the lock would hold the end until the holder ends.
    const state = await Promise.race([end(), new Promise((resolve) => setTimeout(() => resolve('still waiting after 10 s'), 10_000))]);
    expect(state).toBe('SUCCEEDED');
  });
}, 60_000);

it("under the project's own limit, an attempt's end takes the lock exclusively: it waits for a claim's", async () => {
  const { jobId, end } = await runningJob();
  await t.app.services.pool.query(`UPDATE "Project" p SET "maxRunningAttempts" = 5 FROM "Job" j WHERE j.id = $1 AND p.id = j."projectId"`, [
    jobId,
  ]);
  try {
    let ended: Promise<string> | undefined;
    await whileClaimHoldsLock(jobId, async () => {
      ended = end();
      // The shared end found the limit; it is redone, waiting for the lock exclusively.
      await untilWaitingForLock(t.app.services.pool, 'WITH updated AS');
    });
    expect(await ended).toBe('SUCCEEDED');
  } finally {
    await t.app.services.pool.query(`UPDATE "Project" SET "maxRunningAttempts" = NULL`);
  }
}, 60_000);

it('two ends holding the lock shared wake a waiting job once: one queue entry', async () => {
  const { jobId: waiting } = await runningJob().then(async (r) => {
    await r.end();
    return r;
  });
  // A job waiting for a slot in a project without a limit (as a process with a default limit parks it).
  const { rows } = await t.app.services.pool.query<{ projectId: string }>(
    `UPDATE "Job" SET state = 'QUEUED', "slotWaitSince" = now() WHERE id = $1 RETURNING "projectId"`,
    [waiting],
  );
  const projectId = rows[0].projectId;
  const queued = async () =>
    (
      await t.app.services.pool.query(`SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE payload->>'jobId' = $1`, [
        waiting,
      ])
    ).rows[0].n as number;
  const before = await queued();
  const first = await t.app.services.pool.connect();
  const second = await t.app.services.pool.connect();
  try {
    await first.query('BEGIN');
    await second.query('BEGIN');
    expect(await wakeWaitingJobs(first, projectId, null)).toBe(1);
    const again = wakeWaitingJobs(second, projectId, null);
    await untilWaitingForLock(t.app.services.pool, 'WITH lim AS');
    await first.query('COMMIT');
    expect(await again).toBe(0);
    await second.query('COMMIT');
    expect(await queued()).toBe(before + 1);
  } finally {
    await first.query('ROLLBACK').catch(() => {});
    await second.query('ROLLBACK').catch(() => {});
    first.release();
    second.release();
  }
}, 60_000);

it('the end of an attempt claimed under a limit takes the lock exclusively at once: no transition written and rolled back', async () => {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  const jobId = res.data.createJob.id as string;
  await t.app.services.pool.query(`UPDATE "Project" p SET "maxRunningAttempts" = 5 FROM "Job" j WHERE j.id = $1 AND p.id = j."projectId"`, [
    jobId,
  ]);
  try {
    const attempt = await startAttempt(deps(), { jobId, workerId: 'w', executor: 'inline', defaultMaxRunning: null });
    expect(attempt?.underLimit).toBe(true);
    const log = recordStatements();
    try {
      const state = await finishAttempt(
        deps(),
        attempt!,
        { kind: 'succeeded', output: { ok: true }, guardrails: [] },
        { retryBaseMs: 1000, defaultMaxRunning: null },
      );
      expect(state).toBe('SUCCEEDED');
    } finally {
      log.stop();
    }
    expect(log.texts.filter((text) => text.startsWith('WITH updated AS') || text.startsWith('ROLLBACK'))).toEqual([
      expect.stringMatching(/FOR NO KEY UPDATE OF p/),
    ]);
  } finally {
    await t.app.services.pool.query(`UPDATE "Project" SET "maxRunningAttempts" = NULL`);
  }
}, 60_000);
