// AutoDev behind PgBouncer (Debian's pgbouncer, started by this test on a port of its own, in front
// of the test PostgreSQL). The README's advice (session mode) rests on what this test observes.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_POSTGRES_URL } from '../test/database.ts';
import { freePort } from '../test/free-port.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { addScriptedTemplates, createScriptedJob, SCRIPTED_RUNNER_COMMAND, waitForJob } from '../test/scripted.ts';

let installed = true;
try {
  execFileSync('pgbouncer', ['--version'], { stdio: 'ignore' });
} catch {
  installed = false;
}

let dir: string;
const bouncers: ChildProcess[] = [];

/** A pgbouncer in `mode` in front of the test server; resolves with its port once it accepts. */
async function startPgBouncer(mode: 'session' | 'transaction'): Promise<number> {
  const target = new URL(TEST_POSTGRES_URL);
  const port = await freePort();
  const ini = path.join(dir, `${mode}.ini`);
  await writeFile(
    ini,
    [
      '[databases]',
      `* = host=${target.hostname} port=${target.port || 5432} user=${decodeURIComponent(target.username) || 'postgres'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'auth_type = any',
      `pool_mode = ${mode}`,
      'max_client_conn = 200',
      'default_pool_size = 30',
      'unix_socket_dir =',
      'ignore_startup_parameters = extra_float_digits,options',
    ].join('\n'),
  );
  // pgbouncer refuses to run as root: -u names the user it switches to.
  const asRoot = process.getuid?.() === 0 ? ['-u', 'postgres'] : [];
  const child = spawn('pgbouncer', [...asRoot, ini], { stdio: ['ignore', 'pipe', 'pipe'] });
  bouncers.push(child);
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  child.stdout.on('data', (d) => (log += d));
  const deadline = Date.now() + 10_000;
  while (!log.includes('process up')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`pgbouncer did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return port;
}

beforeAll(async () => {
  if (installed) dir = await mkdtemp(path.join(tmpdir(), 'autodev-pgbouncer-'));
});
afterAll(async () => {
  // Waits for each to exit: the run checks that no process of its own is left behind.
  await Promise.all(
    bouncers.map((b) =>
      b.exitCode !== null || b.signalCode !== null ? Promise.resolve() : new Promise((r) => (b.once('exit', r), b.kill('SIGTERM'))),
    ),
  );
  if (dir) await rm(dir, { recursive: true, force: true });
});

const skipUnlessInstalled = (ctx: { skip(): void }) => {
  if (installed) return false;
  console.log('skipped: pgbouncer is not installed (apt-get install pgbouncer)');
  ctx.skip();
  return true;
};

describe('AutoDev through PgBouncer', () => {
  it('session mode: migrations, the API and the worker work; jobs run end to end', async (ctx) => {
    if (skipUnlessInstalled(ctx)) return;
    const port = await startPgBouncer('session');
    const db = await createTestDatabase();
    let t: TestServer | undefined;
    try {
      const url = new URL(db.url);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      t = await startTestServer({ role: 'all', databaseUrl: url.href, env: { AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND } });
      await addScriptedTemplates(t);
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const job = await waitForJob(t, await createScriptedJob(t, 'ok'), ['SUCCEEDED', 'FAILED'], 30_000);
        expect(job.state).toBe('SUCCEEDED');
        times.push(Date.now() - t0);
      }
      console.log(`pgbouncer session mode: 3 jobs, each created → SUCCEEDED in ${times.join(', ')} ms`);
    } finally {
      await t?.close();
      await db.drop();
    }
  }, 120_000);

  it('transaction mode loses NOTIFY to a LISTENing client (what graphile-worker relies on to hear of new jobs); session mode delivers it', async (ctx) => {
    if (skipUnlessInstalled(ctx)) return;
    const received: Record<string, boolean> = {};
    for (const mode of ['session', 'transaction'] as const) {
      const port = await startPgBouncer(mode);
      const url = new URL(TEST_POSTGRES_URL);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      const listener = new pg.Client({ connectionString: url.href });
      const notifier = new pg.Client({ connectionString: url.href });
      await listener.connect();
      await notifier.connect();
      try {
        const heard = new Promise<boolean>((resolve) => {
          listener.on('notification', () => resolve(true));
          setTimeout(() => resolve(false), 2000).unref();
        });
        await listener.query('LISTEN autodev_pgbouncer_probe');
        await notifier.query("SELECT pg_notify('autodev_pgbouncer_probe', 'x')");
        received[mode] = await heard;
      } finally {
        await listener.end();
        await notifier.end();
      }
    }
    expect(received).toEqual({ session: true, transaction: false });
  }, 60_000);
});
