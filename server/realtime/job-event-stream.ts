import { Repeater } from 'graphql-yoga';
import type pg from 'pg';
import { AppError } from '../errors.ts';
import { readJobEvents, readProjectEventsSince, type JobEventRecord } from '../jobs/job-event.ts';
import { eventSize, type EventBus } from './event-bus.ts';
import type { Metrics } from '../observability/metrics.ts';
import { isTerminal, type JobState } from '../jobs/state-machine.ts';

export type StreamDeps = { pool: pg.Pool; events: EventBus; metrics: Metrics };

export interface StreamLimits {
  /** Bytes of live events that may wait for one subscriber; past it the stream ends. */
  maxPendingBytes: number;
  /** Called once when the bound is passed (over WebSocket: closes the connection with 1008). */
  onOverflow?: (reason: string) => void;
}

const OVERFLOW = 'Subscriber too slow: too many unread events; reconnect and resume with afterSeq.';

/**
 * Live events wait in a chain until the subscriber takes them (graphql-ws sends the next one only
 * after the previous one left). This keeps that wait bounded by bytes and by count.
 */
function pendingBound(limits: StreamLimits, metrics: Metrics, stop: (err: Error) => void) {
  let bytes = 0;
  let count = 0;
  let overflowed = false;
  return {
    add(e: JobEventRecord): boolean {
      bytes += eventSize(e);
      count++;
      if (!overflowed && (bytes > limits.maxPendingBytes || count > MAX_PENDING_EVENTS)) {
        overflowed = true;
        metrics.slowSubscribersClosed.inc();
        limits.onOverflow?.(OVERFLOW);
        stop(new AppError('SUBSCRIBER_TOO_SLOW', OVERFLOW));
      }
      return !overflowed;
    },
    done(e: JobEventRecord) {
      bytes -= eventSize(e);
      count--;
    },
  };
}

/** Counts the open stream and measures, per delivered event, the time since its commit. */
function instrument(deps: StreamDeps, field: string, push: (e: JobEventRecord) => Promise<unknown>) {
  deps.metrics.subscriptions.inc({ field });
  return {
    push: (e: JobEventRecord) => {
      deps.metrics.eventDeliveryLatency.observe(Math.max(0, Date.now() - Date.parse(e.createdAt)) / 1000);
      return push(e);
    },
    done: () => deps.metrics.subscriptions.dec({ field }),
  };
}

/** Events a subscriber may fall behind by before it is cut off, whatever their size. */
export const MAX_PENDING_EVENTS = 10_000;

class Sequencer {
  private last = new Map<string, number>();
  constructor(private pool: pg.Pool) {}

  set(jobId: string, seq: number) {
    this.last.set(jobId, seq);
  }

  lastSeq(jobId: string): number {
    return this.last.get(jobId) ?? 0;
  }

  /**
   * Returns what must be delivered for `e`, in order: nothing for a duplicate, `e` when it is the
   * next one, and the missing events from the table followed by `e` when there is a gap (events of
   * one job commit in seq order, but publishes from different processes can arrive out of order).
   */
  async next(e: JobEventRecord, known: boolean): Promise<JobEventRecord[]> {
    const last = this.last.get(e.jobId);
    if (last === undefined && !known) {
      this.last.set(e.jobId, e.seq);
      return [e];
    }
    const after = last ?? 0;
    if (e.seq <= after) return [];
    if (e.seq === after + 1) {
      this.last.set(e.jobId, e.seq);
      return [e];
    }
    const missing = (await readJobEvents(this.pool, e.jobId, after, e.seq - after)).filter((m) => m.seq <= e.seq);
    if (!missing.some((m) => m.seq === e.seq)) missing.push(e);
    this.last.set(e.jobId, e.seq);
    return missing;
  }
}

/** How long after the terminal event a job's stream completes (see deliver in jobEventStream). */
const COMPLETE_DELAY_MS = 250;

/** A job's last event: its state change into a terminal state (nothing follows it). */
function endsJob(e: JobEventRecord): boolean {
  return e.type === 'STATE_CHANGED' && e.toState !== null && isTerminal(e.toState);
}

/**
 * The events of one job after `afterSeq`: first replayed from the table, then live. The live
 * subscription starts before the replay query, and every event passes one sequencer, so events
 * committed during the replay are neither lost nor delivered twice. The stream completes once the
 * job's terminal state change has been delivered (also when it is replayed, or lies before `afterSeq`).
 */
export function jobEventStream(
  deps: StreamDeps,
  jobId: string,
  afterSeq: number,
  limits: StreamLimits,
): AsyncIterableIterator<JobEventRecord> {
  return new Repeater<JobEventRecord>(async (rawPush, stop) => {
    const { push, done } = instrument(deps, 'jobEvents', rawPush);
    const seq = new Sequencer(deps.pool);
    seq.set(jobId, afterSeq);
    const pending = pendingBound(limits, deps.metrics, stop);
    let chain: Promise<void> = Promise.resolve();
    const enqueue = (work: () => Promise<void>) => {
      chain = chain.then(work).catch((err: unknown) => stop(err));
    };
    let finishing = false;
    const deliver = async (x: JobEventRecord, live: boolean) => {
      if (finishing) return; // nothing after the terminal event (a late log line is in Job.events)
      await (live ? push(x) : rawPush(x));
      if (endsJob(x) && !finishing) {
        finishing = true;
        // Completed a moment after the terminal event, not in the same breath: a graphql-ws client
        // (6.4) that disposes the subscription on that event and then reads our `complete` in the
        // same network read releases its connection lock twice, and its other subscriptions on
        // the socket end early. Clients written before streams completed do just that.
        setTimeout(() => stop(), COMPLETE_DELAY_MS).unref();
      }
    };
    const unsubscribe = await deps.events.onJob(jobId, (e) => {
      if (!pending.add(e)) return;
      enqueue(async () => {
        for (const x of await seq.next(e, true)) await deliver(x, true);
        pending.done(e);
      });
    });
    // Replayed events are old by design: delivered without counting toward delivery latency.
    const replayAfterLast = async () => {
      let last = seq.lastSeq(jobId);
      for (;;) {
        const page = await readJobEvents(deps.pool, jobId, last, 500);
        for (const e of page) for (const x of await seq.next(e, true)) await deliver(x, false);
        if (page.length < 500) break;
        last = page[page.length - 1].seq;
      }
    };
    const replay = async () => {
      await replayAfterLast();
      // A job already finished: its terminal event was committed with the state, so one more read
      // finds it if it came in after the pages above; if it lies before afterSeq, nothing is left.
      if (await hasTerminalState(deps.pool, jobId)) {
        await replayAfterLast();
        if (!finishing) stop(); // its terminal event lies before afterSeq: nothing to send
      }
    };
    enqueue(replay);
    // After a pub/sub outage: whatever was published meanwhile is read from the table.
    const offResync = deps.events.onResync(() => enqueue(replayAfterLast));
    await stop;
    offResync();
    done();
    await unsubscribe();
  });
}

async function hasTerminalState(pool: pg.Pool, jobId: string): Promise<boolean> {
  const { rows } = await pool.query<{ state: JobState }>(`SELECT state FROM "Job" WHERE id = $1`, [jobId]);
  return rows.length > 0 && isTerminal(rows[0].state);
}

/** Every event of the project's jobs from now on, each job's events in seq order without gaps. */
export function projectEventStream(deps: StreamDeps, projectId: string, limits: StreamLimits): AsyncIterableIterator<JobEventRecord> {
  return new Repeater<JobEventRecord>(async (rawPush, stop) => {
    const { push, done } = instrument(deps, 'projectEvents', rawPush);
    const seq = new Sequencer(deps.pool);
    const pending = pendingBound(limits, deps.metrics, stop);
    let chain: Promise<void> = Promise.resolve();
    // Where a catch-up after a pub/sub outage starts: a little before the newest event delivered.
    let since = new Date();
    const deliver = async (e: JobEventRecord, live: boolean) => {
      for (const x of await seq.next(e, false)) {
        await (live ? push(x) : rawPush(x));
        since = new Date(Math.max(since.getTime(), Date.parse(x.createdAt) - 5000));
      }
    };
    const unsubscribe = await deps.events.onProject(projectId, (e) => {
      if (!pending.add(e)) return;
      chain = chain
        .then(async () => {
          await deliver(e, true);
          pending.done(e);
        })
        .catch((err: unknown) => stop(err));
    });
    const offResync = deps.events.onResync(() => {
      const from = since;
      chain = chain
        .then(async () => {
          let afterId = 0;
          for (;;) {
            const page = await readProjectEventsSince(deps.pool, projectId, from, afterId, 500);
            for (const e of page) await deliver(e, false);
            if (page.length < 500) break;
            afterId = page[page.length - 1].id;
          }
        })
        .catch((err: unknown) => stop(err));
    });
    await stop;
    offResync();
    done();
    await unsubscribe();
  });
}
