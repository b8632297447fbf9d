import { Redis } from 'ioredis';
import { startRedisProcess } from '../redis-process.ts';
import type { Provided } from './provided.ts';

export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** Null when the server at `url` answers PING within 3 s, else the reason it did not. */
export async function redisProblem(url: string): Promise<string | null> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let firstError: Error | null = null;
  client.on('error', (err) => void (firstError ??= err));
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (err) {
    // ioredis rejects with "Connection is closed."; the cause came through the 'error' event.
    return (firstError ?? (err as Error)).message || String(err);
  } finally {
    client.disconnect();
  }
}

/** The Redis the tests use: TEST_REDIS_URL when it answers, else a redis-server of this run on a free port. */
export async function provideTestRedis(say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<Provided> {
  const wanted = env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL;
  const problem = await redisProblem(wanted);
  if (!problem) return { url: wanted, stop: async () => {}, stopNow: () => {} };

  say(`Redis at ${wanted} does not answer (${problem}); starting a redis-server for this run`);
  try {
    const redis = await startRedisProcess();
    say(`redis-server is up at ${redis.url}`);
    return { url: redis.url, stop: redis.stop, stopNow: redis.stopNow };
  } catch (err) {
    throw new Error(`Redis is needed and neither ${wanted} answers nor could a redis-server start: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
