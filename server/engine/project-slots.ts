import type { Sql } from '../db/transaction.ts';
import { ADD_RUN } from '../jobs/enqueue-run.ts';
import { MARK_CLAIM } from './claim-marker.ts';

/**
 * A project's running-attempts limit, held across every worker by the project's row lock:
 *
 * - a claim locks the project row first (`lockProjectOfJob`), then counts the project's RUNNING
 *   attempts in a later statement (so the count sees every release committed before the lock);
 *   at the limit the job stays QUEUED, marked `slotWaitSince`, with no queue entry and no attempt;
 * - an attempt that stops running locks the same row in the statement that ends it
 *   (`LOCK_PROJECT_OF_ATTEMPT`), then `wakeWaitingJobs` gives each free slot to the project's
 *   longest-waiting job by queueing it again, in the same transaction (skipped when the project has
 *   no limit and no job waits: see `LOCK_PROJECT_OF_ATTEMPT`).
 *
 * Both take the lock before reading, so a claim that parks a job and an attempt that ends cannot
 * miss each other: whichever commits second sees the other. The lock is FOR NO KEY UPDATE, which
 * does not block the FOR KEY SHARE that inserting a row referencing the project takes (jobs,
 * usage records). The count is of attempts, never a
 * counter, so a killed worker cannot leak a slot: its attempt holds one until the lost-attempt
 * sweep marks it LOST, and that sweep wakes the next job like any other end.
 */

export interface ClaimView {
  attemptCount: number;
  projectId: string;
  /** The project's limit, or the operator's default; null: no limit. */
  limit: number | null;
}

/**
 * Reads the job's attempt count and its project's limit, locking the project's row until commit.
 * Marks the claim in progress first (claim-marker.ts), before any wait for that lock.
 * `columns`: more of the claim's reads, as SQL over the job's row `j`, in the same statement, with
 * their values `params` ($3, $4…).
 */
export async function lockProjectOfJob<T extends object = object>(
  sql: Sql,
  jobId: string,
  defaultLimit: number | null,
  columns = '',
  params: unknown[] = [],
): Promise<(ClaimView & T) | null> {
  const { rows } = await sql.query<ClaimView & T>(
    `SELECT j."attemptCount", j."projectId", COALESCE(p."maxRunningAttempts", $2::int) AS "limit"${columns ? `, ${columns}` : ''}
     FROM "Job" j JOIN "Project" p ON p.id = j."projectId" WHERE j.id = $1 AND ${MARK_CLAIM('$1')} FOR NO KEY UPDATE OF p`,
    [jobId, defaultLimit, ...params],
  );
  return rows[0] ?? null;
}

const RUNNING_IN_PROJECT = (projectId: string) =>
  `(SELECT count(*)::int FROM "JobAttempt" a JOIN "Job" r ON r.id = a."jobId" WHERE r."projectId" = ${projectId} AND a.state = 'RUNNING')`;

/**
 * Under the project's lock: true when a slot is free; otherwise marks the job as waiting for one
 * (it keeps its QUEUED state and its place, and gets no attempt). One statement either way.
 */
export async function takeSlotOrWait(sql: Sql, view: ClaimView & { jobId: string; limit: number }): Promise<boolean> {
  const { rows } = await sql.query<{ free: boolean }>(
    `WITH running AS (SELECT ${RUNNING_IN_PROJECT('$2::uuid')} AS n),
          parked AS (UPDATE "Job" SET "slotWaitSince" = COALESCE("slotWaitSince", now())
                     WHERE id = $1 AND state = 'QUEUED' AND (SELECT n FROM running) >= $3::int RETURNING id),
          -- Parked under this process's default (the project has no limit of its own): a new version
          -- of the project's row, which tells an end waiting for the lock that a job may wait (MAY_WAKE).
          touched AS (UPDATE "Project" SET "maxRunningAttempts" = NULL
                      WHERE id = $2::uuid AND "maxRunningAttempts" IS NULL AND EXISTS (SELECT 1 FROM parked))
     SELECT (SELECT n FROM running) < $3::int AS free, (SELECT count(*) FROM parked) AS parked`,
    [view.jobId, view.projectId, view.limit],
  );
  return rows[0].free;
}

/**
 * A CTE for the statement that ends a RUNNING attempt `$1`: locks its project's row (the statement
 * must reference `project`, e.g. `AND EXISTS (SELECT 1 FROM project)`, or the CTE does not run) and
 * says whether a waiting job may need the slot (`wake`; `defaultLimit`: SQL of the operator's
 * default limit). Only then does the caller run `wakeWaitingJobs`, in a statement of its own:
 * - under a limit (the locked row is its latest version, so a limit set meanwhile counts), always;
 * - without one, when a job of the project waits (a limit that was removed, a default that
 *   changed), as the statement's snapshot sees it, or when the locked row is newer than that
 *   snapshot's version: a claim that parks a job under its process's default (the project has no
 *   limit) writes a new version of the row (takeSlotOrWait), so a park that committed while this
 *   statement waited for the lock is not missed when the fleet's processes disagree on the default
 *   (end-wake-after-lock.test.ts). Without a limit no other claim parks a job.
 */
export const LOCK_PROJECT_OF_ATTEMPT = (defaultLimit: string) => `project AS (
  SELECT p.id, ${MAY_WAKE(defaultLimit)} AS wake
  FROM "Project" p JOIN "Job" j ON j."projectId" = p.id JOIN "JobAttempt" a ON a."jobId" = j.id
  WHERE a.id = $1 FOR NO KEY UPDATE OF p)`;

/**
 * The same CTE for the statement of the job's transition that also ends its attempt (the CTE
 * `updated` is transitionInTransaction's guarded update of the job): it locks the project of the
 * updated job, so the job's row is locked first and the project's after it, the order of every
 * attempt's end; nothing is locked when the update lost.
 */
export const LOCK_PROJECT_OF_UPDATED_JOB = (defaultLimit: string) => `project AS (
  SELECT p.id, ${MAY_WAKE(defaultLimit)} AS wake
  FROM "Project" p WHERE p.id = (SELECT "projectId" FROM updated) FOR NO KEY UPDATE OF p)`;

/** Over the project's locked row `p`: whether a waiting job may need a slot (see LOCK_PROJECT_OF_ATTEMPT). */
const MAY_WAKE = (defaultLimit: string) =>
  `(COALESCE(p."maxRunningAttempts", ${defaultLimit}) IS NOT NULL
    OR EXISTS (SELECT 1 FROM "Job" w WHERE w."projectId" = p.id AND w."slotWaitSince" IS NOT NULL AND w.state = 'QUEUED')
    OR p.xmin <> (SELECT o.xmin FROM "Project" o WHERE o.id = p.id))`;

/**
 * After an attempt of the project stopped running, in the same transaction and under the project's
 * lock: queues the longest-waiting jobs again, as many as there are free slots (all of them when
 * the project has no limit any more). Returns how many were woken.
 */
export async function wakeWaitingJobs(sql: Sql, projectId: string, defaultLimit: number | null): Promise<number> {
  const { rows } = await sql.query<{ id: string }>(
    `WITH lim AS (SELECT COALESCE(p."maxRunningAttempts", $2::int) AS n FROM "Project" p WHERE p.id = $1),
          woken AS (
            UPDATE "Job" SET "slotWaitSince" = NULL
            WHERE id IN (SELECT id FROM "Job" WHERE "projectId" = $1 AND "slotWaitSince" IS NOT NULL AND state = 'QUEUED'
                         ORDER BY "slotWaitSince", id
                         LIMIT (SELECT CASE WHEN n IS NULL THEN NULL ELSE GREATEST(n - ${RUNNING_IN_PROJECT('$1')}, 0) END FROM lim))
            RETURNING id)
     SELECT woken.id, ${ADD_RUN('woken.id', '$1::uuid', 'now()')} FROM woken`,
    [projectId, defaultLimit],
  );
  return rows.length;
}
