import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../test/database.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { addScriptedTemplates, createScriptedJob, SCRIPTED_RUNNER_COMMAND, waitForJob } from '../test/scripted.ts';

const LEASE_MS = 2000;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let api: TestServer;
let dataDir: string;
const workers: ChildProcess[] = [];

function startWorkerProcess(): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AUTODEV_ROLE: 'worker',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    AUTODEV_DATA_DIR: dataDir,
    AUTODEV_SIGNING_KEY: 'test-signing-key',
    AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND,
    AUTODEV_ATTEMPT_LEASE_MS: String(LEASE_MS),
    AUTODEV_RETRY_BASE_MS: '100',
    LOG_LEVEL: 'warn',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  workers.push(child);
  return child;
}

async function waitForOutput(child: ChildProcess, pattern: RegExp) {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready: ${out}`)), 60_000);
    const on = (d: Buffer) => {
      out += d.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'autodev-crash-'));
  api = await startTestServer({ databaseUrl: db.url, role: 'api' });
  await addScriptedTemplates(api);
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await api?.close();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a worker killed with SIGKILL mid-attempt', () => {
  it('loses no job: the attempt is marked LOST after the lease and another worker finishes the job, never two at once', async () => {
    const first = startWorkerProcess();
    await waitForOutput(first, /worker is running/);
    const id = await createScriptedJob(api, 'slow-first');
    await expect
      .poll(async () => (await waitForJob(api, id, ['RUNNING'])).events.filter((e: any) => /^tick/.test(e.message)).length, {
        timeout: 20_000,
      })
      .toBeGreaterThan(3);
    first.kill('SIGKILL');
    const killedAt = Date.now();
    const second = startWorkerProcess();
    await waitForOutput(second, /worker is running/);
    const sweeperRunningAt = Date.now();
    const job = await waitForJob(api, id, ['SUCCEEDED', 'FAILED'], 60_000);
    const recoveredAfterMs = Date.now() - killedAt;
    expect(job.state).toBe('SUCCEEDED');
    expect(job.output).toEqual({ text: 'done on attempt 2' });
    expect(job.attempts.map((a: any) => [a.number, a.state, a.errorCode])).toEqual([
      [1, 'LOST', 'WORKER_LOST'],
      [2, 'SUCCEEDED', null],
    ]);
    const { rows } = await api.app.services.pool.query(
      `SELECT number, "startedAt", "finishedAt" FROM "JobAttempt" WHERE "jobId" = $1 ORDER BY number`,
      [id],
    );
    expect(rows[1].startedAt.getTime()).toBeGreaterThanOrEqual(rows[0].finishedAt.getTime());
    // The README's bound: an attempt is declared LOST at most lease + lease/3 after its worker died,
    // counted here from when a sweeping worker exists (the only one was killed; the new one needs
    // seconds to start on this machine). Not before the lease: the last heartbeat may precede the
    // kill by up to lease/6. 1 s of slack for a loaded machine's scheduling.
    const lostAt = rows[0].finishedAt.getTime();
    expect(lostAt - killedAt).toBeGreaterThanOrEqual(LEASE_MS - LEASE_MS / 6);
    expect(lostAt - Math.max(killedAt + LEASE_MS, sweeperRunningAt)).toBeLessThanOrEqual(LEASE_MS / 3 + 1000);
    console.log(
      `kill -9 recovery: attempt LOST ${lostAt - killedAt} ms after the kill (lease ${LEASE_MS} ms; new worker running after ${sweeperRunningAt - killedAt} ms), job finished after ${recoveredAfterMs} ms`,
    );
  }, 120_000);
});
