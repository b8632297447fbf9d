import type { TransitionDeps } from '../../jobs/transition-job.ts';
import { appendJobEvents, EventLimitReached, type NewJobEvent } from '../../jobs/job-event.ts';
import type { Logger } from '../../logger.ts';
import type { AttemptStop } from './attempt-stop.ts';

const LINE_BATCH = 500;
const LINE_FLUSH_MS = 200;

export interface AttemptEventLog {
  /** The job's event cap the runner's output counts against. */
  readonly maxEvents: number;
  /**
   * Queues one event of this attempt (after the lines before it); it is stored and published in
   * the next turn of the event loop, together with whatever else was queued by then (the events a
   * runner reports at once cost one statement). Throws when an earlier write of the log failed.
   */
  append: (ev: Omit<NewJobEvent, 'attemptNumber'>) => Promise<void>;
  /**
   * Stores one event now, behind what is queued, with another write in its statement (see
   * appendJobEvents' `writeWith`): they commit together, and the write is kept even when the
   * event is over the job's cap. Resolves once stored; rejects as `settle` does.
   */
  appendWith: (ev: Omit<NewJobEvent, 'attemptNumber'>, writeWith: (params: unknown[]) => string | null) => Promise<void>;
  /** Buffers a plain line of the runner's output; lines are stored in batches. */
  pushLine: (line: string) => Promise<void>;
  /**
   * Stores (and publishes) everything queued so far: before a write of this job that takes seqs of
   * its own (a usage charge, an artifact), so the stored order stays the order the runner wrote.
   */
  settle: () => Promise<void>;
  /**
   * Like `settle`, for a write of this job that can store what is queued in its own statement, before
   * its own event (a usage charge): once the writes under way are done, hands the queued events over
   * (and out of the queue) instead of storing them. Events it cannot hand over (one carrying a write,
   * more than a batch) it stores first, as `settle` does, and hands over none. A caller whose write
   * did not store them gives them back (`giveBack`) before anything else is queued.
   */
  take: () => Promise<NewJobEvent[]>;
  /** Puts events handed over by `take` back at the front of the queue, unstored. */
  giveBack: (evs: NewJobEvent[]) => void;
  /**
   * Stops the periodic flush and stores what is still queued. A failure to store is logged; one that
   * lost events has also stopped the attempt (PROTOCOL_VIOLATION), so its outcome says so.
   */
  close: () => Promise<void>;
}

/**
 * The attempt's job events. Plain lines are buffered and written in batches; events are queued
 * behind them and written with them, so the stored order is the order the runner wrote. The
 * runner's output counts against the job's event cap; a refusal stops the attempt
 * (EVENT_LIMIT_REACHED, not retried: a new attempt would meet the same cap), and what still fitted
 * is kept and published.
 */
export function createAttemptEventLog(
  deps: TransitionDeps & { log: Logger },
  req: { jobId: string; attemptNumber: number; maxEvents: number; stop: AttemptStop },
): AttemptEventLog {
  const { jobId, maxEvents, stop } = req;
  let queued: NewJobEvent[] = [];
  /** Queued events that carry another write: each ends its batch, so the write is in its statement. */
  const writes = new WeakMap<NewJobEvent, (params: unknown[]) => string | null>();
  let flushing: Promise<void> = Promise.resolve();
  /** The first failed write: later writes are refused (the order would have a hole), `eventsLost`: it held events. */
  let failure: { error: Error; eventsLost: boolean } | null = null;
  let soon: NodeJS.Immediate | undefined;
  const overCap = (err: unknown) => {
    if (!(err instanceof EventLimitReached)) throw err;
    queued = [];
    stop.halt({ kind: 'refused', code: err.code, message: err.message });
    return err.stored;
  };
  const flush = () =>
    (flushing = flushing.then(async () => {
      if (failure) throw failure.error;
      while (queued.length) {
        const withWrite = queued.findIndex((ev, i) => i < LINE_BATCH && writes.has(ev));
        const batch = queued.splice(0, withWrite < 0 ? LINE_BATCH : withWrite + 1);
        const writeWith = writes.get(batch[batch.length - 1]);
        try {
          await deps.events.publish(await appendJobEvents(deps.pool, jobId, batch, { maxEvents, writeWith }).catch(overCap));
        } catch (error) {
          const err = error instanceof Error ? error : new Error(String(error));
          failure = { error: err, eventsLost: batch.some(isEvent) || queued.some(isEvent) };
          queued = [];
          // Events the job's record cannot hold (PostgreSQL refused them: a NUL character, say): the
          // attempt stops and ends with that reason recorded, not as if its events had been stored.
          if (failure.eventsLost)
            stop.halt({
              kind: 'refused',
              code: 'PROTOCOL_VIOLATION',
              message: `Storing a runner event failed: ${err.message}`,
            });
          throw err;
        }
      }
    }));
  const flusher = setInterval(() => void flush().catch(() => {}), LINE_FLUSH_MS);
  const throwIfFailed = () => {
    if (failure) throw failure.error;
  };
  return {
    maxEvents,
    append(ev) {
      if (failure) return Promise.reject(failure.error);
      queued.push({ ...ev, attemptNumber: req.attemptNumber });
      soon ??= setImmediate(() => {
        soon = undefined;
        void flush().catch(() => {});
      });
      return Promise.resolve();
    },
    appendWith(ev, writeWith) {
      if (failure) return Promise.reject(failure.error);
      const queuedEvent = { ...ev, attemptNumber: req.attemptNumber };
      writes.set(queuedEvent, writeWith);
      queued.push(queuedEvent);
      return flush();
    },
    async pushLine(line) {
      throwIfFailed();
      // Redacted where every event is stored (appendJobEvents), not here as well: once per line.
      queued.push({ type: 'LOG', message: line, data: RAW_LINE, actor: 'runner', attemptNumber: req.attemptNumber });
      if (queued.length >= LINE_BATCH) await flush();
    },
    settle: flush,
    take() {
      const handed = flushing.then(() => {
        if (failure) throw failure.error;
        return queued.length > LINE_BATCH || queued.some((ev) => writes.has(ev)) ? null : queued.splice(0);
      });
      // The chain goes on past a failure (flush checks `failure` itself); the caller gets the rejection.
      flushing = handed.then(
        () => undefined,
        () => undefined,
      );
      return handed.then((evs) => evs ?? flush().then(() => []));
    },
    giveBack(evs) {
      queued.unshift(...evs);
    },
    async close() {
      clearInterval(flusher);
      if (soon) clearImmediate(soon);
      await flush().catch((err: unknown) => {
        deps.log.warn('could not store runner output', { jobId, error: String(err) });
      });
    },
  };
}

const RAW_LINE = { level: 'info', raw: true } as const;
/** A protocol event, not a plain line of the runner's output. */
const isEvent = (ev: NewJobEvent) => ev.data !== RAW_LINE;
