import type { TransitionDeps } from '../../jobs/transition-job.ts';
import { appendJobEvents, EventLimitReached, type NewJobEvent } from '../../jobs/job-event.ts';
import type { Logger } from '../../logger.ts';
import type { AttemptStop } from './attempt-stop.ts';

const LINE_BATCH = 500;
const LINE_FLUSH_MS = 200;

export interface AttemptEventLog {
  /** Stores one event of this attempt (after the lines before it) and publishes it. `uncapped`: the job's own record, stored whatever the runner wrote. */
  append: (ev: Omit<NewJobEvent, 'attemptNumber'>, opts?: { uncapped?: boolean }) => Promise<void>;
  /** Buffers a plain line of the runner's output; lines are stored in batches. */
  pushLine: (line: string) => Promise<void>;
  /** Stops the periodic flush and stores what is still buffered (a failure is logged, not thrown). */
  close: () => Promise<void>;
}

/**
 * The attempt's job events. Plain lines are buffered and written in batches; the buffer is flushed
 * before every protocol event, so the stored order is the order the runner wrote. The runner's
 * output counts against the job's event cap; a refusal stops the attempt (EVENT_LIMIT_REACHED, not
 * retried: a new attempt would meet the same cap), and what still fitted is kept and published.
 */
export function createAttemptEventLog(
  deps: TransitionDeps & { log: Logger },
  req: { jobId: string; attemptNumber: number; maxEvents: number; stop: AttemptStop },
): AttemptEventLog {
  const { jobId, maxEvents, stop } = req;
  let lines: NewJobEvent[] = [];
  let flushing: Promise<void> = Promise.resolve();
  const overCap = (err: unknown) => {
    if (!(err instanceof EventLimitReached)) throw err;
    lines = [];
    stop.halt({ kind: 'refused', code: err.code, message: err.message });
    return err.stored;
  };
  const flushLines = () =>
    (flushing = flushing.then(async () => {
      while (lines.length) {
        const batch = lines.splice(0, LINE_BATCH);
        await deps.events.publish(await appendJobEvents(deps.pool, jobId, batch, { maxEvents }).catch(overCap));
      }
    }));
  const flusher = setInterval(() => void flushLines().catch(() => {}), LINE_FLUSH_MS);
  return {
    async append(ev, opts = {}) {
      await flushLines();
      const stored = await appendJobEvents(
        deps.pool,
        jobId,
        [{ ...ev, attemptNumber: req.attemptNumber }],
        opts.uncapped ? {} : { maxEvents },
      ).catch(overCap);
      await deps.events.publish(stored);
    },
    async pushLine(line) {
      // Redacted where every event is stored (appendJobEvents), not here as well: once per line.
      lines.push({ type: 'LOG', message: line, data: { level: 'info', raw: true }, actor: 'runner', attemptNumber: req.attemptNumber });
      if (lines.length >= LINE_BATCH) await flushLines();
    },
    async close() {
      clearInterval(flusher);
      await flushLines().catch((err: unknown) => deps.log.warn('could not store runner output', { jobId, error: String(err) }));
    },
  };
}
