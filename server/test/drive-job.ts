import type { JobState } from '../jobs/state-machine.ts';
import { transitionJob } from '../jobs/transition-job.ts';
import { openReview } from '../reviews/open-review.ts';
import type { Services } from '../services.ts';

// The legal path from QUEUED to each state, as the engine would walk it.
const PATHS: Record<JobState, JobState[]> = {
  QUEUED: [],
  RUNNING: ['RUNNING'],
  AWAITING_REVIEW: ['RUNNING', 'AWAITING_REVIEW'],
  SUCCEEDED: ['RUNNING', 'SUCCEEDED'],
  FAILED: ['RUNNING', 'FAILED'],
  REJECTED: ['RUNNING', 'AWAITING_REVIEW', 'REJECTED'],
  CANCELLED: ['CANCELLED'],
  BUDGET_EXCEEDED: ['RUNNING', 'BUDGET_EXCEEDED'],
};

/** Moves a freshly created job to `target` through the state machine (no worker involved). */
export async function driveJob(services: Services, jobId: string, target: JobState, output: unknown = { summary: 'done' }) {
  for (const to of PATHS[target]) {
    await transitionJob(services, {
      jobId,
      to,
      actor: 'test-engine',
      patch: to === 'AWAITING_REVIEW' || to === 'SUCCEEDED' ? { output } : undefined,
      effects: to === 'AWAITING_REVIEW' ? (tx) => openReview(tx, { attemptId: null, output }).then(() => undefined) : undefined,
    });
  }
}
