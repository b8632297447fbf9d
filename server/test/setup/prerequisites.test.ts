import { existsSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { ensureTools } from './debian-tools.ts';
import { postgresProblem, provideTestPostgres } from './test-postgres.ts';
import { provideTestRedis, redisProblem } from './test-redis.ts';

// What `npm test`'s global setup does for a machine that lacks something (server/test/global-setup.ts).
const DEAD = { postgres: 'postgres://postgres@127.0.0.1:1/postgres', redis: 'redis://127.0.0.1:1' };

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe("npm test's prerequisites", () => {
  it('a missing program that may not be installed stops the run with one sentence naming the command to run', () => {
    const tool = { command: '/nonexistent/chromium', debianPackage: 'chromium', neededFor: "the web app's browser tests" };
    expect(() => ensureTools([tool], () => {}, { ...process.env, AUTODEV_TEST_INSTALL: '0' })).toThrow(
      "The tests need /nonexistent/chromium (the web app's browser tests), and AUTODEV_TEST_INSTALL=0 forbids installing: run `apt-get update && apt-get install -y --no-install-recommends chromium` first.",
    );
  });

  it('programs that are present are used as they are: nothing is installed or said', () => {
    const said: string[] = [];
    ensureTools(
      [
        { command: 'node', debianPackage: 'nodejs', neededFor: 'this test' },
        { command: process.execPath, debianPackage: 'nodejs', neededFor: 'this test' },
      ],
      (l) => said.push(l),
    );
    expect(said).toEqual([]);
  });

  it('services that answer are used, and nothing is started', async () => {
    const said: string[] = [];
    const env = { TEST_POSTGRES_URL: inject('testPostgresUrl'), TEST_REDIS_URL: inject('testRedisUrl') };
    expect((await provideTestPostgres((l) => said.push(l), env)).url).toBe(env.TEST_POSTGRES_URL);
    expect((await provideTestRedis((l) => said.push(l), env)).url).toBe(env.TEST_REDIS_URL);
    expect(said).toEqual([]);
  });

  it('a Redis that does not answer is replaced by a redis-server of its own, which stop() ends', async () => {
    const said: string[] = [];
    const redis = await provideTestRedis((l) => said.push(l), { TEST_REDIS_URL: DEAD.redis });
    expect(said[0]).toBe(
      'Redis at redis://127.0.0.1:1 does not answer (connect ECONNREFUSED 127.0.0.1:1); starting a redis-server for this run',
    );
    expect(await redisProblem(redis.url)).toBeNull();
    await redis.stop();
    expect(await refuses(Number(new URL(redis.url).port))).toBe(true);
  });

  it('a PostgreSQL that does not answer is replaced by an embedded one; stopNow() (what Ctrl-C runs) ends it and deletes its directory', async () => {
    const said: string[] = [];
    const pg = await provideTestPostgres((l) => said.push(l), { TEST_POSTGRES_URL: DEAD.postgres });
    expect(said[0]).toMatch(
      /^PostgreSQL at postgres:\/\/postgres@127.0.0.1:1\/postgres does not answer \(connect ECONNREFUSED 127.0.0.1:1\); starting an embedded PostgreSQL/,
    );
    const dir = /data in (\S+)\)/.exec(said.at(-1)!)![1];
    expect(await postgresProblem(pg.url)).toBeNull();
    expect(existsSync(dir)).toBe(true);
    pg.stopNow();
    expect(existsSync(dir)).toBe(false);
    expect(await refuses(Number(new URL(pg.url).port))).toBe(true);
  }, 60_000);
});
