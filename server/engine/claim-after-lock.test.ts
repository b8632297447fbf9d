// A claim (start-attempt.ts) may wait for its project's row lock (another claim, an attempt's end).
// What it writes and reads must be as of after that wait, not as of its transaction's start:
// - the spending bound: a budget raised while it waits was raised before the attempt started. Read
//   in the locking statement, whose snapshot predates the wait, the runner got the old budget and
//   stopped early (BUDGET_EXCEEDED). The limit, read by that locking statement, is its latest
//   version (a limit set meanwhile holds).
// - the attempt's first heartbeat: written as the transaction's now() (its start), an attempt whose
//   claim waited longer than the lease was born stale, and the lost-attempt sweep could take it
//   from a live worker before its first renewal (the likely cause of a CI run's flood of one
//   project's jobs ending with one of 505 not SUCCEEDED: maxAttempts 1, a 2 s lease).
// - its queue entry: graphile-worker stamped the entry's lock when it fetched it, before the claim;
//   the dead-claim sweep took an entry locked longer than the lease, its job not RUNNING, for a dead
//   worker's and queued the job again: a second entry (a claim that fails CONFLICT), and under a
//   project limit a parked job queued ahead of the jobs that waited longer.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { untilWaitingForLock } from '../test/lock-wait.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startAttempt } from './start-attempt.ts';
import { spendingBound } from '../budgets/spending-bound.ts';
import { recoverLostAttempts, requeueDeadClaims } from './recover-lost-attempts.ts';
import { enqueueRun } from '../jobs/enqueue-run.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});
const deps = () => ({ pool: t.app.services.pool, events: t.app.services.events });

/** A new QUEUED job (its queue entry is not taken: this server runs no worker); its id. */
async function newJob(): Promise<string> {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  expect(res.errors).toBeUndefined();
  return res.data.createJob.id as string;
}

/** The claim a worker makes for the job (no default limit). */
const claimJob = (jobId: string) => startAttempt(deps(), { jobId, workerId: 'w', executor: 'inline', defaultMaxRunning: null });

/** What holds the job's project row in the tests below: a claim or an attempt's end (by default), or an update of the row. */
const LOCK_PROJECT = `SELECT 1 FROM "Project" p JOIN "Job" j ON j."projectId" = p.id WHERE j.id = $1 FOR NO KEY UPDATE OF p`;

/** A claim of the job whose statement waits for the project's row lock, which `holder` holds (taken by `lock`, over the job `$1`) until it commits. */
async function claimBehindLock(jobId: string, lock = LOCK_PROJECT) {
  const holder = await t.app.services.pool.connect();
  let claim: ReturnType<typeof startAttempt> | undefined;
  try {
    await holder.query('BEGIN');
    await holder.query(lock, [jobId]);
    claim = claimJob(jobId);
    await untilWaitingForLock(t.app.services.pool, 'SELECT j."attemptCount", j."projectId"');
    return { holder, claim };
  } catch (err) {
    // The claim goes on once the lock is free; its outcome no longer matters to a failed test.
    claim?.catch(() => {});
    await holder.query('ROLLBACK').catch(() => {});
    holder.release();
    throw err;
  }
}

it('a budget raised while the claim waits for the project lock is the bound the attempt starts with', async () => {
  const set = await t.gql(`mutation { setBudget(input: { limitUsd: 0.01, period: TOTAL }) { limitUsd } }`);
  expect(set.errors).toBeUndefined();
  const jobId = await newJob();

  const { holder, claim } = await claimBehindLock(jobId);
  try {
    // The budget is raised meanwhile (setBudget takes the budget's lock, not the project's row).
    const raised = await t.gql(`mutation { setBudget(input: { limitUsd: 5, period: TOTAL }) { limitUsd } }`);
    expect(raised.errors).toBeUndefined();
    await holder.query('COMMIT');
    const started = await claim;
    expect(started).not.toBeNull();
    // The attempt started after the raise: its runner may spend the raised budget.
    expect(started!.bound.remainingUsd).toBe('5');
    const models = (started!.spec.crew.agents as { model: string }[]).map((a) => a.model);
    expect(started!.bound).toEqual(await spendingBound(t.app.services.pool, jobId, models));
  } finally {
    await holder.query('ROLLBACK').catch(() => {});
    holder.release();
  }
}, 60_000);

it('a limit set while the claim waits for the project lock holds the claim: it parks the job', async () => {
  const first = await claimJob(await newJob());
  expect(first).not.toBeNull();
  const jobId = await newJob();
  // setMaxRunningAttempts(1)'s update, not yet committed, holds the project's row.
  const { holder, claim } = await claimBehindLock(
    jobId,
    `UPDATE "Project" p SET "maxRunningAttempts" = 1 FROM "Job" j WHERE j.id = $1 AND p.id = j."projectId"`,
  );
  try {
    await holder.query('COMMIT');
    // The claim read the limit from the locked row (its latest version): one attempt runs, the job waits.
    expect(await claim).toBeNull();
    const { rows } = await t.app.services.pool.query(`SELECT state, "slotWaitSince" IS NOT NULL AS waits FROM "Job" WHERE id = $1`, [
      jobId,
    ]);
    expect(rows).toEqual([{ state: 'QUEUED', waits: true }]);
  } finally {
    await holder.query('ROLLBACK').catch(() => {});
    holder.release();
    await t.app.services.pool.query(`UPDATE "Project" SET "maxRunningAttempts" = NULL`);
  }
}, 60_000);

it('an attempt whose claim waited longer than the lease for the project lock starts with a fresh heartbeat: the sweep leaves it', async () => {
  // Long enough that the claim's return and the sweep below fit in it on a loaded machine.
  const LEASE_MS = 2_000;
  const jobId = await newJob();
  const { holder, claim } = await claimBehindLock(jobId);
  try {
    // The claim waits for twice the lease.
    await new Promise((r) => setTimeout(r, 2 * LEASE_MS));
    await holder.query('COMMIT');
    const started = await claim;
    expect(started).not.toBeNull();
    // Right after the claim, before its worker renewed anything: the attempt is not lost.
    // (The earlier tests' attempts, idle since, are lost to it by now.)
    await recoverLostAttempts(deps(), { leaseMs: LEASE_MS, retryBaseMs: 10, defaultMaxRunning: null });
    const { rows } = await t.app.services.pool.query(
      `SELECT a.state, j.state AS "jobState" FROM "JobAttempt" a JOIN "Job" j ON j.id = a."jobId" WHERE a.id = $1`,
      [started!.attemptId],
    );
    expect(rows[0]).toEqual({ state: 'RUNNING', jobState: 'RUNNING' });
  } finally {
    await holder.query('ROLLBACK').catch(() => {});
    holder.release();
  }
}, 60_000);

/** The job's graphile-worker entries, as the dead-claim sweep sees them. */
async function queueEntries(jobId: string) {
  const { rows } = await t.app.services.pool.query<{ id: string; locked_by: string | null }>(
    `SELECT id, locked_by FROM graphile_worker._private_jobs WHERE payload->>'jobId' = $1 ORDER BY id`,
    [jobId],
  );
  return rows;
}

/** Removes the job's queue entries (what this server's absent worker would have taken). */
async function dropEntries(jobId: string) {
  await t.app.services.pool.query(`DELETE FROM graphile_worker._private_jobs WHERE payload->>'jobId' = $1`, [jobId]);
}

/** As if a worker `w` had fetched the job's entry an hour ago (graphile-worker stamps locked_at at the fetch). */
async function lockedLongAgo(jobId: string) {
  const { rowCount } = await t.app.services.pool.query(
    `UPDATE graphile_worker._private_jobs SET locked_by = 'w', locked_at = now() - interval '1 hour' WHERE payload->>'jobId' = $1`,
    [jobId],
  );
  expect(rowCount).toBe(1);
}

it("a claim waiting longer than the lease for its project's lock keeps its queue entry: the dead-claim sweep leaves it", async () => {
  const jobId = await newJob();
  await lockedLongAgo(jobId);
  const [entry] = await queueEntries(jobId);
  const { holder, claim } = await claimBehindLock(jobId);
  try {
    // The sweep of a worker with a 2 s lease, while the claim waits: nothing is requeued, the entry stays the claim's.
    expect(await requeueDeadClaims(deps(), { leaseMs: 2_000 })).toBe(0);
    expect(await queueEntries(jobId)).toEqual([entry]);
    await holder.query('COMMIT');
    expect(await claim).not.toBeNull();
  } finally {
    await holder.query('ROLLBACK').catch(() => {});
    holder.release();
    await dropEntries(jobId);
  }
}, 60_000);

it('a job its claim parked for a slot is not queued again by the dead-claim sweep, and once claimed it no longer waits for one', async () => {
  const first = await claimJob(await newJob());
  expect(first).not.toBeNull();
  await t.app.services.pool.query(`UPDATE "Project" SET "maxRunningAttempts" = 1 WHERE id = $1`, [first!.projectId]);
  try {
    const jobId = await newJob();
    expect(await claimJob(jobId)).toBeNull();
    // Parked; its entry is still locked by the worker that fetched it (graphile-worker deletes it once the task returns).
    await lockedLongAgo(jobId);
    await requeueDeadClaims(deps(), { leaseMs: 2_000 });
    expect(await queueEntries(jobId)).toEqual([]);
    const { rows } = await t.app.services.pool.query(`SELECT state, "slotWaitSince" IS NOT NULL AS waits FROM "Job" WHERE id = $1`, [
      jobId,
    ]);
    expect(rows).toEqual([{ state: 'QUEUED', waits: true }]);
    // Claimed through another entry (a duplicate, not the wake that clears the mark) once a slot is
    // free: the job no longer counts as waiting (a stale mark hid it from the queue's positions and
    // from this sweep's repairs after a later return to QUEUED).
    await t.app.services.pool.query(`UPDATE "Project" SET "maxRunningAttempts" = NULL`);
    expect(await claimJob(jobId)).not.toBeNull();
    const claimed = await t.app.services.pool.query(`SELECT state, "slotWaitSince" IS NOT NULL AS waits FROM "Job" WHERE id = $1`, [jobId]);
    expect(claimed.rows).toEqual([{ state: 'RUNNING', waits: false }]);
  } finally {
    await t.app.services.pool.query(`UPDATE "Project" SET "maxRunningAttempts" = NULL`);
  }
}, 60_000);

it("a queue entry names its job in the id's own spelling, whatever the caller's (ids match case-insensitively)", async () => {
  const jobId = await newJob();
  await dropEntries(jobId);
  // As provideInput queues a run with the id its caller typed.
  await enqueueRun(t.app.services.pool, jobId.toUpperCase());
  // The sweep and the claim's marker find the entry by the job's own text.
  expect(await queueEntries(jobId)).toHaveLength(1);
  await dropEntries(jobId);
}, 60_000);
