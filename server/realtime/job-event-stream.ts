import type pg from 'pg';
import { AppError } from '../errors.ts';
import { readJobEvents, readProjectEventsSince, type JobEventRecord } from '../jobs/job-event.ts';
import { commitTime, eventSize, isLive, type EventBus } from './event-bus.ts';
import { EventQueue } from './event-queue.ts';
import { SerialLane } from './serial-lane.ts';
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
 * Live events wait, from their arrival until the subscriber takes them (behind a gap fill or a
 * replay, then in the stream's queue), for as long as the subscriber does not read. This keeps
 * that wait bounded by bytes and by count.
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

/** Events a subscriber may fall behind by before it is cut off, whatever their size. */
export const MAX_PENDING_EVENTS = 10_000;

/** What an event is to a stream: seen already, the next one (now recorded), or one after a gap. */
type Step = 'duplicate' | 'next' | 'gap';

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
   * Nothing is to be delivered for a duplicate, `e` for the next one; after a gap (events of one
   * job commit in seq order, but publishes from different processes can arrive out of order) see
   * `fill`. `known`: the stream knows the job's position (a job's stream); otherwise (a project's)
   * the first event of a job starts it.
   */
  step(e: JobEventRecord, known: boolean): Step {
    const last = this.last.get(e.jobId);
    if (last === undefined && !known) {
      this.last.set(e.jobId, e.seq);
      return 'next';
    }
    const after = last ?? 0;
    if (e.seq <= after) return 'duplicate';
    if (e.seq === after + 1) {
      this.last.set(e.jobId, e.seq);
      return 'next';
    }
    return 'gap';
  }

  /** For a `gap` step: the missing events from the table followed by `e`, in order. */
  async fill(e: JobEventRecord): Promise<JobEventRecord[]> {
    const after = this.last.get(e.jobId) ?? 0;
    const missing = (await readJobEvents(this.pool, e.jobId, after, e.seq - after)).filter((m) => m.seq <= e.seq);
    if (!missing.some((m) => m.seq === e.seq)) missing.push(e);
    this.last.set(e.jobId, e.seq);
    return missing;
  }
}

/**
 * What a job's and a project's stream share: the queue the subscriber reads, a sequencer, the
 * bound on live events waiting, and a lane that runs the stream's work in order (see accept).
 * Live events are counted by the bound from their arrival until the subscriber takes them.
 */
function streamCore(
  deps: StreamDeps,
  field: string,
  limits: StreamLimits,
  hooks: { start(): Promise<void>; taken?(e: JobEventRecord): void; closed?(): void },
) {
  let bus: Promise<() => Promise<void>> | null = null;
  let offResync: (() => void) | null = null;
  let started = false;
  const queue: EventQueue<JobEventRecord> = new EventQueue<JobEventRecord>({
    start: () => {
      started = true;
      deps.metrics.subscriptions.inc({ field });
      lane.run(() => hooks.start(), undefined);
    },
    taken: (e) => {
      if (isLive(e)) pending.done(e);
      hooks.taken?.(e);
    },
    close: async () => {
      hooks.closed?.();
      if (!started) return;
      offResync?.();
      deps.metrics.subscriptions.dec({ field });
      const unsubscribe = await bus?.catch(() => null);
      await unsubscribe?.();
    },
  });
  const fail = (err: unknown) => queue.fail(err);
  const lane = new SerialLane(fail);
  const pending = pendingBound(limits, deps.metrics, fail);
  return {
    queue,
    lane,
    pending,
    seq: new Sequencer(deps.pool),
    /** Listens on the bus (resolves once active) and to resyncs after a pub/sub outage. */
    async listen(
      on: (handler: (e: JobEventRecord) => void) => Promise<() => Promise<void>>,
      handler: (e: JobEventRecord) => void,
      onResync: () => void,
    ) {
      bus = on(handler);
      await bus;
      if (queue.closed) return;
      offResync = deps.events.onResync(onResync);
    },
    /** Hands `e` to the subscriber; a live one's time since its commit is measured. */
    push(e: JobEventRecord, live: boolean) {
      if (live) deps.metrics.eventDeliveryLatency.observe(Math.max(0, Date.now() - commitTime(e)) / 1000);
      queue.push(e);
    },
  };
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
  let finishing = false;
  let terminal: JobEventRecord | null = null;
  let completing: NodeJS.Timeout | null = null;
  const core = streamCore(deps, 'jobEvents', limits, {
    start: async () => {
      await core.listen(
        (h) => deps.events.onJob(jobId, h),
        onEvent,
        () => core.lane.run(replayAfterLast, undefined),
      );
      await replay();
    },
    taken: (e) => {
      // Completed a moment after the terminal event was taken, not in the same breath: a
      // graphql-ws client (6.4) that disposes the subscription on that event and then reads our
      // `complete` in the same network read releases its connection lock twice, and its other
      // subscriptions on the socket end early. Clients written before streams completed do just that.
      if (e === terminal) completing = setTimeout(() => queue.end(), COMPLETE_DELAY_MS).unref();
    },
    closed: () => {
      if (completing) clearTimeout(completing);
    },
  });
  const { queue, seq, pending } = core;
  seq.set(jobId, afterSeq);
  const deliver = (x: JobEventRecord, live: boolean) => {
    if (finishing) {
      // Nothing after the terminal event (a late log line is in Job.events).
      if (live) pending.done(x);
      return;
    }
    if (endsJob(x)) {
      finishing = true;
      terminal = x; // before the push, which may hand it over at once
    }
    core.push(x, live);
  };
  /** Delivers `e` in order: synchronously, or (after a gap) once the table has filled it. */
  const accept = (e: JobEventRecord, live: boolean): void | Promise<void> => {
    const step = seq.step(e, true);
    if (step === 'next') {
      deliver(e, live);
      return;
    }
    if (step === 'duplicate') {
      if (live) pending.done(e);
      return;
    }
    return seq.fill(e).then((events) => {
      for (const x of events) deliver(x, live && x === e);
      if (live && !events.includes(e)) pending.done(e);
    });
  };
  const acceptLive = (e: JobEventRecord) => accept(e, true);
  const onEvent = (e: JobEventRecord) => {
    if (pending.add(e)) core.lane.run(acceptLive, e);
  };
  // Replayed events are old by design: delivered without counting toward delivery latency. At
  // most a page of them waits for the subscriber at a time.
  const replayAfterLast = async () => {
    let last = seq.lastSeq(jobId);
    for (;;) {
      const page = await readJobEvents(deps.pool, jobId, last, 500);
      for (const e of page) {
        const filling = accept(e, false);
        if (filling) await filling;
      }
      await queue.whenTaken();
      if (page.length < 500 || queue.closed) break;
      last = page[page.length - 1].seq;
    }
  };
  const replay = async () => {
    await replayAfterLast();
    // A job already finished: its terminal event was committed with the state, so one more read
    // finds it if it came in after the pages above; if it lies before afterSeq, nothing is left.
    if (!queue.closed && (await hasTerminalState(deps.pool, jobId))) {
      await replayAfterLast();
      if (!finishing) queue.end(); // its terminal event lies before afterSeq: nothing to send
    }
  };
  return queue;
}

async function hasTerminalState(pool: pg.Pool, jobId: string): Promise<boolean> {
  const { rows } = await pool.query<{ state: JobState }>(`SELECT state FROM "Job" WHERE id = $1`, [jobId]);
  return rows.length > 0 && isTerminal(rows[0].state);
}

/** Every event of the project's jobs from now on, each job's events in seq order without gaps. */
export function projectEventStream(deps: StreamDeps, projectId: string, limits: StreamLimits): AsyncIterableIterator<JobEventRecord> {
  // Where a catch-up after a pub/sub outage starts: a little before the newest event delivered.
  let since = Date.now();
  const core = streamCore(deps, 'projectEvents', limits, {
    start: () =>
      core.listen(
        (h) => deps.events.onProject(projectId, h),
        onEvent,
        () => core.lane.run(resync, since),
      ),
  });
  const { seq, pending } = core;
  const deliver = (x: JobEventRecord, live: boolean) => {
    core.push(x, live);
    since = Math.max(since, commitTime(x) - 5000);
  };
  const accept = (e: JobEventRecord, live: boolean): void | Promise<void> => {
    const step = seq.step(e, false);
    if (step === 'next') {
      deliver(e, live);
      return;
    }
    if (step === 'duplicate') {
      if (live) pending.done(e);
      return;
    }
    return seq.fill(e).then((events) => {
      for (const x of events) deliver(x, live && x === e);
      if (live && !events.includes(e)) pending.done(e);
    });
  };
  const acceptLive = (e: JobEventRecord) => accept(e, true);
  const onEvent = (e: JobEventRecord) => {
    if (pending.add(e)) core.lane.run(acceptLive, e);
  };
  const resync = async (from: number) => {
    let afterId = 0;
    for (;;) {
      const page = await readProjectEventsSince(deps.pool, projectId, new Date(from), afterId, 500);
      for (const e of page) {
        const filling = accept(e, false);
        if (filling) await filling;
      }
      await core.queue.whenTaken();
      if (page.length < 500 || core.queue.closed) break;
      afterId = page[page.length - 1].id;
    }
  };
  return core.queue;
}
