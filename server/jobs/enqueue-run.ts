import type { Sql } from '../db/transaction.ts';

export const RUN_ATTEMPT_TASK = 'runAttempt';

/**
 * The queue priority of a project's next run: how many of its jobs already wait in the queue
 * (QUEUED and not waiting for a slot of their project's limit). graphile-worker takes the lowest
 * priority first, so the projects' queues interleave by position: a project that enqueues 5 jobs
 * after another's 500 sees its first run next, not after the 500. graphile-worker keeps priorities
 * in a smallint, hence the cap.
 */
export const QUEUE_POSITION = (projectId: string, unseen = 0) =>
  `(SELECT LEAST(count(*) + ${unseen}, 32767)::int FROM "Job" q WHERE q."projectId" = ${projectId} AND q.state = 'QUEUED' AND q."slotWaitSince" IS NULL)`;

/**
 * SQL queueing a run of the job (`jobId`, `projectId`: SQL; `runAt`: SQL of a timestamptz). Retries
 * are ours (the state machine's), so graphile-worker gets max_attempts 1. `unseen`: queued jobs the
 * statement's snapshot cannot count (its own insert). The entry names the job in the uuid's own
 * text (lower case), whatever the caller's spelling (ids are matched case-insensitively): the
 * dead-claim sweep matches entries to jobs and claims by that text (recover-lost-attempts.ts).
 */
export const ADD_RUN = (jobId: string, projectId: string, runAt: string, unseen = 0) =>
  `graphile_worker.add_job('${RUN_ATTEMPT_TASK}', json_build_object('jobId', (${jobId})::text::uuid::text), run_at := ${runAt}, max_attempts := 1,
     priority := ${QUEUE_POSITION(projectId, unseen)})`;

/**
 * SQL queueing a run of a job the same statement inserts (`jobId`, `projectId`: SQL over its row):
 * the statement's snapshot does not see that job, so the position counts it (`+ 1`).
 */
export const ADD_RUN_OF_NEW_JOB = (jobId: string, projectId: string) => ADD_RUN(jobId, projectId, 'now()', 1);

/**
 * Puts a run of the job on graphile-worker's queue, in the caller's transaction, so a job row
 * and its queue entry commit together or not at all; `runAfter` implements our backoff. The job
 * itself is QUEUED already, so its position counts it: 1 for a project's only queued job.
 */
export async function enqueueRun(sql: Sql, jobId: string, runAfter?: Date): Promise<void> {
  await sql.query(
    `SELECT ${ADD_RUN('$1', `(SELECT "projectId" FROM "Job" WHERE id = $1::text::uuid)`, 'COALESCE($2::timestamptz, now())')}`,
    [jobId, runAfter ?? null],
  );
}
