import type { TokenRevocationBus } from '../auth/token-watch.ts';
import type { JobEventRecord } from '../jobs/job-event.ts';
import type { JobEventBus } from '../jobs/job-event-bus.ts';
import type { PubSub } from './pubsub.ts';

/** Of each event that came through the bus: its message's length and its commit time (ms), read once for all subscribers. */
const received = new WeakMap<object, { size: number; at: number }>();

/** About how many bytes an event takes while it waits for a subscriber (its message's length when it came through the bus). */
export function eventSize(e: JobEventRecord): number {
  return received.get(e)?.size ?? 256 + (e.message?.length ?? 0);
}

/** Whether `e` came through the bus (a live event), not from the table. */
export function isLive(e: JobEventRecord): boolean {
  return received.has(e);
}

/** When `e` was committed, in ms since the epoch. */
export function commitTime(e: JobEventRecord): number {
  return received.get(e)?.at ?? Date.parse(e.createdAt);
}

const jobChannel = (jobId: string) => `autodev:job:${jobId}`;
const projectChannel = (projectId: string) => `autodev:project:${projectId}`;
const TOKEN_REVOKED_CHANNEL = 'autodev:token-revoked';

/** The one bus of a process: jobs' events (the jobs' port) and token revocations (the auth port). */
export interface EventBus extends JobEventBus, TokenRevocationBus {}

/**
 * One transport subscription per channel, whatever the number of local subscribers: a message is
 * parsed once and handed to every handler (with 1,000 subscribers on a project, parsing per
 * subscriber was the largest cost of fan-out).
 */
export function createEventBus(pubsub: PubSub, onError: (err: unknown) => void = () => {}): EventBus {
  const channels = new Map<string, { handlers: Set<(e: JobEventRecord) => void>; ready: Promise<() => Promise<void>> }>();

  const listen = async (channel: string, handler: (e: JobEventRecord) => void) => {
    let entry = channels.get(channel);
    if (!entry) {
      const handlers = new Set<(e: JobEventRecord) => void>();
      const ready = pubsub.subscribe(channel, (message) => {
        const event = JSON.parse(message) as JobEventRecord;
        received.set(event, { size: message.length, at: Date.parse(event.createdAt) });
        for (const h of handlers) h(event);
      });
      entry = { handlers, ready };
      channels.set(channel, entry);
      // A failed subscribe must not block the channel for good: the next listener tries again.
      const failed = entry;
      ready.catch(() => channels.get(channel) === failed && channels.delete(channel));
    }
    entry.handlers.add(handler);
    await entry.ready;
    return async () => {
      const current = channels.get(channel);
      if (!current || !current.handlers.delete(handler) || current.handlers.size > 0) return;
      channels.delete(channel);
      await (
        await current.ready
      )();
    };
  };

  return {
    async publish(events) {
      for (const e of events) {
        const message = JSON.stringify(e);
        // A failed publish loses nothing: the event is committed, and subscribers fill gaps from the table.
        await Promise.all([pubsub.publish(jobChannel(e.jobId), message), pubsub.publish(projectChannel(e.projectId), message)]).catch(
          onError,
        );
      }
    },
    onJob: (jobId, handler) => listen(jobChannel(jobId), handler),
    onProject: (projectId, handler) => listen(projectChannel(projectId), handler),
    onResync: (listener) => pubsub.onResync(listener),
    // A lost publish is caught by each process's periodic recheck of the tokens it watches.
    publishTokenRevoked: (tokenId) => pubsub.publish(TOKEN_REVOKED_CHANNEL, tokenId).catch(onError),
    onTokenRevoked: (handler) => pubsub.subscribe(TOKEN_REVOKED_CHANNEL, handler),
  };
}
