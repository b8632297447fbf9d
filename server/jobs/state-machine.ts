import { JobState } from '../db/generated/enums.ts';

// The states are prisma/schema.prisma's `JobState` enum (the database's type, from which the
// GraphQL enum and the web app's types are derived too).
export type { JobState };
export const JOB_STATES: readonly JobState[] = Object.values(JobState);

/**
 * The job lifecycle. This table is the only place that decides which state changes are legal
 * (a Record, so a state added to the schema does not compile until it is given its transitions);
 * `transitionJob` is the only code that writes `Job.state`.
 */
const TRANSITIONS: Record<JobState, readonly JobState[]> = {
  QUEUED: ['RUNNING', 'CANCELLED'],
  // QUEUED again: a failed attempt with retries left (or a lost worker) goes back to the queue.
  // AWAITING_INPUT: a task asked a person; the attempt ended (PAUSED), nothing runs meanwhile.
  RUNNING: ['AWAITING_REVIEW', 'AWAITING_INPUT', 'SUCCEEDED', 'QUEUED', 'FAILED', 'BUDGET_EXCEEDED', 'CANCELLED'],
  // QUEUED: provideInput (or a timeout whose outcome is to continue) resumes from the checkpoint;
  // FAILED / CANCELLED: a timeout's other outcomes, or cancelJob.
  AWAITING_INPUT: ['QUEUED', 'FAILED', 'CANCELLED'],
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
