import type { ExecuteOutcome } from '../../executor.ts';
import { jobEnding, runnerStatus, type WatchedRunnerJob } from './watch-runner-job.ts';

/**
 * Step 3: how the runner ended, once its log has: the Job's condition, else the container's
 * termination. A log stream can end while the container still runs (the API server or kubelet
 * closed it): what it writes from then on would be neither recorded nor charged, so the attempt
 * fails, retryably, and the Job is to be removed. `cancelled`: the attempt was cancelled meanwhile.
 */
export async function runnerJobOutcome(
  job: { watched: WatchedRunnerJob; left: () => number; signal: AbortSignal },
  stderrTail: string,
  memory: string | undefined,
): Promise<'cancelled' | { outcome: ExecuteOutcome; removeJob: boolean }> {
  const { watched, left, signal } = job;
  const { state } = watched;
  const condition = () => jobEnding(state.job);
  const endedSoon = await watched.until(
    () => condition() ?? runnerStatus(state.pod)?.state?.terminated ?? undefined,
    Math.min(left(), 5000),
    signal,
  );
  if (signal.aborted) return 'cancelled';
  if (endedSoon === undefined && left() > 0) {
    return {
      outcome: {
        kind: 'failed',
        code: 'RUNNER_LOG_LOST',
        message: 'the runner pod log stream ended while the runner was still running; the pod was stopped',
        retryable: true,
      },
      removeJob: true,
    };
  }
  const ending = condition() ?? (await watched.until(condition, Math.min(left(), 30_000), signal));
  if (signal.aborted) return 'cancelled';
  if (ending?.failed?.reason === 'DeadlineExceeded' || (!ending && left() === 0))
    return { outcome: { kind: 'timeout', stderrTail }, removeJob: true };
  const terminated = runnerStatus(state.pod)?.state?.terminated;
  if (terminated?.reason === 'OOMKilled') {
    return {
      outcome: {
        kind: 'failed',
        code: 'OOM_KILLED',
        message: `the runner was killed for exceeding its memory limit${memory ? ` (${memory})` : ''}`,
        retryable: false,
      },
      removeJob: false,
    };
  }
  return { outcome: { kind: 'exited', exitCode: terminated?.exitCode ?? null, signal: null, stderrTail }, removeJob: false };
}
