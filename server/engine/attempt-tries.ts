// How many tries of a job's current run an attempt is: a pause for human input ends a run without
// failing, so the attempts before it do not use up the template's maxAttempts for the tasks after it.

/** SQL for the number of the job's last PAUSED attempt (0: none); `job` is the SQL naming the job id. */
export const LAST_PAUSED_ATTEMPT = (job: string) =>
  `(SELECT COALESCE(max(p.number), 0) FROM "JobAttempt" p WHERE p."jobId" = ${job} AND p.state = 'PAUSED')`;

/** Whether a failed attempt may be retried: fewer than maxAttempts tries since the last pause. */
export function mayRetry(attemptNumber: number, lastPausedAttempt: number, maxAttempts: number): boolean {
  return attemptNumber - lastPausedAttempt < maxAttempts;
}
