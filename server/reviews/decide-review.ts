import type pg from 'pg';
import { AppError, badInput, notFound } from '../errors.ts';
import { enqueueRun } from '../jobs/enqueue-run.ts';
import { supersedeFrom } from '../checkpoints/checkpoints.ts';
import { checkOutput, violations } from '../guardrails/check-output.ts';
import type { JobState } from '../jobs/state-machine.ts';
import { transitionJob } from '../jobs/transition-job.ts';
import type { JobEventBus } from '../jobs/job-event-bus.ts';

export type Decision = 'APPROVE' | 'REJECT' | 'REQUEST_CHANGES';

const OUTCOME: Record<Decision, { status: string; to: JobState; verb: string }> = {
  APPROVE: { status: 'APPROVED', to: 'SUCCEEDED', verb: 'Approved' },
  REJECT: { status: 'REJECTED', to: 'REJECTED', verb: 'Rejected' },
  REQUEST_CHANGES: { status: 'CHANGES_REQUESTED', to: 'QUEUED', verb: 'Changes requested' },
};

export interface DecideRequest {
  projectId: string;
  reviewId: string;
  decision: Decision;
  /** The comment (approve, reject) or the feedback for the next attempt (request changes). */
  text?: string | null;
  /** Request changes: the task the next attempt runs from (default: the crew's last task); earlier tasks' outputs are reused. */
  fromTask?: string | null;
  /** Approve: the reviewer's edited output, which becomes the job's output once it passes the output guardrails. */
  editedOutput?: unknown;
  actor: { tokenId: string | null; name: string };
}

const MAX_TEXT = 20_000;

/**
 * Records a reviewer's decision and moves the job accordingly, in one transaction:
 * approve → SUCCEEDED, reject → REJECTED, request changes → QUEUED with the feedback stored
 * for the next attempt. A review decided by someone else first is a CONFLICT.
 */
export async function decideReview(deps: { pool: pg.Pool; events: JobEventBus }, req: DecideRequest): Promise<void> {
  const text = req.text?.trim() || null;
  if (req.decision === 'REJECT' && !text) throw badInput('A rejection needs a `comment` saying why.', { field: 'comment' });
  if (req.decision === 'REQUEST_CHANGES' && !text)
    throw badInput('Requesting changes needs `feedback` for the next attempt.', { field: 'feedback' });
  if (text && text.length > MAX_TEXT) throw badInput(`The comment is longer than ${MAX_TEXT} characters.`, { field: 'comment' });

  const { rows } = await deps.pool.query<{
    jobId: string;
    status: string;
    decidedBy: string | null;
    tasks: string[];
    outputSchema: object;
  }>(
    `SELECT r."jobId", r.status, r."decidedBy", ARRAY(SELECT t->>'id' FROM jsonb_array_elements(j.spec->'crew'->'tasks') t) AS tasks,
            j.spec->'outputSchema' AS "outputSchema"
     FROM "Review" r JOIN "Job" j ON j.id = r."jobId"
     WHERE r.id = $1 AND j."projectId" = $2`,
    [req.reviewId, req.projectId],
  );
  const review = rows[0];
  if (!review) throw notFound(`Review ${req.reviewId}`);
  if (req.fromTask != null && req.decision !== 'REQUEST_CHANGES')
    throw badInput('`fromTask` only goes with requestChanges.', { field: 'fromTask' });
  const fromIndex = req.fromTask == null ? review.tasks.length - 1 : review.tasks.indexOf(req.fromTask);
  if (fromIndex < 0) {
    throw badInput(
      `\`fromTask\` names \`${req.fromTask}\`, which is not a task of this job's crew (its tasks are ${review.tasks.join(', ')}).`,
      { field: 'fromTask' },
    );
  }
  if (review.status !== 'PENDING') {
    throw new AppError('CONFLICT', `This review is already ${review.status}${review.decidedBy ? ` (by ${review.decidedBy})` : ''}.`, {
      status: review.status,
    });
  }
  const edited = req.editedOutput !== undefined;
  if (edited && req.decision !== 'APPROVE') throw badInput('An edited `output` only goes with approveReview.', { field: 'output' });
  if (edited) await refuseInvalidEdit(review.outputSchema, req.editedOutput);
  const outcome = OUTCOME[req.decision];
  await transitionJob(deps, {
    jobId: review.jobId,
    projectId: req.projectId,
    from: 'AWAITING_REVIEW',
    to: outcome.to,
    actor: req.actor.name,
    message: `${outcome.verb}${edited ? ' with an edited output' : ''}${text ? `: ${text}` : ''}`,
    data: {
      reviewId: req.reviewId,
      decision: req.decision,
      ...(text ? { comment: text } : {}),
      ...(req.decision === 'REQUEST_CHANGES' ? { fromTask: review.tasks[fromIndex] } : {}),
      ...(edited ? { edited: true } : {}),
    },
    patch: req.decision === 'REQUEST_CHANGES' ? { feedback: text } : edited ? { output: req.editedOutput } : undefined,
    effects: async ({ sql }) => {
      const decided = await sql.query(
        `UPDATE "Review" SET status = $2, comment = $3, feedback = $4, "decidedById" = $5, "decidedBy" = $6, "decidedAt" = now(), "editedOutput" = $7::jsonb
         WHERE id = $1 AND status = 'PENDING'`,
        [
          req.reviewId,
          outcome.status,
          req.decision === 'REQUEST_CHANGES' ? null : text,
          req.decision === 'REQUEST_CHANGES' ? text : null,
          req.actor.tokenId,
          req.actor.name,
          edited ? JSON.stringify(req.editedOutput) : null,
        ],
      );
      if (decided.rowCount === 0) throw new AppError('CONFLICT', 'Someone else decided this review first; nothing was changed.');
      if (req.decision === 'REQUEST_CHANGES') {
        // The next attempt runs from the named task; the tasks before it keep their checkpoints.
        await supersedeFrom(sql, review.jobId, fromIndex);
        await enqueueRun(sql, review.jobId);
      }
    },
  });
}

/** A reviewer's edited output passes the same guardrails as the crew's (schema, size, no secrets), or is refused with the violations. */
async function refuseInvalidEdit(outputSchema: object, output: unknown): Promise<void> {
  const failed = violations(await checkOutput(outputSchema, output));
  if (!failed.length) return;
  throw badInput(`The edited output is refused: ${failed.map((g) => g.message).join(' ')}`, {
    field: 'output',
    violations: failed.map((g) => ({ name: g.name, message: g.message })),
  });
}
