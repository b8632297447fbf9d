// 4. Memory and start-up: RSS per idle subscription at 1,000 subscribers (versus a bare `ws`
//    server holding 1,000 idle sockets), and `npm start` (npm itself, scripts/start.mjs's freshness
//    checks, the compiled server) time and CPU to ready on embedded PostgreSQL, cold (no data
//    directory) and warm (versus starting the embedded PostgreSQL alone, from the same compiled code).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { BENCH_LIMITS, percentile, printTable, sleep } from './lib.ts';
import { COMPILED_DIR, compileServer } from '../scripts/compile-server.mjs';
import { bundleServer } from '../scripts/bundle-server.mjs';

const SUBSCRIBERS = 1000;

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

/**
 * Preloaded (see probeOptions) into both the server measured and the bare `ws` baseline, so both
 * sides are read the same way: on SIGUSR2 the process collects its garbage (a full GC, twice: weak
 * references and finalizers let go in the second) and prints one line with its RSS and heap after
 * GC (JSON: RSS, heap used and committed, external memory, each heap space committed and used).
 * With BENCH_HEAP_SNAPSHOT_DIR set it also writes a heap snapshot there after each reading (numbered 1, 2, …;
 * readings after the first are then inflated by the snapshot's own memory).
 */
const GC_PROBE = `'use strict';
const v8 = require('node:v8');
const path = require('node:path');
let n = 0;
process.on('SIGUSR2', () => {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  const dir = process.env.BENCH_HEAP_SNAPSHOT_DIR;
  if (dir) v8.writeHeapSnapshot(path.join(dir, 'probe-' + process.pid + '-' + ++n + '.heapsnapshot'));
  const spaces = {};
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = [s.space_size, s.space_used_size];
  const line = { rss: m.rss, heap: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, spaces };
  process.stdout.write('gc-probe ' + JSON.stringify(line) + '\\n');
});
`;

/** Node's options that load GC_PROBE (written into `dir`). */
async function probeOptions(dir: string): Promise<string[]> {
  const file = path.join(dir, 'gc-probe.cjs');
  await writeFile(file, GC_PROBE);
  return ['--expose-gc', '--require', file];
}

const READINGS = 3;

interface Reading {
  /** RSS without a forced GC, as the bench read it before the probe (KiB). */
  rawRssKiB: number;
  /** Medians of READINGS readings, each after a full GC (KiB). */
  rssKiB: number;
  heapKiB: number;
  /**
   * Where the RSS goes, medians after a full GC (KiB): V8's heap committed (heapTotal) against
   * used, memory outside it (external, of which arrayBuffers), and each heap space committed / used.
   */
  breakdown: Record<string, number>;
}

interface ProbeLine {
  rss: number;
  heap: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, [committed: number, used: number]>;
}

/** What the breakdown reads of a probe line (bytes). */
function breakdownOf(p: ProbeLine): Record<string, number> {
  const out: Record<string, number> = { 'heap committed (heapTotal)': p.heapTotal, external: p.external, arrayBuffers: p.arrayBuffers };
  for (const [space, [committed, used]] of Object.entries(p.spaces)) {
    out[`${space} committed`] = committed;
    out[`${space} used`] = used;
  }
  return out;
}

/** Reads a process started with PROBE: its RSS as it is, then the median of READINGS readings after a full GC. */
async function readMemory(child: ChildProcess, out: () => string): Promise<Reading> {
  const rawRssKiB = await rssKiB(child.pid!);
  const lines: ProbeLine[] = [];
  for (let i = 0; i < READINGS; i++) {
    const seen = out().length;
    child.kill('SIGUSR2');
    let line: RegExpExecArray | null;
    while (!(line = /gc-probe (\{.*\})\n/.exec(out().slice(seen)))) await sleep(10);
    lines.push(JSON.parse(line[1]) as ProbeLine);
    await sleep(300);
  }
  const median = (f: (p: ProbeLine) => number) => percentile(lines.map(f), 50) / 1024;
  const breakdown: Record<string, number> = {};
  for (const key of Object.keys(breakdownOf(lines[0]))) breakdown[key] = median((p) => breakdownOf(p)[key] ?? 0);
  return { rawRssKiB, rssKiB: median((p) => p.rss), heapKiB: median((p) => p.heap), breakdown };
}

/** CPU time (user + system, ms) of a process and its descendants, live and reaped, PostgreSQL's processes left out. */
async function treeCpuMs(root: number): Promise<number> {
  const ticks = 100; // USER_HZ
  const procs = new Map<number, { comm: string; ppid: number; cpu: number }>();
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = await readFile(`/proc/${d}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
    procs.set(Number(d), { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ppid: Number(f[1]), cpu });
  }
  const sum = (pid: number): number => {
    const p = procs.get(pid);
    if (!p || p.comm === 'postgres') return 0;
    let total = p.cpu;
    for (const [child, c] of procs) if (c.ppid === pid) total += sum(child);
    return total;
  };
  return (sum(root) * 1000) / ticks;
}

/**
 * Starts `command` in its own process group (as a terminal would: Ctrl-C reaches npm, its shell
 * and the server alike) and resolves once its output matches `ready`, with the time and the CPU
 * its process tree took to get there.
 */
function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  command = process.execPath,
): Promise<{ child: ChildProcess; ms: number; cpuMs: number; out: () => string }> {
  const started = performance.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (ready.test(out)) {
        clearInterval(timer);
        const ms = performance.now() - started;
        treeCpuMs(child.pid!).then((cpuMs) => resolve({ child, ms, cpuMs, out: () => out }), reject);
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(out));
      }
    }, 5);
  });
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid!, 'SIGINT');
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

async function closeSubscriptions(clients: ReturnType<typeof createClient>[]) {
  await Promise.all(
    clients.map(async (c) => {
      await c.dispose(); // void or a promise
    }),
  );
}

function openSockets(port: string, n: number): Promise<WebSocket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<WebSocket>((r) => {
          const s = new WebSocket(`ws://127.0.0.1:${port}`);
          s.on('open', () => r(s));
        }),
    ),
  );
}

async function closeSockets(sockets: WebSocket[]) {
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise((r) => {
          s.once('close', r);
          s.close();
        }),
    ),
  );
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
  try {
    // What a user runs. (Its first run in a checkout also compiles and bundles the server:
    // `compileServer` and `bundleServer` below have done that already, as `npm start` would have on the first run.)
    await compileServer();
    await bundleServer();
    const PROBE = await probeOptions(dataDir);
    const npmStart = () => startProcess(['start'], env, /Admin token/, 'npm');
    const cold = await npmStart();
    await stop(cold.child);
    const warmNpm = await npmStart();
    await stop(warmNpm.child);
    // The server the memory figures below are taken from: scripts/start.mjs without npm, so its pid is the server's.
    const warm = await startProcess([...PROBE, 'scripts/start.mjs'], env, /Admin token/);
    const url = /GraphQL \+ GraphiQL: (\S+)\/graphql/.exec(warm.out())![1].replace('http', 'ws') + '/graphql';
    const token = /Admin token[^:]*: (\S+)/.exec(warm.out())![1];
    await sleep(1000);
    const fresh = await readMemory(warm.child, warm.out);
    // Warm-up (both sides alike): as many subscriptions opened and closed once, so the figures are
    // what each subscription keeps, not the one-time growth of the first burst (V8's young
    // generation pages touched for the first time, ~18 MiB here; first-use code and caches).
    await closeSubscriptions(await openSubscriptions(url, token, SUBSCRIBERS));
    await sleep(1500);
    const before = await readMemory(warm.child, warm.out);
    const clients = await openSubscriptions(url, token, SUBSCRIBERS);
    const after = await readMemory(warm.child, warm.out);
    await closeSubscriptions(clients);
    await stop(warm.child);

    // Baselines: embedded PostgreSQL alone (cold and warm), a bare ws server with as many sockets.
    const pgDir = await mkdtemp(path.join(tmpdir(), 'autodev-bench-pg-'));
    const pgOnly = `const { startEmbeddedPostgres } = await import('${path.join(COMPILED_DIR, 'server/db/embedded-postgres.js')}');
      const db = await startEmbeddedPostgres('${pgDir}', () => {}); console.log('ready'); process.on('SIGINT', () => db.stop().then(() => process.exit(0)));`;
    const pgCold = await startProcess(['--input-type=module', '-e', pgOnly], process.env, /ready/);
    await stop(pgCold.child);
    const pgWarm = await startProcess(['--input-type=module', '-e', pgOnly], process.env, /ready/);
    await stop(pgWarm.child);
    await rm(pgDir, { recursive: true, force: true });

    const bare = await startProcess([...PROBE, '-e', BARE_WS], process.env, /listening \d+/);
    const port = /listening (\d+)/.exec(bare.out())![1];
    await sleep(500);
    const bareFresh = await readMemory(bare.child, bare.out);
    await closeSockets(await openSockets(port, SUBSCRIBERS)); // the same warm-up
    await sleep(1500);
    const bareBefore = await readMemory(bare.child, bare.out);
    const sockets = await openSockets(port, SUBSCRIBERS);
    await sleep(1500);
    const bareAfter = await readMemory(bare.child, bare.out);
    await closeSockets(sockets);
    bare.child.kill();

    type Figure = 'rssKiB' | 'heapKiB';
    const per = (k: Figure) => (after[k] - before[k]) / SUBSCRIBERS;
    const base = (k: Figure) => (bareAfter[k] - bareBefore[k]) / SUBSCRIBERS;
    printTable(`Memory (${SUBSCRIBERS} idle subscribers) and start-up`, [
      ['RSS per idle subscription, after GC (median of 3)', per('rssKiB'), base('rssKiB'), 'KiB'],
      ['heap per idle subscription, after GC (median of 3)', per('heapKiB'), base('heapKiB'), 'KiB'],
      [
        "RSS per idle subscription, no forced GC, from a fresh server (the warm-up's growth included)",
        (after.rawRssKiB - fresh.rawRssKiB) / SUBSCRIBERS,
        (bareAfter.rawRssKiB - bareFresh.rawRssKiB) / SUBSCRIBERS,
        'KiB',
      ],
      [
        "RSS per idle subscription, after GC, from a fresh server (the warm-up's growth included)",
        (after.rssKiB - fresh.rssKiB) / SUBSCRIBERS,
        (bareAfter.rssKiB - bareFresh.rssKiB) / SUBSCRIBERS,
        'KiB',
      ],
      ['npm start to ready, cold (no .data/)', cold.ms, pgCold.ms, 'ms'],
      ['npm start to ready, warm', warmNpm.ms, pgWarm.ms, 'ms'],
      ['npm start CPU to ready, warm (npm + server)', warmNpm.cpuMs, pgWarm.cpuMs, 'ms'],
      ['node scripts/start.mjs to ready, warm (no npm)', warm.ms, pgWarm.ms, 'ms'],
    ]);
    const grown = (a: Reading, b: Reading, key: string) => ((a.breakdown[key] ?? 0) - (b.breakdown[key] ?? 0)) / SUBSCRIBERS;
    printTable(
      `Where the RSS per idle subscription goes (after GC and the warm-up, per subscription or socket)`,
      Object.keys(after.breakdown)
        .map((key): [string, number, number, string] => [key, grown(after, before, key), grown(bareAfter, bareBefore, key), 'KiB'])
        .filter(([, ours, bare]) => Math.abs(ours) >= 0.01 || Math.abs(bare) >= 0.01),
    );
    console.log(
      `(server RSS after GC ${Math.round(before.rssKiB / 1024)} MiB idle, ${Math.round(after.rssKiB / 1024)} MiB with ${SUBSCRIBERS} subscriptions; start-up baseline = embedded PostgreSQL alone)`,
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMemoryStartup();
