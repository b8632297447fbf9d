import { AppError } from '../errors.ts';
import { withTransaction, type Sql } from '../db/transaction.ts';
import { LOCK_PROJECT_OF_ATTEMPT, LOCK_PROJECT_OF_UPDATED_JOB, wakeWaitingJobs } from './project-slots.ts';
import type { JobState } from '../jobs/state-machine.ts';
import { transitionJob, type TransitionDeps, type TransitionTx } from '../jobs/transition-job.ts';
import { openReview } from '../reviews/open-review.ts';
import { enqueueRun } from '../jobs/enqueue-run.ts';
import { redactValue } from '../secrets/redact.ts';
import type { StartedAttempt } from './start-attempt.ts';
import { mayRetry } from './attempt-tries.ts';
import { violations } from '../guardrails/check-output.ts';
import { appendJobEvents, type NewJobEvent } from '../jobs/job-event.ts';
import { currentChain, recordQuestion, supersedeFrom } from '../checkpoints/checkpoints.ts';

export interface GuardrailResult {
  name: string;
  passed: boolean;
  message: string;
  details?: unknown;
}

export type AttemptOutcome =
  | { kind: 'succeeded'; output: unknown; guardrails: GuardrailResult[] }
  | { kind: 'failed'; code: string; message: string; retryable: boolean; guardrails?: GuardrailResult[]; output?: unknown }
  | { kind: 'budget_exceeded'; message: string }
  | { kind: 'cancelled'; message: string }
  /** A task asked a person: the job waits for the answer with no process running. */
  | { kind: 'awaiting_input'; task: string; question: string };

/** Exponential backoff: base, 2×base, 4×base… capped at 10 minutes. */
export function retryDelayMs(baseMs: number, attemptNumber: number): number {
  return Math.min(baseMs * 2 ** (attemptNumber - 1), 10 * 60_000);
}

type EndFields = { exitReason?: string; errorCode?: string; output?: unknown; guardrails?: GuardrailResult[] };

/** The values of an attempt's end, in the order of its statements' parameters (`$1`–`$7` from their first). */
function endValues(attemptId: string, state: string, fields: EndFields, defaultMaxRunning: number | null): unknown[] {
  return [
    attemptId,
    state,
    fields.exitReason ?? null,
    fields.errorCode ?? null,
    fields.output === undefined ? null : JSON.stringify(fields.output),
    fields.guardrails ? JSON.stringify(fields.guardrails) : null,
    defaultMaxRunning,
  ];
}

/**
 * Ends the RUNNING attempt with its project's row locked, then gives the slot it held to the
 * project's next waiting job when one may wait (project-slots.ts), in the caller's transaction. False when the
 * attempt was no longer running.
 */
export async function endRunningAttempt(
  sql: Sql,
  attemptId: string,
  state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'BUDGET_EXCEEDED' | 'PAUSED',
  fields: EndFields,
  defaultMaxRunning: number | null,
): Promise<boolean> {
  const { rows } = await sql.query<{ projectId: string; wake: boolean }>(
    `WITH ${LOCK_PROJECT_OF_ATTEMPT('$7::int')}
     UPDATE "JobAttempt" SET state = $2, "finishedAt" = clock_timestamp(), "exitReason" = $3, "errorCode" = $4, output = $5::jsonb, "guardrailResults" = $6::jsonb
     WHERE id = $1 AND state = 'RUNNING' AND EXISTS (SELECT 1 FROM project)
     RETURNING (SELECT id FROM project) AS "projectId", (SELECT wake FROM project) AS wake`,
    endValues(attemptId, state, fields, defaultMaxRunning),
  );
  if (rows.length === 0) return false;
  if (rows[0].wake) await wakeWaitingJobs(sql, rows[0].projectId, defaultMaxRunning);
  return true;
}

/**
 * The attempt's end in the statement of the job's transition (its `writeWith`): the RUNNING attempt
 * ends exactly when the job moves, with its project's row locked after the job's (project-slots.ts),
 * and returns whether a waiting job may need its slot. `effects` must call `slotFreed` first.
 */
function endAttemptWith(
  attemptId: string,
  state: 'SUCCEEDED' | 'FAILED' | 'BUDGET_EXCEEDED' | 'PAUSED',
  fields: EndFields,
  defaultMaxRunning: number | null,
) {
  return {
    writeWith: (params: unknown[]) => {
      params.push(...endValues(attemptId, state, fields, defaultMaxRunning));
      const n = params.length - 7;
      return `WITH ${LOCK_PROJECT_OF_UPDATED_JOB(`$${n + 7}::int`)}
              UPDATE "JobAttempt" SET state = $${n + 2}, "finishedAt" = clock_timestamp(), "exitReason" = $${n + 3}, "errorCode" = $${n + 4},
                     output = $${n + 5}::jsonb, "guardrailResults" = $${n + 6}::jsonb
              WHERE id = $${n + 1}::uuid AND state = 'RUNNING' AND EXISTS (SELECT 1 FROM project)
              RETURNING id, (SELECT wake FROM project) AS wake`;
    },
    /**
     * For a transition sent as its transaction's last (TransitionRequest.last) when the claim saw
     * nothing to follow it (StartedAttempt.endsLast): it is not the last when slotFreed has work.
     */
    last: (endsLast: boolean) => (endsLast ? { last: { unless: '(SELECT wake FROM written) IS NOT FALSE' } } : {}),
    /** After the statement, in its transaction: gives the slot to the project's next waiting job when one may wait. */
    slotFreed: async (tx: TransitionTx) => {
      // The attempt was declared lost (stale heartbeat) and the job already moved on without it.
      if (!tx.written) throw new AppError('CONFLICT', 'The attempt is no longer running.');
      if (tx.written.wake === true) await wakeWaitingJobs(tx.sql, tx.job.projectId, defaultMaxRunning);
    },
  };
}

/**
 * Ends an attempt in exactly one way, together with the job's transition, in one transaction:
 * SUCCEEDED / AWAITING_REVIEW, back to QUEUED with backoff (retryable failure with attempts left),
 * FAILED, BUDGET_EXCEEDED, or CANCELLED. Returns the job's state afterwards.
 */
export async function finishAttempt(
  deps: TransitionDeps,
  attempt: StartedAttempt,
  outcome: AttemptOutcome,
  opts: { retryBaseMs: number; defaultMaxRunning: number | null },
): Promise<JobState> {
  // What an attempt's end writes (lastError, exitReason, the STATE_CHANGED message) may quote a
  // runner or a provider: no secret passes this point.
  outcome = redactValue(outcome);
  const verdict = guardrailVerdict(outcome);
  // The job as the claim left it: if anything moved it since (a cancellation, the lost-attempt
  // sweep), the guarded update finds another version and the change is a CONFLICT (handled below).
  const base = {
    jobId: attempt.jobId,
    from: 'RUNNING' as const,
    read: { state: 'RUNNING' as const, projectId: attempt.projectId, version: attempt.jobVersion },
    actor: 'engine',
    attemptNumber: attempt.number,
  };
  try {
    switch (outcome.kind) {
      case 'succeeded': {
        const review = attempt.spec.requiresReview;
        const end = endAttemptWith(
          attempt.attemptId,
          'SUCCEEDED',
          { output: outcome.output, guardrails: outcome.guardrails, exitReason: 'completed' },
          opts.defaultMaxRunning,
        );
        await transitionJob(deps, {
          ...base,
          to: review ? 'AWAITING_REVIEW' : 'SUCCEEDED',
          message: review ? `Attempt ${attempt.number} finished; waiting for review` : `Attempt ${attempt.number} succeeded`,
          patch: { output: outcome.output, lastError: null },
          before: verdict,
          writeWith: end.writeWith,
          ...end.last(attempt.endsLast && !review),
          effects: async (tx) => {
            await end.slotFreed(tx);
            if (review) await openReview(tx, { attemptId: attempt.attemptId, output: outcome.output });
          },
        });
        return review ? 'AWAITING_REVIEW' : 'SUCCEEDED';
      }
      case 'budget_exceeded': {
        const end = endAttemptWith(
          attempt.attemptId,
          'BUDGET_EXCEEDED',
          { exitReason: outcome.message, errorCode: 'BUDGET_EXCEEDED' },
          opts.defaultMaxRunning,
        );
        await transitionJob(deps, {
          ...base,
          to: 'BUDGET_EXCEEDED',
          message: outcome.message,
          patch: { lastError: outcome.message },
          writeWith: end.writeWith,
          ...end.last(attempt.endsLast),
          effects: end.slotFreed,
        });
        return 'BUDGET_EXCEEDED';
      }
      case 'awaiting_input': {
        const { task, question } = outcome;
        const def = (attempt.spec.crew.tasks as { id: string; inputTimeoutSeconds?: number; onInputTimeout?: string }[]).find(
          (t) => t.id === task,
        );
        const timeout = def?.inputTimeoutSeconds;
        const onTimeout = def?.onInputTimeout ?? 'fail';
        const end = endAttemptWith(
          attempt.attemptId,
          'PAUSED',
          { exitReason: `waiting for input to task ${task}` },
          opts.defaultMaxRunning,
        );
        await transitionJob(deps, {
          ...base,
          to: 'AWAITING_INPUT',
          message: `Task ${task} asks: ${question}`,
          data: { task, question, ...(timeout ? { inputTimeoutSeconds: timeout, onInputTimeout: onTimeout } : {}) },
          writeWith: end.writeWith,
          effects: async (tx) => {
            await end.slotFreed(tx);
            await recordQuestion(tx.sql, attempt.jobId, task, question);
            await tx.sql.query(
              `UPDATE "Job" SET "inputRequest" = jsonb_build_object('task', $2::text, 'question', $3::text, 'askedAt', now(), 'onTimeout', $5::text),
                      "inputExpiresAt" = CASE WHEN $4::int IS NULL THEN NULL ELSE now() + make_interval(secs => $4::int) END
               WHERE id = $1`,
              [attempt.jobId, task, question, timeout ?? null, onTimeout],
            );
          },
        });
        return 'AWAITING_INPUT';
      }
      case 'failed': {
        const retry = outcome.retryable && mayRetry(attempt.number, attempt.lastPausedAttempt, attempt.spec.maxAttempts);
        const reason = `${outcome.code}: ${outcome.message}`;
        const delay = retryDelayMs(opts.retryBaseMs, attempt.number);
        const end = endAttemptWith(
          attempt.attemptId,
          'FAILED',
          { exitReason: outcome.message, errorCode: outcome.code, output: outcome.output, guardrails: outcome.guardrails },
          opts.defaultMaxRunning,
        );
        await transitionJob(deps, {
          ...base,
          to: retry ? 'QUEUED' : 'FAILED',
          message: retry
            ? `Attempt ${attempt.number} failed (${reason}); retrying in ${Math.round(delay / 100) / 10} s`
            : `Attempt ${attempt.number} failed (${reason})${outcome.retryable ? '; no attempts left' : ''}`,
          data: { code: outcome.code, retryable: outcome.retryable, ...(retry ? { retryInMs: delay } : {}) },
          patch: { lastError: reason },
          before: verdict,
          writeWith: end.writeWith,
          ...end.last(attempt.endsLast && !retry),
          effects: async (tx) => {
            await end.slotFreed(tx);
            if (retry) {
              // Every task is checkpointed, so the crew's result is what failed (guardrails, checks,
              // an unparsable answer): the last task runs again with the feedback, the others are kept.
              const tasks = attempt.spec.crew.tasks;
              if ((await currentChain(tx.sql, attempt.jobId, attempt.spec.crew)).length === tasks.length)
                await supersedeFrom(tx.sql, attempt.jobId, tasks.length - 1);
              await enqueueRun(tx.sql, attempt.jobId, new Date(Date.now() + delay));
            }
          },
        });
        return retry ? 'QUEUED' : 'FAILED';
      }
      case 'cancelled':
        await withTransaction(deps.pool, (sql) =>
          endRunningAttempt(sql, attempt.attemptId, 'CANCELLED', { exitReason: outcome.message }, opts.defaultMaxRunning),
        );
        return 'CANCELLED';
    }
  } catch (err) {
    if (!(err instanceof AppError) || (err.code !== 'CONFLICT' && err.code !== 'INVALID_TRANSITION')) throw err;
    // The job moved without us (cancelled, or the attempt was declared lost): record the verdict and what happened to the attempt.
    if (verdict.length)
      await deps.events.publish(
        await appendJobEvents(
          deps.pool,
          attempt.jobId,
          verdict.map((ev) => ({ ...ev, attemptNumber: attempt.number })),
        ),
      );
    const { rows } = await deps.pool.query<{ state: JobState }>(`SELECT state FROM "Job" WHERE id = $1`, [attempt.jobId]);
    await withTransaction(deps.pool, (sql) =>
      endRunningAttempt(
        sql,
        attempt.attemptId,
        'CANCELLED',
        { exitReason: `job became ${rows[0]?.state} while the attempt ran` },
        opts.defaultMaxRunning,
      ),
    );
    return rows[0]?.state;
  }
}

/**
 * The guardrails' verdict on the attempt's output (none: no verdict): the job's own record, stored
 * whatever the runner wrote (not capped), just before the attempt's end and in its statement.
 */
function guardrailVerdict(outcome: AttemptOutcome): NewJobEvent[] {
  const guardrails = 'guardrails' in outcome ? outcome.guardrails : undefined;
  if (!guardrails) return [];
  const failed = violations(guardrails);
  return [
    {
      type: 'GUARDRAIL',
      message: failed.length
        ? `Guardrails failed: ${failed.map((g) => g.name).join(', ')}`
        : `Guardrails passed (${guardrails.length} checks)`,
      data: { results: guardrails },
      actor: 'guardrails',
    },
  ];
}
