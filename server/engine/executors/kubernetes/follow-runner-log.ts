import { PassThrough } from 'node:stream';
import type { Log } from '@kubernetes/client-node';
import type { Logger } from '../../../logger.ts';
import { kubeErrorText } from './kube-error.ts';
import type { ExecuteRequest } from '../../executor.ts';
import { consumeRunnerOutput } from '../consume-runner-output.ts';
import { RUNNER_CONTAINER } from '../kubernetes-job-manifest.ts';
import { jobEnding, runnerStatus, type WatchedRunnerJob } from './watch-runner-job.ts';

const STDERR_TAIL_LINES = 20;
/** Once the container has ended, how long its log stream may take to deliver the rest. */
const LOG_DRAIN_MS = 5000;

/**
 * Step 2: the runner pod's log is the runner's output, read as the runner protocol until the
 * stream ends, the attempt is cancelled or its time is up. Returns the protocol violation that
 * stopped it, if any, and the last plain lines (the outcome quotes them).
 */
export async function followRunnerLog(
  deps: { logs: Log; log?: Logger },
  job: { name: string; namespace: string; watched: WatchedRunnerJob; left: () => number; signal: AbortSignal },
  req: Pick<ExecuteRequest, 'onEvent' | 'onLog'>,
): Promise<{ violation: { code: string; message: string } | null; stderrTail: string }> {
  const { watched, signal } = job;
  const { state } = watched;
  let violation: { code: string; message: string } | null = null;
  const plain: string[] = [];
  const stream = new PassThrough();
  const output = consumeRunnerOutput(stream, {
    onEvent: req.onEvent,
    onLog: async (line) => {
      plain.push(line);
      if (plain.length > STDERR_TAIL_LINES) plain.shift();
      await req.onLog(line);
    },
    onViolation: (v) => {
      violation = v;
      stream.destroy();
    },
  });
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
  });
  const podName = state.pod?.metadata?.name;
  // (No pod: the Job failed before one ran; there is no log to read.)
  const follow = podName
    ? await deps.logs.log(job.namespace, podName, RUNNER_CONTAINER, stream, { follow: true }).catch((err: unknown) => {
        deps.log?.warn('could not follow the runner pod log', { name: job.name, error: kubeErrorText(err) });
        stream.end();
        return null;
      })
    : (stream.end(), null);
  const stopFollowing = () => {
    follow?.abort();
    stream.destroy();
  };
  signal.addEventListener('abort', stopFollowing);
  if (signal.aborted) stopFollowing();
  const timer = setTimeout(stopFollowing, job.left());
  // A log stream whose socket failed is never ended by the client library: once the container
  // has ended, give the stream 5 s to deliver the rest, then stop waiting for it.
  let streamDone = false;
  void watched
    .until(() => jobEnding(state.job) ?? runnerStatus(state.pod)?.state?.terminated ?? undefined, job.left())
    .then(() => new Promise((r) => setTimeout(r, LOG_DRAIN_MS).unref()))
    .then(() => {
      if (!streamDone) stopFollowing();
    });
  await ended;
  streamDone = true;
  clearTimeout(timer);
  signal.removeEventListener('abort', stopFollowing);
  await output.finish();
  return { violation, stderrTail: plain.join('\n') };
}
