import { AppError } from '../errors.ts';
import { transitionJob, type TransitionDeps } from '../jobs/transition-job.ts';
import { enqueueRun, RUN_ATTEMPT_TASK } from '../jobs/enqueue-run.ts';
import { withTransaction, type Sql } from '../db/transaction.ts';
import { LOCK_PROJECT_OF_ATTEMPT, wakeWaitingJobs } from './project-slots.ts';
import { LAST_PAUSED_ATTEMPT, mayRetry } from './attempt-tries.ts';
import { CLAIM_HELD, HELD_CLAIM_KEYS } from './claim-marker.ts';

/**
 * Finds attempts whose worker stopped renewing the heartbeat for longer than the lease (a killed
 * or partitioned worker), marks them LOST and sends their jobs back to the queue (or to FAILED when
 * no attempts are left). Each recovery is one transaction guarded on the attempt still RUNNING,
 * so concurrent recoverers and a late-finishing worker cannot both win.
 */
export async function recoverLostAttempts(
  deps: TransitionDeps,
  opts: { leaseMs: number; retryBaseMs: number; defaultMaxRunning: number | null },
): Promise<number> {
  const { rows } = await deps.pool.query<{ id: string; jobId: string; number: number; maxAttempts: number; lastPaused: number }>(
    `SELECT a.id, a."jobId", a.number, (j.spec->>'maxAttempts')::int AS "maxAttempts", ${LAST_PAUSED_ATTEMPT('a."jobId"')} AS "lastPaused"
     FROM "JobAttempt" a JOIN "Job" j ON j.id = a."jobId"
     WHERE a.state = 'RUNNING' AND a."heartbeatAt" < now() - make_interval(secs => $1::double precision / 1000)
     ORDER BY a."heartbeatAt" LIMIT 100`,
    [opts.leaseMs],
  );
  let recovered = 0;
  for (const lost of rows) {
    const retry = mayRetry(lost.number, lost.lastPaused, lost.maxAttempts);
    try {
      await transitionJob(deps, {
        jobId: lost.jobId,
        from: 'RUNNING',
        to: retry ? 'QUEUED' : 'FAILED',
        actor: 'engine',
        attemptNumber: lost.number,
        message: `Attempt ${lost.number} lost: its worker stopped responding${retry ? '; retrying' : '; no attempts left'}`,
        data: { code: 'WORKER_LOST' },
        patch: { lastError: 'WORKER_LOST: the worker running the attempt stopped responding' },
        effects: async (tx) => {
          if (!(await markLost(tx.sql, lost.id, opts))) throw new AppError('CONFLICT', 'attempt recovered concurrently');
          if (retry) await enqueueRun(tx.sql, lost.jobId);
        },
      });
      recovered++;
    } catch (err) {
      if (err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'INVALID_TRANSITION')) {
        // The job is no longer RUNNING (e.g. cancelled): just close the orphaned attempt.
        await withTransaction(deps.pool, (sql) => markLost(sql, lost.id, opts));
        continue;
      }
      throw err;
    }
  }
  return recovered;
}

/**
 * Marks a RUNNING attempt whose heartbeat is older than the lease LOST, with its project's row
 * locked, and gives the slot it held to the project's next waiting job (project-slots.ts): a
 * killed worker's attempt frees its slot here. False when it was not (or no longer) lost.
 */
async function markLost(sql: Sql, attemptId: string, opts: { leaseMs: number; defaultMaxRunning: number | null }): Promise<boolean> {
  const { rows } = await sql.query<{ projectId: string; wake: boolean }>(
    `WITH ${LOCK_PROJECT_OF_ATTEMPT('$3::int')}
     UPDATE "JobAttempt" SET state = 'LOST', "finishedAt" = clock_timestamp(), "errorCode" = 'WORKER_LOST',
            "exitReason" = 'the worker stopped renewing its heartbeat'
     WHERE id = $1 AND state = 'RUNNING' AND "heartbeatAt" < now() - make_interval(secs => $2::double precision / 1000)
       AND EXISTS (SELECT 1 FROM project)
     RETURNING (SELECT id FROM project) AS "projectId", (SELECT wake FROM project) AS wake`,
    [attemptId, opts.leaseMs, opts.defaultMaxRunning],
  );
  if (rows.length === 0) return false;
  if (rows[0].wake) await wakeWaitingJobs(sql, rows[0].projectId, opts.defaultMaxRunning);
  return true;
}

/**
 * Renews the attempt's lease; false when the attempt is no longer ours to run (lost or ended). The
 * time is of the write (clock_timestamp), as the claim's first one: an update that waited for the
 * attempt's row (a charge in flight) does not write the time it started waiting.
 */
export async function renewHeartbeat(deps: TransitionDeps, attemptId: string): Promise<{ alive: boolean; jobState: string | null }> {
  const { rows } = await deps.pool.query<{ state: string }>(
    `UPDATE "JobAttempt" a SET "heartbeatAt" = clock_timestamp() FROM "Job" j
     WHERE a.id = $1 AND a.state = 'RUNNING' AND j.id = a."jobId" RETURNING j.state`,
    [attemptId],
  );
  return { alive: rows.length > 0, jobState: rows[0]?.state ?? null };
}

/**
 * Queue entries that will never run their job again: locked longer than the lease by a worker
 * that died before the attempt started (graphile-worker keeps such a lock for 4 hours, and counts
 * the claim as its one attempt), or given up by graphile-worker after a failure. Each is removed,
 * and a job left QUEUED with no entry gets a fresh one — in one transaction; a job parked for a
 * slot of its project (`slotWaitSince`) has none by design and is queued by the end that wakes it.
 * Entries of RUNNING jobs are left to the heartbeat lease, and those of a claim in its transaction
 * (waiting for its project's lock, say: claim-marker.ts) to the claim. Reads
 * graphile-worker's `_private_jobs` (0.18) for the payload, since its public view has none.
 */
export async function requeueDeadClaims(deps: TransitionDeps, opts: { leaseMs: number }): Promise<number> {
  return withTransaction(deps.pool, async (sql) => {
    const { rows } = await sql.query<{ job_id: string }>(
      `WITH claiming AS MATERIALIZED (${HELD_CLAIM_KEYS})
       DELETE FROM graphile_worker._private_jobs q
       WHERE q.task_id = (SELECT id FROM graphile_worker._private_tasks WHERE identifier = $2)
         AND ((q.locked_by IS NOT NULL AND q.locked_at < now() - make_interval(secs => $1::double precision / 1000)
               AND NOT ${CLAIM_HELD(`q.payload->>'jobId'`, 'claiming')})
              OR (q.locked_by IS NULL AND q.attempts >= q.max_attempts))
         AND NOT EXISTS (SELECT 1 FROM "Job" j WHERE j.id::text = q.payload->>'jobId' AND j.state = 'RUNNING')
       RETURNING q.payload->>'jobId' AS job_id`,
      [opts.leaseMs, RUN_ATTEMPT_TASK],
    );
    if (rows.length === 0) return 0;
    const { rows: stranded } = await sql.query<{ id: string }>(
      `SELECT j.id FROM "Job" j WHERE j.id::text = ANY($1::text[]) AND j.state = 'QUEUED' AND j."slotWaitSince" IS NULL
         AND NOT EXISTS (SELECT 1 FROM graphile_worker._private_jobs q WHERE q.payload->>'jobId' = j.id::text)
       FOR UPDATE OF j`,
      [[...new Set(rows.map((r) => r.job_id))]],
    );
    for (const { id } of stranded) await enqueueRun(sql, id);
    return stranded.length;
  });
}
