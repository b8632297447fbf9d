import type pg from 'pg';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { AppError } from '../errors.ts';
import { databaseNow, readJobEvents, readProjectEventsSince, readRecentJobEvents, type JobEventRecord } from '../jobs/job-event.ts';
import { commitTime, eventSize, isLive, type EventBus } from './event-bus.ts';
import { EventQueue } from './event-queue.ts';
import { SerialLane } from './serial-lane.ts';
import { readRetrying } from './read-retrying.ts';
import type { Metrics } from '../observability/metrics.ts';
import { isTerminal, type JobState } from '../jobs/state-machine.ts';

export type StreamDeps = { pool: pg.Pool; events: EventBus; metrics: Metrics };

export interface StreamLimits {
  /** Bytes of live events that may wait for the stream's reader (a subscription group); past it the stream ends. */
  maxPendingBytes: number;
  /** Called once when the bound is passed (over WebSocket: closes the connection with 1008). */
  onOverflow?: (reason: string) => void;
}

/** Why a subscriber was cut off for not reading (the close reason over WebSocket). */
export const OVERFLOW = 'Subscriber too slow: too many unread events; reconnect and resume with afterSeq.';

/** Events a subscriber may fall behind by before it is cut off, whatever their size. */
export const MAX_PENDING_EVENTS = 10_000;

/** What an event is to a stream: seen already, the next one (now recorded), or one after a gap. */
type Step = 'duplicate' | 'next' | 'gap';

class Sequencer {
  private last = new Map<string, number>();
  /**
   * A project's stream: the database's time just before it started listening. Of a job it first
   * sees at a later event than its first, only events stored (inserted) since are read: older ones
   * were before the subscription. (Not the newest event id: ids are taken at insert, not commit,
   * and one read after listening missed events stored in between.)
   */
  startedAt = new Date(0);
  /** Of the jobs that ended: when, oldest first (see `ended`). */
  private endedAt = new Map<string, number>();
  constructor(
    private pool: pg.Pool,
    /** The stream, whose reads are retried while it is open (see LiveEventStream.read). */
    private stream: { read<T>(fn: () => Promise<T>): Promise<T> },
  ) {}

  set(jobId: string, seq: number) {
    this.last.set(jobId, seq);
  }

  /** Jobs this stream follows (a project's stream: the running ones and the recently ended ones, see `ended`). */
  get size(): number {
    return this.last.size;
  }

  /**
   * `jobId` ended (its terminal event was delivered): its position is forgotten once it ended
   * FORGET_ENDED_MS ago, or once MAX_ENDED jobs ended after it. A project's stream lives as long as
   * its subscribers (a dashboard open for weeks) and kept a position for every job it ever saw. An
   * event of a job after it was forgotten (a late log line) starts the job again, as an unknown
   * job's first event does; one within the window is still sequenced (a late duplicate dropped).
   */
  ended(jobId: string) {
    const now = Date.now();
    this.endedAt.delete(jobId);
    this.endedAt.set(jobId, now);
    for (const [id, at] of this.endedAt) {
      if (now - at < FORGET_ENDED_MS && this.endedAt.size <= MAX_ENDED) break;
      this.endedAt.delete(id);
      this.last.delete(id);
    }
  }

  /**
   * What the stream missed of a job it first sees at `e` (not its first event): nothing when `e` was
   * stored before the stream started (so was every earlier event of the job). A read that fails
   * starts the job at `e`, as the stream did before it read anything for a first-seen job, rather
   * than ending every subscriber's stream.
   */
  private async firstSeen(e: JobEventRecord, limit: number): Promise<JobEventRecord[]> {
    if (Date.parse(e.createdAt) < this.startedAt.getTime()) return [];
    return this.stream.read(() => readRecentJobEvents(this.pool, e.jobId, 0, this.startedAt, FIRST_SEEN_WINDOW_MS, limit)).catch(() => []);
  }

  lastSeq(jobId: string): number {
    return this.last.get(jobId) ?? 0;
  }

  /**
   * Nothing is to be delivered for a duplicate, `e` for the next one; after a gap (events of one
   * job commit in seq order, but publishes from different processes can arrive out of order) see
   * `fillPage`. `known`: the stream knows the job's position (a job's stream); otherwise (a
   * project's) a job's first event (seq 1) starts it, and a job first seen at a later event is a
   * gap: what of it was stored since the stream started and in the last FIRST_SEEN_WINDOW_MS is
   * read first (see `startedAt`). The job's first events may have been published after a later one
   * (another process, a busy API's event loop) or not at all (Redis away); the stream took the
   * later one as the job's start and dropped the first ones as duplicates.
   */
  step(e: JobEventRecord, known: boolean): Step {
    const last = this.last.get(e.jobId);
    if (last === undefined && !known && e.seq === 1) {
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

  /**
   * For a `gap` step: the next page (at most FILL_PAGE) of the missing events from the table, in
   * order; the last page ends with `e` (the table's copy, or `e` itself when the table has nothing
   * more up to it). Called again until `done`.
   */
  async fillPage(e: JobEventRecord): Promise<{ events: JobEventRecord[]; done: boolean }> {
    const last = this.last.get(e.jobId);
    const after = last ?? 0;
    const limit = Math.min(FILL_PAGE, e.seq - after);
    const read =
      last === undefined ? await this.firstSeen(e, limit) : await this.stream.read(() => readJobEvents(this.pool, e.jobId, after, limit));
    const missing = read.filter((m) => m.seq <= e.seq);
    const reached = missing.length > 0 && missing[missing.length - 1].seq === e.seq;
    if (!reached && read.length === limit && missing.length === read.length) {
      this.last.set(e.jobId, missing[missing.length - 1].seq);
      return { events: missing, done: false };
    }
    if (!reached) missing.push(e);
    this.last.set(e.jobId, e.seq);
    return { events: missing, done: true };
  }
}

/**
 * Of a job a project's stream first sees at a later event than its first: how far back its missed
 * events are read (a publish later than this is not made up for). It also bounds what a late event
 * of a forgotten job (FORGET_ENDED_MS after it ended) reads again: only the job's events of this
 * last minute, which were delivered twice only if one of them came before the job was forgotten.
 */
const FIRST_SEEN_WINDOW_MS = 60_000;

/** How long a project's stream keeps the position of a job that ended (see Sequencer.ended). */
export const FORGET_ENDED_MS = 10 * 60_000;
/** How many ended jobs' positions a project's stream keeps at most. */
export const MAX_ENDED = 10_000;

/** Missing events a gap fill reads at once (a gap of 100,000 events was one query and one tick's writes). */
const FILL_PAGE = 500;

/**
 * Bytes of a page of stored events (a job's replay, a project's catch-up) handed over per turn of
 * the event loop. A connection's writes of one tick are corked together (see SocketMember in
 * http/websocket-delivery.ts): a page written in one tick (500 events of 20 KiB are 10 MiB) is
 * more than the kernel takes at once, and what it leaves unsent counts against the
 * slow-subscriber bound when the next page comes, so a subscriber that reads was cut off.
 */
const STORED_BYTES_PER_TURN = 256 * 1024;

/**
 * What a job's and a project's stream share: the queue the subscriber reads (this), a sequencer,
 * a lane that runs the stream's work in order (see `accept`), and the bound on live events waiting:
 * from their arrival until the subscriber takes them (behind a gap fill or a replay, then in the
 * queue), live events are counted by bytes and number; past either bound the stream ends and the
 * subscriber is cut off (over WebSocket: 1008).
 */
abstract class LiveEventStream extends EventQueue<JobEventRecord> {
  protected readonly seq: Sequencer;
  protected readonly lane: SerialLane<this>;
  /** The bus handler and the resync listener (bound once: see EventQueue on closures). */
  protected readonly onEvent: (e: JobEventRecord) => void;
  private readonly onResync: () => void;
  private bus: Promise<() => Promise<void>> | null = null;
  private offResync: (() => void) | null = null;
  private listening = false;
  private bytes = 0;
  private count = 0;
  private overflowed = false;

  constructor(
    protected readonly deps: StreamDeps,
    private readonly limits: StreamLimits,
    /** The stream knows its job's position (a job's stream); a project's starts each job at its first event. */
    private readonly known: boolean,
  ) {
    super();
    this.seq = new Sequencer(deps.pool, this);
    this.lane = new SerialLane(this);
    this.onEvent = this.arrived.bind(this);
    this.onResync = this.resync.bind(this);
  }

  /** Listens on the bus and for resyncs, then whatever else the stream does first. */
  protected abstract setUp(): Promise<void>;
  /** Catches up after a pub/sub outage. */
  protected abstract resync(): void;
  /** Hands `e` to the subscriber (it passed the sequencer). */
  protected abstract deliver(e: JobEventRecord, live: boolean): void;

  protected onStart() {
    this.listening = true;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the lane calls it on this stream
    this.lane.run(this.setUp, undefined);
  }

  protected onTaken(e: JobEventRecord) {
    if (isLive(e)) this.release(e);
  }

  protected async onClose() {
    if (!this.listening) return;
    this.offResync?.();
    const unsubscribe = await this.bus?.catch(() => null);
    await unsubscribe?.();
  }

  /** Resolves once the bus subscription is active. */
  protected async listen(bus: Promise<() => Promise<void>>) {
    this.bus = bus;
    await bus;
    if (!this.closed) this.offResync = this.deps.events.onResync(this.onResync);
  }

  /** A read of stored events, retried while the database is out of reach and the stream open (see readRetrying). */
  read<T>(fn: () => Promise<T>): Promise<T> {
    return readRetrying(fn, () => this.closed);
  }

  /** Hands `e` to the subscriber; a live one's time since its commit is measured. */
  protected send(e: JobEventRecord, live: boolean) {
    if (live) this.deps.metrics.eventDeliveryLatency.observe(Math.max(0, Date.now() - commitTime(e)) / 1000);
    this.push(e);
  }

  /** Delivers `e` in order: synchronously, or (after a gap) once the table has filled it. */
  protected accept(e: JobEventRecord, live: boolean): void | Promise<void> {
    const step = this.seq.step(e, this.known);
    if (step === 'next') {
      this.deliver(e, live);
      return;
    }
    if (step === 'duplicate') {
      if (live) this.release(e);
      return;
    }
    return this.fillGap(e, live);
  }

  /** Delivers the events missing before `e`, then `e`: read a page at a time and handed over as stored pages are (see inTurns). */
  private async fillGap(e: JobEventRecord, live: boolean) {
    let sentLive = false;
    for (let done = false; !done;) {
      const page = await this.seq.fillPage(e);
      done = page.done;
      await this.inTurns(page.events, (x) => {
        this.deliver(x, live && x === e);
        sentLive ||= x === e;
      });
    }
    if (live && !sentLive) this.release(e);
  }

  private acceptLive(e: JobEventRecord) {
    return this.accept(e, true);
  }

  private arrived(e: JobEventRecord) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the lane calls it on this stream
    if (this.admit(e)) this.lane.run(this.acceptLive, e);
  }

  /** Counts a live event in; false once the subscriber is cut off. */
  private admit(e: JobEventRecord): boolean {
    this.bytes += eventSize(e);
    this.count++;
    if (!this.overflowed && (this.bytes > this.limits.maxPendingBytes || this.count > MAX_PENDING_EVENTS)) {
      this.overflowed = true;
      this.deps.metrics.slowSubscribersClosed.inc();
      this.limits.onOverflow?.(OVERFLOW);
      this.fail(new AppError('SUBSCRIBER_TOO_SLOW', OVERFLOW));
    }
    return !this.overflowed;
  }

  /** Hands a page of stored events to the subscriber, STORED_BYTES_PER_TURN per turn of the event loop; resolves once it took them all. */
  protected async handOver(page: JobEventRecord[]) {
    await this.inTurns(page, (e) => this.accept(e, false));
  }

  /** Runs `each` on `events` in order, letting the subscriber take them STORED_BYTES_PER_TURN per turn of the event loop; resolves once it took them all. */
  private async inTurns(events: JobEventRecord[], each: (e: JobEventRecord) => void | Promise<void>) {
    let burst = 0;
    for (const e of events) {
      const filling = each(e);
      if (filling) await filling;
      burst += eventSize(e);
      if (burst > STORED_BYTES_PER_TURN) {
        burst = 0;
        await this.whenTaken();
        await nextTurn();
      }
    }
    await this.whenTaken();
  }

  /** Counts a live event out: taken by the subscriber, or not to be delivered. */
  protected release(e: JobEventRecord) {
    this.bytes -= eventSize(e);
    this.count--;
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
  return new JobEventStream(deps, jobId, afterSeq, limits);
}

class JobEventStream extends LiveEventStream {
  private finishing = false;
  private terminal: JobEventRecord | null = null;
  private completing: NodeJS.Timeout | null = null;

  constructor(
    deps: StreamDeps,
    private readonly jobId: string,
    afterSeq: number,
    limits: StreamLimits,
  ) {
    super(deps, limits, true);
    this.seq.set(jobId, afterSeq);
  }

  protected async setUp() {
    await this.listen(this.deps.events.onJob(this.jobId, this.onEvent));
    await this.replay();
  }

  protected resync() {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the lane calls it on this stream
    this.lane.run(this.replayAfterLast, undefined);
  }

  protected deliver(x: JobEventRecord, live: boolean) {
    if (this.finishing) {
      // Nothing after the terminal event (a late log line is in Job.events).
      if (live) this.release(x);
      return;
    }
    if (endsJob(x)) {
      this.finishing = true;
      this.terminal = x; // before the push, which may hand it over at once
    }
    this.send(x, live);
  }

  protected onTaken(e: JobEventRecord) {
    super.onTaken(e);
    // Completed a moment after the terminal event was taken, not in the same breath: a
    // graphql-ws client (6.4) that disposes the subscription on that event and then reads our
    // `complete` in the same network read releases its connection lock twice, and its other
    // subscriptions on the socket end early. Clients written before streams completed do just that.
    if (e === this.terminal) this.completing = setTimeout(() => this.end(), COMPLETE_DELAY_MS).unref();
  }

  protected onClose() {
    if (this.completing) clearTimeout(this.completing);
    return super.onClose();
  }

  /** Replayed events are old by design: delivered without counting toward delivery latency. At most a page of them waits for the subscriber at a time. */
  private async replayAfterLast() {
    let last = this.seq.lastSeq(this.jobId);
    for (;;) {
      const page = await this.read(() => readJobEvents(this.deps.pool, this.jobId, last, 500));
      await this.handOver(page);
      if (page.length < 500 || this.closed) break;
      last = page[page.length - 1].seq;
    }
  }

  private async replay() {
    await this.replayAfterLast();
    // A job already finished: its terminal event was committed with the state, so one more read
    // finds it if it came in after the pages above; if it lies before afterSeq, nothing is left.
    if (!this.closed && (await this.read(() => hasTerminalState(this.deps.pool, this.jobId)))) {
      await this.replayAfterLast();
      if (!this.finishing) this.end(); // its terminal event lies before afterSeq: nothing to send
    }
  }
}

async function hasTerminalState(pool: pg.Pool, jobId: string): Promise<boolean> {
  const { rows } = await pool.query<{ state: JobState }>(`SELECT state FROM "Job" WHERE id = $1`, [jobId]);
  return rows.length > 0 && isTerminal(rows[0].state);
}

/** Every event of the project's jobs from now on, each job's events in seq order without gaps. */
export function projectEventStream(
  deps: StreamDeps,
  projectId: string,
  limits: StreamLimits,
): AsyncIterableIterator<JobEventRecord> & { readonly followedJobs: number } {
  return new ProjectEventStream(deps, projectId, limits);
}

class ProjectEventStream extends LiveEventStream {
  /** Subscribers of the same project get the same events: they may share one stream (see subscription-group.ts). */
  readonly shareKey: string;
  /** Where a catch-up after a pub/sub outage starts: a little before the newest event delivered. */
  private since = Date.now();

  constructor(
    deps: StreamDeps,
    private readonly projectId: string,
    limits: StreamLimits,
  ) {
    super(deps, limits, false);
    this.shareKey = `project:${projectId}`;
  }

  /** How many jobs' positions the stream keeps (see Sequencer.ended). */
  get followedJobs(): number {
    return this.seq.size;
  }

  protected async setUp() {
    // Read before listening, not after (events stored in between were missed); the database's clock
    // (events' createdAt is read off it), else this process's, rather than failing the subscription.
    this.seq.startedAt = await databaseNow(this.deps.pool).catch(() => new Date());
    await this.listen(this.deps.events.onProject(this.projectId, this.onEvent));
  }

  protected resync() {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the lane calls it on this stream
    this.lane.run(this.catchUp, this.since);
  }

  protected deliver(x: JobEventRecord, live: boolean) {
    this.send(x, live);
    if (endsJob(x)) this.seq.ended(x.jobId);
    this.since = Math.max(this.since, commitTime(x) - 5000);
  }

  private async catchUp(from: number) {
    let afterId = 0;
    for (;;) {
      const page = await this.read(() => readProjectEventsSince(this.deps.pool, this.projectId, new Date(from), afterId, 500));
      await this.handOver(page);
      if (page.length < 500 || this.closed) break;
      afterId = page[page.length - 1].id;
    }
  }
}
