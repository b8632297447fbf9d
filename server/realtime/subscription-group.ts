import { execute, GraphQLError, getOperationAST, Kind, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { JobEventRecord } from '../jobs/job-event.ts';
import { eventSize } from './event-bus.ts';

/**
 * One subscriber of a group: the group hands it every result, in order, synchronously, a turn of
 * the event loop's results at a time (see deliverSoon), then ends or fails it once. A WebSocket
 * subscriber writes a turn's frames to its socket at once, in one write (SocketMember in
 * http/websocket-delivery.ts); others queue them (QueuedMember).
 */
export interface GroupMember {
  deliver(turn: Turn): void;
  /** The group's results ended (the source completed). */
  end(): void;
  /** The group's source failed: no more results. */
  fail(err: GraphQLError): void;
}

/** Results a group hands its members in one delivery, in order, with their events; the same object for every member. */
export class Turn {
  readonly results: ExecutionResult[] = [];
  readonly events: unknown[] = [];
  /** About how many bytes the events take (see MAX_DEFERRED_BYTES). */
  bytes = 0;
}

/** What the group counts (see observability/metrics.ts). */
export interface GroupMetrics {
  /** Executions of a selection for an event (autodev_subscription_executions_total). */
  subscriptionExecutions: { inc(): void };
  /** Open subscriptions by field (autodev_subscriptions_active): one per member, not per group. */
  subscriptions: { inc(labels: { field: string }): void; dec(labels: { field: string }): void };
  /** Subscribers cut off for not reading (autodev_slow_subscribers_closed_total). */
  slowSubscribersClosed: { inc(): void };
}

/** A source stream subscribers may share: the same `shareKey` means the same events (e.g. a project's channel). */
export interface ShareableSource {
  readonly shareKey?: string | null;
}

/**
 * Subscribers that would receive the same results share one group: the same source events (a
 * shareable source with the same `shareKey`), document, operation and variables, project and
 * role (what a resolver may depend on besides the event). The group reads its source once,
 * executes the selection once per event and hands the result to each member synchronously, with
 * the other results of its turn of the event loop (see deliverSoon): no event stream, promise
 * chain or execution per subscriber. A source that is not shareable (a job's stream, which
 * replays from its own `afterSeq`) makes a group of one.
 */
export class SubscriptionGroup {
  private readonly members = new Set<GroupMember>();
  private readonly it: AsyncIterator<unknown>;
  private readonly field: string;
  /** The group's key without its source (what its results depend on), and its results' key in resultsByEvent. */
  private readonly resultKey: string;
  private readonly execution: Execution;
  private closed = false;
  /** Results not yet handed to the members: see deliverSoon. */
  private pending: Turn | null = null;

  private constructor(
    private readonly registry: GroupRegistry,
    private readonly key: string | null,
    source: AsyncIterable<unknown>,
    /** The first subscriber's arguments: what a result depends on is the same for every member (see groupKey). */
    private readonly args: ExecutionArgs,
    readonly metrics: GroupMetrics,
  ) {
    this.it = source[Symbol.asyncIterator]();
    this.field = rootField(args);
    this.resultKey = groupKey(args);
    this.execution = executionOf(args.document, this.resultKey);
  }

  /**
   * The group `args`' subscriber belongs to: an open one sharing `source`'s events (then `source`,
   * never read, is dropped), or a new one reading `source`.
   */
  static of(registry: GroupRegistry, source: AsyncIterable<unknown> & ShareableSource, args: ExecutionArgs, metrics: GroupMetrics) {
    const key = source.shareKey ? `${source.shareKey}\u0000${groupKey(args)}` : null;
    if (key !== null) {
      const open = registry.get(args.document, key);
      if (open) return open;
    }
    const group = new SubscriptionGroup(registry, key, source, args, metrics);
    if (key !== null) registry.set(args.document, key, group);
    void group.run();
    return group;
  }

  /** Adds `member`: it gets every result handed over from now on (those waiting for this turn's end too). False when the group has closed. */
  join(member: GroupMember): boolean {
    if (this.closed) return false;
    this.members.add(member);
    this.metrics.subscriptions.inc({ field: this.field });
    return true;
  }

  /** Removes `member`; the last one to leave closes the group and its source. */
  leave(member: GroupMember): void {
    if (!this.members.delete(member)) return;
    this.metrics.subscriptions.dec({ field: this.field });
    if (this.members.size === 0) this.close();
  }

  private close() {
    if (this.closed) return;
    this.closed = true;
    if (this.key !== null) this.registry.delete(this.args.document, this.key, this);
    releaseExecution(this.args.document, this.resultKey, this.execution);
    // A failing clean-up (an unsubscribe while Redis is down) has nobody left to tell.
    this.it.return?.()?.catch(() => {});
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        const r = await this.it.next();
        if (r.done || this.closed) break;
        const event = r.value;
        let result = sharedResult(event, this.execution, this.args, this.metrics.subscriptionExecutions);
        // A result computed synchronously is handed over without another promise.
        if (result instanceof Promise) result = await result;
        let turn = this.pending;
        if (turn === null) {
          deliverSoon(this);
          this.pending = turn = new Turn();
        }
        turn.results.push(result);
        turn.events.push(event);
        turn.bytes += typeof event === 'object' && event !== null ? eventSize(event as JobEventRecord) : 0;
        if (turn.bytes > MAX_DEFERRED_BYTES) this.deliverPending();
      }
      this.finish(null);
    } catch (err) {
      this.finish(streamError(err, this.args));
    }
  }

  /** Hands the results waiting since this turn's events to every member, in order. */
  deliverPending() {
    const turn = this.pending;
    if (turn === null) return;
    this.pending = null;
    try {
      for (const member of this.members) member.deliver(turn);
    } catch (err) {
      // As a failure while reading the source: the members are told (not the other groups of this turn).
      this.finish(streamError(err, this.args));
    }
  }

  private finish(error: GraphQLError | null) {
    this.deliverPending();
    const members = [...this.members];
    for (const member of members) this.leave(member);
    this.close();
    for (const member of members) {
      if (error) member.fail(error);
      else member.end();
    }
  }
}

/**
 * Past this many bytes of events a group's results wait no longer: they go out at once, in the
 * I/O callback that brought them. A connection's writes of one tick are corked together and the
 * slow-subscriber bound counts them as unsent (SocketMember in http/websocket-delivery.ts), so
 * several large commits of one turn written together cut off a client that reads (1008); written
 * one callback at a time, the kernel takes each before the next. Small events still share a write.
 */
const MAX_DEFERRED_BYTES = 64 * 1024;

/** Groups with results waiting, in the order their first result came. */
let due: SubscriptionGroup[] = [];

function deliverDue() {
  const groups = due;
  due = [];
  for (const group of groups) group.deliverPending();
}

/**
 * Delivers `group`'s results once this turn of the event loop has taken in its I/O (setImmediate):
 * the events of every commit read in one turn go out together, so a connection gets them in one
 * write (see corkForTick in http/websocket-delivery.ts) and its client in one read. Written one
 * commit at a time, each event cost a write per subscriber and the next commit's result waited
 * behind them.
 */
function deliverSoon(group: SubscriptionGroup) {
  if (due.length === 0) setImmediate(deliverDue);
  due.push(group);
}

/** The open groups of shareable sources, by document and key (documents are kept by Yoga's parse cache). */
export class GroupRegistry {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, SubscriptionGroup>>();

  get(document: DocumentNode, key: string): SubscriptionGroup | undefined {
    return this.byDocument.get(document)?.get(key);
  }

  set(document: DocumentNode, key: string, group: SubscriptionGroup) {
    let groups = this.byDocument.get(document);
    if (!groups) this.byDocument.set(document, (groups = new Map<string, SubscriptionGroup>()));
    groups.set(key, group);
  }

  delete(document: DocumentNode, key: string, group: SubscriptionGroup) {
    const groups = this.byDocument.get(document);
    if (groups?.get(key) === group) groups.delete(key);
  }
}

/** What of the request's context a result may depend on besides the event (see schema/context.ts). */
type CallerContext = { principal?: { projectId: string; role: string } | null };

/** Operation, variables, project and role: with the document, what makes two subscribers' results the same. */
function groupKey(args: ExecutionArgs): string {
  const ctx = args.contextValue as CallerContext | undefined;
  return JSON.stringify([
    args.operationName ?? null,
    args.variableValues ?? null,
    ctx?.principal?.projectId ?? null,
    ctx?.principal?.role ?? null,
  ]);
}

/** The subscription's field (its metrics label). */
function rootField(args: ExecutionArgs): string {
  const selection = getOperationAST(args.document, args.operationName)?.selectionSet.selections[0];
  return selection?.kind === Kind.FIELD ? selection.name.value : 'unknown';
}

/** The key of the results of one document and group key in resultsByEvent, and the open groups that use it. */
interface Execution {
  groups: number;
}

/**
 * Of each document and group key: its Execution while an open group uses it. Variables differ from
 * one subscriber to the next (a job's id, its afterSeq), so a key is dropped with its last group:
 * kept while the document is (Yoga's parse cache holds documents by query text), they grew by one
 * per distinct variables for good.
 */
const executionsByDocument = new WeakMap<DocumentNode, Map<string, Execution>>();
/** Of each event: its results by execution (see executionOf). */
const resultsByEvent = new WeakMap<object, Map<Execution, ExecutionResult | Promise<ExecutionResult>>>();

/** The Execution of `document` and `key`, for one more group (until releaseExecution). */
function executionOf(document: DocumentNode, key: string): Execution {
  let executions = executionsByDocument.get(document);
  if (!executions) executionsByDocument.set(document, (executions = new Map<string, Execution>()));
  let execution = executions.get(key);
  if (!execution) executions.set(key, (execution = { groups: 0 }));
  execution.groups++;
  return execution;
}

function releaseExecution(document: DocumentNode, key: string, execution: Execution) {
  if (--execution.groups > 0) return;
  const executions = executionsByDocument.get(document);
  if (executions?.get(key) === execution) executions.delete(key);
}

/**
 * The result of `args`' selection for `event`. Events reach every listener of a channel as one
 * object (see event-bus.ts): groups that are not shared (jobs' streams, each replaying from its
 * own `afterSeq`) but have the same document, variables, project and role take one execution
 * per live event between them; an event read from the table for one stream (a replay) is its own
 * object and is executed for it alone.
 */
function sharedResult(
  event: unknown,
  execution: Execution,
  args: ExecutionArgs,
  executed: { inc(): void },
): ExecutionResult | Promise<ExecutionResult> {
  if (event === null || typeof event !== 'object') {
    executed.inc();
    return execute({ ...args, rootValue: event });
  }
  let results = resultsByEvent.get(event);
  if (!results) resultsByEvent.set(event, (results = new Map<Execution, ExecutionResult | Promise<ExecutionResult>>()));
  let result = results.get(execution);
  if (!result) {
    executed.inc();
    results.set(execution, (result = execute({ ...args, rootValue: event })));
  }
  return result;
}

/** An error of the event stream as graphql-tools' executor reports it (the code survives masking). */
export function streamError(err: unknown, args: ExecutionArgs): GraphQLError {
  if (err instanceof GraphQLError) return err;
  const error = err instanceof Error ? err : new Error(String(err));
  const operation = getOperationAST(args.document, args.operationName);
  return new GraphQLError(error.message, { originalError: error, nodes: operation ? [operation] : undefined });
}
