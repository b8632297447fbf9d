/**
 * The job lifecycle. This table is the only place that decides which state changes are legal;
 * `transitionJob` is the only code that writes `Job.state`.
 */
export const JOB_STATES = [
  'QUEUED',
  'RUNNING',
  'AWAITING_REVIEW',
  'SUCCEEDED',
  'FAILED',
  'REJECTED',
  'CANCELLED',
  'BUDGET_EXCEEDED',
] as const;
export type JobState = (typeof JOB_STATES)[number];

const TRANSITIONS: Record<JobState, readonly JobState[]> = {
  QUEUED: ['RUNNING', 'CANCELLED'],
  // QUEUED again: a failed attempt with retries left (or a lost worker) goes back to the queue.
  RUNNING: ['AWAITING_REVIEW', 'SUCCEEDED', 'QUEUED', 'FAILED', 'BUDGET_EXCEEDED', 'CANCELLED'],
  // SUCCEEDED: approve; REJECTED: reject; QUEUED: request changes.
  AWAITING_REVIEW: ['SUCCEEDED', 'REJECTED', 'QUEUED', 'CANCELLED'],
  SUCCEEDED: [],
  FAILED: [],
  REJECTED: [],
  CANCELLED: [],
  BUDGET_EXCEEDED: [],
};

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(state: JobState): boolean {
  return TRANSITIONS[state].length === 0;
}

export function allowedTransitions(from: JobState): readonly JobState[] {
  return TRANSITIONS[from];
}
