import type { Sql } from '../db/transaction.ts';

export const RUN_ATTEMPT_TASK = 'runAttempt';

/**
 * Puts a run of the job on graphile-worker's queue, in the caller's transaction, so a job row
 * and its queue entry commit together or not at all. Retries are ours (the state machine's),
 * so graphile-worker gets max_attempts 1; `runAfter` implements our backoff.
 */
export async function enqueueRun(sql: Sql, jobId: string, runAfter?: Date): Promise<void> {
  await sql.query(
    `SELECT graphile_worker.add_job($1, json_build_object('jobId', $2::text), run_at := COALESCE($3::timestamptz, now()), max_attempts := 1)`,
    [RUN_ATTEMPT_TASK, jobId, runAfter ?? null],
  );
}
