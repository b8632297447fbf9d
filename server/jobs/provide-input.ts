// The end of a wait for human input: a person's answer (provideInput), or the wait's timeout with
// the outcome the asking task chose. Either is one guarded transition out of AWAITING_INPUT, so of
// two concurrent answers (or an answer racing the timeout) exactly one wins and the other is a
// CONFLICT that changed nothing.
import { AppError, badInput } from '../errors.ts';
import type { Sql } from '../db/transaction.ts';
import { enqueueRun } from './enqueue-run.ts';
import { recordAnswer } from '../checkpoints/checkpoints.ts';
import { transitionJob, type TransitionDeps } from './transition-job.ts';

export const MAX_ANSWER_CHARS = 20_000;

interface InputRequest {
  task: string;
  question: string;
  askedAt: string;
  onTimeout?: 'fail' | 'cancel' | 'continue';
}

async function pendingRequest(sql: Sql, jobId: string): Promise<InputRequest | null> {
  const { rows } = await sql.query<{ inputRequest: InputRequest | null }>(`SELECT "inputRequest" FROM "Job" WHERE id = $1`, [jobId]);
  return rows[0]?.inputRequest ?? null;
}

const clearRequest = (sql: Sql, jobId: string) =>
  sql.query(`UPDATE "Job" SET "inputRequest" = NULL, "inputExpiresAt" = NULL WHERE id = $1`, [jobId]);

/**
 * Answers the question a waiting job asks: AWAITING_INPUT → QUEUED, the answer stored on the asking
 * task's checkpoint, and a run enqueued that resumes after that task — in one transaction.
 */
export async function provideInput(deps: TransitionDeps, req: { projectId: string; jobId: string; answer: string; actor: string }) {
  const answer = req.answer.trim();
  if (!answer) throw badInput('The answer is empty; write what the crew should know.', { field: 'answer' });
  if (answer.length > MAX_ANSWER_CHARS) throw badInput(`The answer is longer than ${MAX_ANSWER_CHARS} characters.`, { field: 'answer' });
  return transitionJob(deps, {
    jobId: req.jobId,
    projectId: req.projectId,
    from: 'AWAITING_INPUT',
    to: 'QUEUED',
    actor: req.actor,
    message: `Input provided by ${req.actor}`,
    effects: async (tx) => {
      const request = await pendingRequest(tx.sql, req.jobId);
      if (!request) throw new AppError('CONFLICT', 'The job is not waiting for input any more; nothing was changed.');
      if (!(await recordAnswer(tx.sql, req.jobId, request.task, answer, req.actor))) {
        throw new AppError('CONFLICT', `The checkpoint of task ${request.task} is gone (changes were requested); nothing was changed.`);
      }
      await tx.append({
        type: 'LOG',
        message: `Answer to task ${request.task}: ${answer.slice(0, 500)}`,
        data: { level: 'info', task: request.task, question: request.question, answer },
        actor: req.actor,
      });
      await clearRequest(tx.sql, req.jobId);
      await enqueueRun(tx.sql, req.jobId);
    },
  });
}

/**
 * Ends the waits whose inputTimeoutSeconds have passed, each with its task's onInputTimeout:
 * `fail` (FAILED, INPUT_TIMEOUT), `cancel` (CANCELLED) or `continue` (resumed without an answer).
 * Run by every worker's sweep; a wait answered meanwhile is left alone (the guarded transition).
 */
export async function expireInputWaits(deps: TransitionDeps): Promise<number> {
  const { rows } = await deps.pool.query<{ id: string; inputRequest: InputRequest }>(
    `SELECT id, "inputRequest" FROM "Job" WHERE state = 'AWAITING_INPUT' AND "inputExpiresAt" <= now() ORDER BY "inputExpiresAt" LIMIT 100`,
  );
  let ended = 0;
  for (const job of rows) {
    const r = job.inputRequest;
    const outcome = r?.onTimeout ?? 'fail';
    const reason = `No answer to task ${r?.task} came in time`;
    try {
      await transitionJob(deps, {
        jobId: job.id,
        from: 'AWAITING_INPUT',
        to: outcome === 'continue' ? 'QUEUED' : outcome === 'cancel' ? 'CANCELLED' : 'FAILED',
        actor: 'engine',
        message:
          outcome === 'continue'
            ? `${reason}; continuing without it`
            : outcome === 'cancel'
              ? `${reason}; cancelled`
              : `${reason} (INPUT_TIMEOUT)`,
        data: { code: 'INPUT_TIMEOUT', task: r?.task, outcome },
        ...(outcome === 'fail' ? { patch: { lastError: `INPUT_TIMEOUT: ${reason}.` } } : {}),
        effects: async (tx) => {
          const still = await tx.sql.query(`SELECT 1 FROM "Job" WHERE id = $1 AND "inputExpiresAt" <= now()`, [job.id]);
          if (!still.rowCount) throw new AppError('CONFLICT', 'answered meanwhile');
          if (outcome === 'continue') {
            await recordAnswer(tx.sql, job.id, r.task, null, 'timeout');
            await enqueueRun(tx.sql, job.id);
          }
          await clearRequest(tx.sql, job.id);
        },
      });
      ended++;
    } catch (err) {
      if (err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'INVALID_TRANSITION')) continue;
      throw err;
    }
  }
  return ended;
}

/** Cancelling a waiting job drops its question too (called in cancelJob's transaction). */
export const dropInputRequest = clearRequest;
