import { Repeater } from 'graphql-yoga';
import { AppError } from '../errors.ts';
import type { JobEventRecord } from '../jobs/job-event.ts';
import { isTerminal } from '../jobs/state-machine.ts';
import { jobEventStream, MAX_PENDING_EVENTS, type StreamDeps, type StreamLimits } from './job-event-stream.ts';
import type { OutputBus, OutputDelta } from './output-bus.ts';

/** One item of jobOutput: a live delta, or a step's complete (stored) message, or the job's end. */
export type JobOutputItem =
  { kind: 'DELTA'; delta: OutputDelta } | { kind: 'MESSAGE'; event: JobEventRecord } | { kind: 'END'; event: JobEventRecord };

const OVERFLOW = 'Subscriber too slow: too much unread model text; reconnect and resume with afterSeq.';

/**
 * The model's text of one job: the stored MESSAGE events after `afterSeq` (replayed, then live,
 * through jobEventStream: none lost or repeated) and, merged in as they arrive, the live deltas
 * of the step being written. A client that reconnects mid-step gets the deltas from then on and
 * the step's complete message when it ends, so it loses no text it should have. Completes after
 * the job's terminal state change (delivered as an END item).
 */
export function jobOutputStream(
  deps: StreamDeps & { output: OutputBus },
  jobId: string,
  afterSeq: number,
  limits: StreamLimits,
): AsyncIterableIterator<JobOutputItem> {
  return new Repeater<JobOutputItem>(async (push, stop) => {
    let chain: Promise<unknown> = Promise.resolve();
    let waiting = 0;
    const enqueue = (item: JobOutputItem) => {
      if (++waiting > MAX_PENDING_EVENTS) {
        limits.onOverflow?.(OVERFLOW);
        stop(new AppError('SUBSCRIBER_TOO_SLOW', OVERFLOW));
        return;
      }
      chain = chain
        .then(() => push(item))
        .then(
          () => {
            waiting--;
          },
          (err: unknown) => stop(err),
        );
    };
    const offDeltas = await deps.output.onJob(jobId, (delta) => enqueue({ kind: 'DELTA', delta }));
    const events = jobEventStream(deps, jobId, afterSeq, limits);
    const pump = (async () => {
      for await (const e of events) {
        if (e.type === 'MESSAGE') enqueue({ kind: 'MESSAGE', event: e });
        else if (e.type === 'STATE_CHANGED' && e.toState && isTerminal(e.toState)) enqueue({ kind: 'END', event: e });
      }
      await chain;
      stop();
    })().catch((err: unknown) => stop(err));
    await stop;
    await events.return?.();
    await pump;
    await offDeltas();
  });
}
