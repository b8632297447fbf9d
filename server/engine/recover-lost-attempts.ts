import { AppError } from '../errors.ts';
import { transitionJob, type TransitionDeps } from '../jobs/transition-job.ts';
import { enqueueRun } from './enqueue-run.ts';

/**
 * Finds attempts whose worker stopped renewing the heartbeat for longer than the lease (a killed
 * or partitioned worker), marks them LOST and sends their jobs back to the queue (or to FAILED when
 * no attempts are left). Each recovery is one transaction guarded on the attempt still RUNNING,
 * so concurrent recoverers and a late-finishing worker cannot both win.
 */
export async function recoverLostAttempts(deps: TransitionDeps, opts: { leaseMs: number; retryBaseMs: number }): Promise<number> {
  const { rows } = await deps.pool.query<{ id: string; jobId: string; number: number; maxAttempts: number }>(
    `SELECT a.id, a."jobId", a.number, (j.spec->>'maxAttempts')::int AS "maxAttempts"
     FROM "JobAttempt" a JOIN "Job" j ON j.id = a."jobId"
     WHERE a.state = 'RUNNING' AND a."heartbeatAt" < now() - make_interval(secs => $1::double precision / 1000)
     ORDER BY a."heartbeatAt" LIMIT 100`,
    [opts.leaseMs],
  );
  let recovered = 0;
  for (const lost of rows) {
    const retry = lost.number < lost.maxAttempts;
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
          const marked = await tx.sql.query(
            `UPDATE "JobAttempt" SET state = 'LOST', "finishedAt" = now(), "errorCode" = 'WORKER_LOST',
                    "exitReason" = 'the worker stopped renewing its heartbeat'
             WHERE id = $1 AND state = 'RUNNING' AND "heartbeatAt" < now() - make_interval(secs => $2::double precision / 1000)`,
            [lost.id, opts.leaseMs],
          );
          if (marked.rowCount === 0) throw new AppError('CONFLICT', 'attempt recovered concurrently');
          if (retry) await enqueueRun(tx.sql, lost.jobId);
        },
      });
      recovered++;
    } catch (err) {
      if (err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'INVALID_TRANSITION')) {
        // The job is no longer RUNNING (e.g. cancelled): just close the orphaned attempt.
        await deps.pool.query(
          `UPDATE "JobAttempt" SET state = 'LOST', "finishedAt" = now(), "errorCode" = 'WORKER_LOST' WHERE id = $1 AND state = 'RUNNING'
           AND "heartbeatAt" < now() - make_interval(secs => $2::double precision / 1000)`,
          [lost.id, opts.leaseMs],
        );
        continue;
      }
      throw err;
    }
  }
  return recovered;
}

/** Renews the attempt's lease; false when the attempt is no longer ours to run (lost or ended). */
export async function renewHeartbeat(deps: TransitionDeps, attemptId: string): Promise<{ alive: boolean; jobState: string | null }> {
  const { rows } = await deps.pool.query<{ state: string }>(
    `UPDATE "JobAttempt" a SET "heartbeatAt" = now() FROM "Job" j
     WHERE a.id = $1 AND a.state = 'RUNNING' AND j.id = a."jobId" RETURNING j.state`,
    [attemptId],
  );
  return { alive: rows.length > 0, jobState: rows[0]?.state ?? null };
}
