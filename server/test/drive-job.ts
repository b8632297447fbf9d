import { CREATE_JOB, TRIAGE_INPUT } from './fixtures.ts';
import type { JobState } from '../jobs/state-machine.ts';
import { transitionJob } from '../jobs/transition-job.ts';
import { openReview } from '../reviews/open-review.ts';
import type { Services } from '../services.ts';
import type { Sql } from '../db/transaction.ts';

// The legal path from QUEUED to each state, as the engine would walk it.
const PATHS: Record<JobState, JobState[]> = {
  QUEUED: [],
  RUNNING: ['RUNNING'],
  AWAITING_REVIEW: ['RUNNING', 'AWAITING_REVIEW'],
  AWAITING_INPUT: ['RUNNING', 'AWAITING_INPUT'],
  SUCCEEDED: ['RUNNING', 'SUCCEEDED'],
  FAILED: ['RUNNING', 'FAILED'],
  REJECTED: ['RUNNING', 'AWAITING_REVIEW', 'REJECTED'],
  CANCELLED: ['CANCELLED'],
  BUDGET_EXCEEDED: ['RUNNING', 'BUDGET_EXCEEDED'],
};

/** What the engine leaves when a task asks (finish-attempt.ts): the first task's checkpoint with the question, and the job's inputRequest. */
async function askAsTheEngineWould(sql: Sql, jobId: string) {
  const { rows } = await sql.query<{ task: string }>(`SELECT spec->'crew'->'tasks'->0->>'id' AS task FROM "Job" WHERE id = $1`, [jobId]);
  const task = rows[0].task;
  await sql.query(
    `INSERT INTO "TaskCheckpoint" ("jobId", "attemptNumber", task, "taskIndex", output, question) VALUES ($1, 1, $2, 0, 'Done.', 'Go on?')`,
    [jobId, task],
  );
  await sql.query(
    `UPDATE "Job" SET "inputRequest" = jsonb_build_object('task', $2::text, 'question', 'Go on?', 'askedAt', now()) WHERE id = $1`,
    [jobId, task],
  );
}

/** Moves a freshly created job to `target` through the state machine (no worker involved). */
export async function driveJob(services: Services, jobId: string, target: JobState, output: unknown = { summary: 'done' }) {
  for (const to of PATHS[target]) {
    await transitionJob(services, {
      jobId,
      to,
      actor: 'test-engine',
      patch: to === 'AWAITING_REVIEW' || to === 'SUCCEEDED' ? { output } : undefined,
      effects:
        to === 'AWAITING_REVIEW'
          ? (tx) => openReview(tx, { attemptId: null, output }).then(() => undefined)
          : to === 'AWAITING_INPUT'
            ? (tx) => askAsTheEngineWould(tx.sql, jobId)
            : undefined,
    });
  }
}

/** A triage-bug job created through GraphQL and moved to RUNNING, as the budget tests charge it. */
export async function createRunningJob(
  t: { app: { services: Services }; gql(query: string, variables?: Record<string, unknown>): Promise<any> },
  maxCostUsd?: number,
): Promise<string> {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd } });
  await driveJob(t.app.services, res.data.createJob.id, 'RUNNING');
  return res.data.createJob.id;
}
