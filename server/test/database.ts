import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DEFAULT_TEST_POSTGRES_URL } from './setup/test-postgres.ts';
import { DEFAULT_TEST_REDIS_URL } from './setup/test-redis.ts';

// Under vitest, the services the global setup found or started (server/test/global-setup.ts);
// elsewhere (the benchmarks), TEST_POSTGRES_URL / TEST_REDIS_URL or the local defaults.
const inject = process.env.VITEST ? (await import('vitest')).inject : () => undefined;

/** The server tests create databases on. */
export const TEST_POSTGRES_URL: string = inject('testPostgresUrl') ?? (process.env.TEST_POSTGRES_URL || DEFAULT_TEST_POSTGRES_URL);
export const TEST_REDIS_URL: string = inject('testRedisUrl') ?? (process.env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL);

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is required for the tests and is not reachable at ${TEST_POSTGRES_URL} (${(err as Error).message}). ` +
        'Start it (see README, "Tests") or set TEST_POSTGRES_URL.',
      { cause: err },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database for one test file, dropped afterwards: no test depends on leftovers. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `autodev_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: withDatabase(TEST_POSTGRES_URL, name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
