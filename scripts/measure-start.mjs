// How long an API process takes from spawn to /readyz 200, run three ways from this checkout:
// through tsx with a cold cache (a fresh TMPDIR: a container's /tmp at each pod start), through
// tsx with a warm cache (the run before left it), and compiled (`npm run build`, dist/, what the
// image runs). Alternates the three, ROUNDS times, against one migrated database; prints the
// median and range of each, and the resident memory at ready.
//   npm run build && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node scripts/measure-start.mjs [rounds]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(process.argv[2] ?? 5);
const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `autodev_measure_start_${process.pid}`;
const work = mkdtempSync(path.join(tmpdir(), 'autodev-measure-start-'));
if (!existsSync(path.join(root, 'dist/server/main.js'))) throw new Error('dist/server/main.js is missing: run npm run build first');

async function sql(text) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Starts one API process, returns ms until /readyz answers 200 and its RSS then, and stops it. */
async function startOnce(argv, tmp, env) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { ...env, PORT: String(port), TMPDIR: tmp },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (performance.now() - t0 > 120_000) throw new Error(`not ready within 120 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = performance.now() - t0;
    const rssKiB = Number(readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)[1]);
    return { ms, rssMiB: rssKiB / 1024 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.on('exit', r)));
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  await sql(`CREATE DATABASE ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? work,
    NODE_ENV: 'production',
    DATABASE_URL: url.href,
    AUTODEV_ROLE: 'api',
    HOST: '127.0.0.1',
    AUTODEV_DATA_DIR: path.join(work, 'data'),
    AUTODEV_SIGNING_KEY: 'measure-start-signing-key',
    AUTODEV_ADMIN_TOKEN: 'measure-start-admin-token-0123456789',
    LOG_LEVEL: 'warn',
  };
  execFileSync(process.execPath, ['dist/server/db/migrate-cli.js'], { cwd: root, env, stdio: 'ignore' });
  const tsx = ['--import', 'tsx', 'server/main.ts'];
  const ways = { 'tsx, cold cache': [], 'tsx, warm cache': [], compiled: [] };
  const warmTmp = mkdtempSync(path.join(work, 'warm-'));
  await startOnce(tsx, warmTmp, env); // fills the warm cache (and the data directory's sample repository)
  for (let i = 0; i < rounds; i++) {
    const coldTmp = mkdtempSync(path.join(work, 'cold-'));
    ways['tsx, cold cache'].push(await startOnce(tsx, coldTmp, env));
    ways['tsx, warm cache'].push(await startOnce(tsx, warmTmp, env));
    ways.compiled.push(await startOnce(['dist/server/main.js'], mkdtempSync(path.join(work, 'tmp-')), env));
  }
  console.log(
    `API start to /readyz 200, ${rounds} rounds, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${execFileSync('nproc', { encoding: 'utf8' }).trim()} CPUs, Node ${process.version}:`,
  );
  for (const [way, runs] of Object.entries(ways)) {
    const ms = runs.map((r) => r.ms);
    console.log(
      `  ${way.padEnd(16)} median ${Math.round(median(ms))} ms (${Math.round(Math.min(...ms))}–${Math.round(Math.max(...ms))}), RSS at ready ${Math.round(median(runs.map((r) => r.rssMiB)))} MiB`,
    );
  }
} finally {
  await sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((err) => console.error(`could not drop ${database}: ${err.message}`));
  rmSync(work, { recursive: true, force: true });
}
