// 4. Memory and start-up: RSS per idle subscription at 1,000 subscribers (versus a bare `ws`
//    server holding 1,000 idle sockets), and `npm start` time to ready on embedded PostgreSQL,
//    cold (no data directory) and warm (versus starting the embedded PostgreSQL alone).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { BENCH_LIMITS, printTable, sleep } from './lib.ts';

const SUBSCRIBERS = 1000;

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ child: ChildProcess; ms: number; out: () => string }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (ready.test(out)) {
        clearInterval(timer);
        resolve({ child, ms: performance.now() - started, out: () => out });
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(out));
      }
    }, 5);
  });
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
}

async function openSubscriptions(url: string, token: string | null, n: number) {
  const clients = [];
  let connected = 0;
  for (let i = 0; i < n; i++) {
    const c = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      retryAttempts: 0,
      on: {
        connected: () => {
          connected++;
        },
      },
    });
    c.subscribe({ query: 'subscription { projectEvents { seq } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    clients.push(c);
  }
  while (connected < n) await sleep(20);
  await sleep(1500);
  return clients;
}

const BARE_WS = `
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
wss.on('listening', () => console.log('listening ' + wss.address().port));
wss.on('connection', (s) => s.on('message', () => {}));
`;

export async function benchMemoryStartup() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'autodev-bench-'));
  // As on a clean checkout: embedded PostgreSQL, no Redis, a new admin token.
  const unset = new Set(['DATABASE_URL', 'REDIS_URL', 'AUTODEV_ADMIN_TOKEN']);
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !unset.has(k)));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    AUTODEV_DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...BENCH_LIMITS,
  };
  const args = ['--import', 'tsx', 'server/main.ts'];
  try {
    const cold = await startProcess(args, env, /Admin token/);
    await stop(cold.child);
    const warm = await startProcess(args, env, /Admin token/);
    const url = /GraphQL \+ GraphiQL: (\S+)\/graphql/.exec(warm.out())![1].replace('http', 'ws') + '/graphql';
    const token = /Admin token[^:]*: (\S+)/.exec(warm.out())![1];
    await sleep(1000);
    const before = await rssKiB(warm.child.pid!);
    const clients = await openSubscriptions(url, token, SUBSCRIBERS);
    const after = await rssKiB(warm.child.pid!);
    await Promise.all(
      clients.map(async (c) => {
        await c.dispose(); // void or a promise
      }),
    );
    await stop(warm.child);

    // Baselines: embedded PostgreSQL alone (cold and warm), a bare ws server with as many sockets.
    const pgDir = await mkdtemp(path.join(tmpdir(), 'autodev-bench-pg-'));
    const pgOnly = `const { startEmbeddedPostgres } = await import('${path.resolve('server/db/embedded-postgres.ts')}');
      const db = await startEmbeddedPostgres('${pgDir}', () => {}); console.log('ready'); process.on('SIGINT', () => db.stop().then(() => process.exit(0)));`;
    const pgCold = await startProcess(['--import', 'tsx', '-e', pgOnly], process.env, /ready/);
    await stop(pgCold.child);
    const pgWarm = await startProcess(['--import', 'tsx', '-e', pgOnly], process.env, /ready/);
    await stop(pgWarm.child);
    await rm(pgDir, { recursive: true, force: true });

    const bare = await startProcess(['-e', BARE_WS], process.env, /listening \d+/);
    const port = /listening (\d+)/.exec(bare.out())![1];
    await sleep(500);
    const bareBefore = await rssKiB(bare.child.pid!);
    const sockets = await Promise.all(
      Array.from(
        { length: SUBSCRIBERS },
        () =>
          new Promise<WebSocket>((r) => {
            const s = new WebSocket(`ws://127.0.0.1:${port}`);
            s.on('open', () => r(s));
          }),
      ),
    );
    await sleep(1500);
    const bareAfter = await rssKiB(bare.child.pid!);
    for (const s of sockets) s.close();
    bare.child.kill();

    printTable(`Memory (${SUBSCRIBERS} idle subscribers) and start-up`, [
      ['RSS per idle subscription', (after - before) / SUBSCRIBERS, (bareAfter - bareBefore) / SUBSCRIBERS, 'KiB'],
      ['npm start to ready, cold (no .data/)', cold.ms, pgCold.ms, 'ms'],
      ['npm start to ready, warm', warm.ms, pgWarm.ms, 'ms'],
    ]);
    console.log(
      `(server RSS ${Math.round(before / 1024)} MiB idle, ${Math.round(after / 1024)} MiB with ${SUBSCRIBERS} subscriptions; start-up baseline = embedded PostgreSQL alone)`,
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMemoryStartup();
