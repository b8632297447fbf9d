// An attempt's end decides whether to wake waiting jobs in the statement that ends it (the job's
// transition, finish-attempt.ts), whose snapshot predates its wait for the project's lock
// (project-slots.ts). These park a job in the transaction the end waits for, so that the park
// commits after the end's snapshot and before its lock: the waiting job must still be woken, under a
// limit set meanwhile (read from the locked row) and without one (a claim of a process whose
// operator set a default limit, in a fleet that disagrees on it, as during a rolling change).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PoolClient } from 'pg';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { untilWaitingForLock } from '../test/lock-wait.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startAttempt } from './start-attempt.ts';
import { finishAttempt } from './finish-attempt.ts';
import { lockProjectOfJob, takeSlotOrWait } from './project-slots.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});
const deps = () => ({ pool: t.app.services.pool, events: t.app.services.events });
const q = (sql: string, p: unknown[] = []) => t.app.services.pool.query(sql, p).then((r) => r.rows);

async function newJob(): Promise<string> {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  expect(res.errors).toBeUndefined();
  return res.data.createJob.id as string;
}

/**
 * Runs `park` in a transaction holding the project's lock, ends `running` (succeeded) while it
 * holds it, then commits it: the end's statement has taken its snapshot and waits for the lock.
 */
async function endWhileParking(running: string, parked: string, park: (sql: PoolClient) => Promise<void>) {
  const attempt = await startAttempt(deps(), { jobId: running, workerId: 'w', executor: 'inline', defaultMaxRunning: null });
  expect(attempt).not.toBeNull();
  const holder = await t.app.services.pool.connect();
  try {
    await holder.query('BEGIN');
    await park(holder);
    expect(await q(`SELECT "slotWaitSince" IS NOT NULL AS waits FROM "Job" WHERE id = $1`, [parked])).toEqual([{ waits: false }]);
    const finished = finishAttempt(
      deps(),
      attempt!,
      { kind: 'succeeded', output: { summary: 'done' }, guardrails: [] },
      { retryBaseMs: 10, defaultMaxRunning: null },
    );
    await untilWaitingForLock(t.app.services.pool, 'WITH updated AS');
    await holder.query('COMMIT');
    expect(await finished).toBe('SUCCEEDED');
  } finally {
    await holder.query('ROLLBACK').catch(() => {});
    holder.release();
  }
}

it('a limit set and a job parked under it while an end waits for the lock: the end wakes the job', async () => {
  const running = await newJob();
  const waiting = await newJob();
  await endWhileParking(running, waiting, async (sql) => {
    // setMaxRunningAttempts(1) and a claim parking under it, committed together.
    await sql.query(`UPDATE "Project" p SET "maxRunningAttempts" = 1 FROM "Job" j WHERE j.id = $1 AND p.id = j."projectId"`, [waiting]);
    const view = await lockProjectOfJob(sql, waiting, null);
    expect(view!.limit).toBe(1);
    expect(await takeSlotOrWait(sql, { ...view!, jobId: waiting, limit: 1 })).toBe(false);
  });
  // The end read the limit from the project's locked row (its latest version): the slot went to the job.
  expect(await q(`SELECT state, "slotWaitSince" IS NOT NULL AS waits FROM "Job" WHERE id = $1`, [waiting])).toEqual([
    { state: 'QUEUED', waits: false },
  ]);
  await q(`UPDATE "Project" p SET "maxRunningAttempts" = NULL FROM "Job" j WHERE j.id = $1 AND p.id = j."projectId"`, [waiting]);
}, 60_000);

it('a job parked by a process with a default limit while an end of a process without one waits for the lock: the end wakes the job', async () => {
  const running = await newJob();
  const waiting = await newJob();
  await endWhileParking(running, waiting, async (sql) => {
    // A claim of a process whose operator set a default limit of 1 (the project has none).
    const view = await lockProjectOfJob(sql, waiting, 1);
    expect(view!.limit).toBe(1);
    expect(await takeSlotOrWait(sql, { ...view!, jobId: waiting, limit: 1 })).toBe(false);
  });
  // Nothing of the project runs any more: unless this end woke it, the job waits for good.
  expect(await q(`SELECT count(*)::int AS n FROM "JobAttempt" WHERE state = 'RUNNING'`)).toEqual([{ n: 0 }]);
  expect(await q(`SELECT state, "slotWaitSince" IS NOT NULL AS waits FROM "Job" WHERE id = $1`, [waiting])).toEqual([
    { state: 'QUEUED', waits: false },
  ]);
}, 60_000);
