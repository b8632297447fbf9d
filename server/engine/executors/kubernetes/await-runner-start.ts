import type { ExecuteOutcome } from '../../executor.ts';
import { jobCondition, runnerStatus, type WatchedRunnerJob } from './watch-runner-job.ts';

const IMAGE_PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError']);

/**
 * Step 1: waits until the runner container runs (`started`), or cannot (an outcome: the image
 * cannot be pulled, the pod cannot be created, the deadline passed, the Job was deleted); undefined
 * when `timeoutMs` passed first or `signal` aborted.
 */
export function awaitRunnerStart(
  watched: WatchedRunnerJob,
  image: string | undefined,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<'started' | ExecuteOutcome | undefined> {
  const { state } = watched;
  return watched.until<'started' | ExecuteOutcome>(
    () => {
      const cs = runnerStatus(state.pod);
      const waiting = cs?.state?.waiting;
      if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
        // A registry can fail for a while (rate limits, outages): retried, unless the name itself is wrong.
        const permanent = waiting.reason === 'InvalidImageName' || waiting.reason === 'ErrImageNeverPull';
        return {
          kind: 'failed',
          code: 'IMAGE_PULL_FAILED',
          message: `the runner image ${image ?? ''} could not be pulled (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})`,
          retryable: !permanent,
        };
      }
      if (waiting?.reason && CONFIG_REASONS.has(waiting.reason)) {
        return {
          kind: 'failed',
          code: 'RUNNER_START_FAILED',
          message: `the runner pod could not start (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})`,
          retryable: waiting.reason === 'CreateContainerError',
        };
      }
      if (cs?.state?.running != null || cs?.state?.terminated != null) return 'started';
      const failed = jobCondition(state.job, 'Failed');
      if (failed) return failed.reason === 'DeadlineExceeded' ? { kind: 'timeout', stderrTail: '' } : 'started';
      if (state.gone) return { kind: 'cancelled', stderrTail: 'the runner Job was deleted' };
      return undefined;
    },
    timeoutMs,
    signal,
  );
}
