import { AppError } from '../errors.ts';
import type { JobSpec } from '../jobs/job-spec.ts';
import { transitionInTransaction, type TransitionDeps } from '../jobs/transition-job.ts';
import { withTransaction } from '../db/transaction.ts';
import { lockProjectOfJob, takeSlotOrWait } from './project-slots.ts';
import type { ResumePoint } from '../runner-protocol/resume-point.ts';
import { LAST_PAUSED_ATTEMPT } from './attempt-tries.ts';
import { currentChain, resumePointOf } from '../checkpoints/checkpoints.ts';

export interface StartedAttempt {
  attemptId: string;
  number: number;
  jobId: string;
  projectId: string;
  spec: JobSpec;
  input: unknown;
  /** What the previous attempt left for this one: reviewer feedback, its output, its guardrail violations. */
  feedback: null | { comment?: string; previousOutput?: unknown; guardrailViolations?: { name: string; message: string }[] };
  /** The tasks earlier attempts completed, reused instead of run again (undefined: start at the first task). */
  resume?: ResumePoint;
  /** The number of the job's last PAUSED attempt (0: none): retries are counted from there. */
  lastPausedAttempt: number;
}

/**
 * Claims a queued job for this worker: QUEUED → RUNNING and a new JobAttempt, in one transaction.
 * Returns null when the job is no longer queued (cancelled, or claimed by another worker), or when
 * its project already runs as many attempts as its limit allows: then the job stays QUEUED and
 * waits for a slot (project-slots.ts), with no attempt recorded.
 */
export async function startAttempt(
  deps: TransitionDeps,
  req: { jobId: string; workerId: string; executor: string; defaultMaxRunning: number | null },
): Promise<StartedAttempt | null> {
  let started: StartedAttempt | null = null;
  try {
    const result = await withTransaction(deps.pool, async (sql) => {
      const current = await lockProjectOfJob(sql, req.jobId, req.defaultMaxRunning);
      if (!current) return null;
      if (current.limit !== null && !(await takeSlotOrWait(sql, { ...current, jobId: req.jobId, limit: current.limit }))) return null;
      const number = current.attemptCount + 1;
      return transitionInTransaction(sql, {
        jobId: req.jobId,
        from: 'QUEUED',
        to: 'RUNNING',
        actor: `worker ${req.workerId}`,
        message: `Attempt ${number} started (${req.executor} executor)`,
        attemptNumber: number,
        effects: async (tx) => {
          const { rows } = await tx.sql.query<{
            attemptCount: number;
            projectId: string;
            spec: JobSpec;
            input: unknown;
            feedback: string | null;
          }>(
            `WITH before AS (SELECT feedback FROM "Job" WHERE id = $1)
           UPDATE "Job" SET "attemptCount" = "attemptCount" + 1, feedback = NULL WHERE id = $1
           RETURNING "attemptCount", "projectId", spec, input, (SELECT feedback FROM before) AS feedback`,
            [req.jobId],
          );
          const job = rows[0];
          if (job.attemptCount !== number) throw new AppError('CONFLICT', 'The job was claimed concurrently.');
          const previous = await tx.sql.query<{ output: unknown; guardrailResults: unknown; exitReason: string | null }>(
            `SELECT output, "guardrailResults", "exitReason" FROM "JobAttempt" WHERE "jobId" = $1 ORDER BY number DESC LIMIT 1`,
            [req.jobId],
          );
          const last = previous.rows[0];
          const violations = Array.isArray(last?.guardrailResults)
            ? (last.guardrailResults as { name: string; message: string; passed: boolean }[])
                .filter((g) => !g.passed)
                .map((g) => ({ name: g.name, message: g.message }))
            : [];
          const feedback =
            job.feedback || violations.length
              ? {
                  ...(job.feedback ? { comment: job.feedback } : {}),
                  ...(last?.output !== null && last?.output !== undefined ? { previousOutput: last.output } : {}),
                  ...(violations.length ? { guardrailViolations: violations } : {}),
                }
              : null;
          const resume = resumePointOf(await currentChain(tx.sql, req.jobId, job.spec.crew));
          const paused = await tx.sql.query<{ n: number }>(`SELECT ${LAST_PAUSED_ATTEMPT('$1::uuid')} AS n`, [req.jobId]);
          const attempt = await tx.sql.query<{ id: string }>(
            `INSERT INTO "JobAttempt" (id, "jobId", number, state, executor, "workerId", feedback, "startedAt")
           VALUES (gen_random_uuid(), $1, $2, 'RUNNING', $3, $4, $5, clock_timestamp()) RETURNING id`,
            [req.jobId, job.attemptCount, req.executor, req.workerId, job.feedback],
          );
          started = {
            attemptId: attempt.rows[0].id,
            number: job.attemptCount,
            jobId: req.jobId,
            projectId: job.projectId,
            spec: job.spec,
            input: job.input,
            feedback,
            ...(resume ? { resume } : {}),
            lastPausedAttempt: paused.rows[0].n,
          };
        },
      });
    });
    if (result) await deps.events.publish(result.events);
  } catch (err) {
    // Someone else moved the job first (cancelled, or another worker claimed it): nothing to run.
    if (err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'INVALID_TRANSITION' || err.code === 'NOT_FOUND')) return null;
    throw err;
  }
  return started;
}
