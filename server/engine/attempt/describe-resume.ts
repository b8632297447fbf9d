import type { StartedAttempt } from '../start-attempt.ts';

/** The log line an attempt that resumes from checkpoints starts with: which tasks it reuses and where it starts. */
export function describeResume(
  a: Pick<StartedAttempt, 'resume' | 'spec'>,
): { message: string; data: { reused: string[]; startsAt: string | null } } | null {
  const reused = a.resume?.completed.map((c) => c.task) ?? [];
  if (!reused.length) return null;
  const tasks = a.spec.crew.tasks as { id: string }[];
  const next = tasks[reused.length]?.id ?? null;
  return {
    message: `Resuming from checkpoints: ${reused.join(', ')} reused (not run or charged again); ${next ? `starting at task ${next}` : 'every task is done'}`,
    data: { reused, startsAt: next },
  };
}
