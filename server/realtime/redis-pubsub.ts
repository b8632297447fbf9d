import { Redis } from 'ioredis';
import type { PubSub } from './pubsub.ts';

/**
 * Redis pub/sub: one connection publishes, one subscribes; channels are reference-counted so
 * any number of local subscribers share one Redis subscription.
 */
export async function createRedisPubSub(url: string): Promise<PubSub> {
  const options = { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: true };
  const pub = new Redis(url, options);
  const sub = new Redis(url, options);
  pub.on('error', () => {});
  sub.on('error', () => {});
  await Promise.all([pub.connect(), sub.connect()]);

  const handlers = new Map<string, Set<(m: string) => void>>();
  sub.on('message', (channel: string, message: string) => {
    for (const h of handlers.get(channel) ?? []) h(message);
  });

  return {
    async publish(channel, message) {
      await pub.publish(channel, message);
    },
    async subscribe(channel, onMessage) {
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        await sub.subscribe(channel);
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
    async close() {
      handlers.clear();
      pub.disconnect();
      sub.disconnect();
    },
  };
}
