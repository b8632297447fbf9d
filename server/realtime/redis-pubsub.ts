import { Redis } from 'ioredis';
import type { PubSub } from './pubsub.ts';

const RESYNC_CHANNEL = 'autodev:resync';

/**
 * Redis pub/sub: one connection publishes, one subscribes; channels are reference-counted so
 * any number of local subscribers share one Redis subscription.
 *
 * While Redis is away nothing waits for it: publishes are dropped (events are committed in
 * PostgreSQL first), new subscriptions are registered locally and subscribed on reconnect
 * (ioredis re-subscribes), and once the subscribing connection is back `onResync` listeners run so
 * that streams read what they missed from the table.
 */
export async function createRedisPubSub(url: string, onWarn: (message: string) => void = () => {}): Promise<PubSub> {
  const options = {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    lazyConnect: true,
    retryStrategy: (n: number) => Math.min(n * 200, 2000),
  };
  const pub = new Redis(url, options);
  const sub = new Redis(url, options);
  pub.on('error', () => {});
  sub.on('error', () => {});
  await Promise.all([pub.connect(), sub.connect()]);

  const resyncListeners = new Set<() => void>();
  const resync = () => {
    for (const l of resyncListeners) l();
  };
  let lost = false;
  sub.on('close', () => {
    if (!lost) onWarn('Redis connection lost; live events pause and are read from PostgreSQL once it is back');
    lost = true;
  });
  sub.on('ready', () => {
    if (!lost) return;
    lost = false;
    onWarn('Redis connection back; resynchronising subscriptions from PostgreSQL');
    // Every channel wanted here, including ones asked for while Redis was away (a queued SUBSCRIBE
    // may have failed); then the streams read what they missed.
    void sub
      .subscribe(RESYNC_CHANNEL, ...handlers.keys())
      .catch((err: unknown) => onWarn(`Redis re-subscribe failed: ${String(err)}`))
      .then(resync);
  });

  const handlers = new Map<string, Set<(m: string) => void>>();
  sub.on('message', (channel: string, message: string) => {
    if (channel === RESYNC_CHANNEL) {
      resync();
      return;
    }
    for (const h of handlers.get(channel) ?? []) h(message);
  });
  // A process whose publishing connection was away dropped events; when it is back it tells every
  // process to resync (their own subscribing connections may never have noticed an outage).
  await sub.subscribe(RESYNC_CHANNEL);
  let pubLost = false;
  pub.on('close', () => (pubLost = true));
  pub.on('ready', () => {
    if (!pubLost) return;
    pubLost = false;
    pub.publish(RESYNC_CHANNEL, '1').catch(() => {});
  });

  return {
    async publish(channel, message) {
      // Offline: dropped, not queued (the event is in PostgreSQL; subscribers resync from there).
      if (pub.status !== 'ready') return;
      await pub.publish(channel, message);
    },
    async subscribe(channel, onMessage) {
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        const subscribed = sub.subscribe(channel);
        // Offline: ioredis subscribes when it reconnects; the stream's replay and resync cover the gap.
        if (sub.status === 'ready') await subscribed;
        else subscribed.catch(() => {});
      }
      set.add(onMessage);
      return async () => {
        const s = handlers.get(channel);
        if (!s) return;
        s.delete(onMessage);
        if (s.size === 0) {
          handlers.delete(channel);
          await sub.unsubscribe(channel).catch(() => {});
        }
      };
    },
    onResync(listener) {
      resyncListeners.add(listener);
      return () => void resyncListeners.delete(listener);
    },
    close() {
      handlers.clear();
      resyncListeners.clear();
      pub.disconnect();
      sub.disconnect();
      return Promise.resolve();
    },
  };
}
