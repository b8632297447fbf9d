import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../test/free-port.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.ts';

const dirs: string[] = [];
const servers: EmbeddedDatabase[] = [];
afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.stop()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function dataDir() {
  const dir = await mkdtemp(path.join(tmpdir(), 'autodev-embedded-'));
  dirs.push(dir);
  return dir;
}

async function dataDirectoryOf(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SHOW data_directory')).rows[0].data_directory;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL (what `npm start` runs without DATABASE_URL)', () => {
  it('two starts at once that pick the same free port both come up, the loser on another port', async () => {
    const port = await freePort();
    const [a, b] = [await dataDir(), await dataDir()];
    const results = await Promise.allSettled([
      startEmbeddedPostgres(a, () => {}, { preferredPort: port }),
      startEmbeddedPostgres(b, () => {}, { preferredPort: port }),
    ]);
    for (const r of results) if (r.status === 'fulfilled') servers.push(r.value);
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual(['started', 'started']);
    const [first, second] = servers.slice(-2);
    expect(new Set([new URL(first.url).port, new URL(second.url).port]).size).toBe(2);
    expect([new URL(first.url).port, new URL(second.url).port]).toContain(String(port));
    // Each address reaches its own server.
    expect(await dataDirectoryOf(first.url)).toBe(path.join(a, 'pg'));
    expect(await dataDirectoryOf(second.url)).toBe(path.join(b, 'pg'));
  }, 120_000);

  it('a start on a data directory another server is using fails with that reason, and `npm start` logs it', async () => {
    const dir = await dataDir();
    servers.push(await startEmbeddedPostgres(dir, () => {}));
    const refused = await startEmbeddedPostgres(dir, () => {}).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(
      /data directory .* is in use by another PostgreSQL \(is another AutoDev running with the same AUTODEV_DATA_DIR\?\): lock file "postmaster.pid" already exists/,
    );

    const unset = new Set(['DATABASE_URL', 'REDIS_URL', 'AUTODEV_ADMIN_TOKEN', 'AUTODEV_ROLE']);
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !unset.has(k)));
    const env: NodeJS.ProcessEnv = { ...inherited, AUTODEV_DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 60_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code).toBe(1);
    const failure = err
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'AutoDev failed to start');
    expect(failure?.error).toMatch(/is in use by another PostgreSQL/);
  }, 120_000);

  it("leaves the process's exit code alone (the package's exit hook used to force 0: a failing test run passed)", async () => {
    const dir = await dataDir();
    const script = `
      import { startEmbeddedPostgres } from './server/db/embedded-postgres.ts';
      const db = await startEmbeddedPostgres(${JSON.stringify(dir)}, () => {});
      await db.stop();
      process.exitCode = 3;`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(3);
  }, 60_000);
});
