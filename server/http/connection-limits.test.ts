// Connections without a token that never finish their headers, against a real API process with
// 512 file descriptors. Before the cap the process accepted until it had no descriptor left
// (accept, PostgreSQL, Redis, files and runner pipes all need them) and held each such connection
// for Node's 60 s header timeout.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../auth/tokens.ts';
import { createTestDatabase } from '../test/database.ts';
import { connectionCap, openFileLimit } from './connection-limits.ts';

const FD_LIMIT = 512;
type Api = { child: ReturnType<typeof spawn>; url?: string; output(): string; kill(signal: NodeJS.Signals): Promise<void> };
let api: Api;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const admin = generateSecret();
const openFiles = () => readdirSync(`/proc/${api.child.pid}/fd`).length;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApiWithFileLimit(FD_LIMIT, { DATABASE_URL: db.url, AUTODEV_ADMIN_TOKEN: admin });
}, 90_000);
afterAll(async () => {
  await api?.kill('SIGTERM');
  await db?.drop();
});

/**
 * An API process (as startAutodevProcess starts one) under `prlimit --nofile=N:N`: soft and hard,
 * since Node raises its soft limit to the hard one at start-up.
 */
async function startApiWithFileLimit(limit: number, env: Record<string, string>): Promise<Api> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'autodev-fd-'));
  const main = fileURLToPath(new URL('../main.ts', import.meta.url));
  const child = spawn('prlimit', [`--nofile=${limit}:${limit}`, process.execPath, '--import', 'tsx', main], {
    env: {
      PATH: process.env.PATH,
      AUTODEV_ROLE: 'api',
      PORT: '0',
      HOST: '127.0.0.1',
      AUTODEV_DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve();
    }),
  );
  const ready = /GraphQL \+ GraphiQL: (\S+)\/graphql/;
  const started = Date.now();
  while (!ready.test(out)) {
    if (child.exitCode !== null) throw new Error(`api exited during start-up: ${out}`);
    if (Date.now() - started > 60_000) throw new Error(`api not ready after 60 s: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    url: ready.exec(out)![1].replace('localhost', '127.0.0.1'),
    output: () => out,
    kill: (signal) => (child.kill(signal), exited),
  };
}

describe('connection limits', () => {
  it('reads the open-file limit and leaves a quarter of it (at least 256) to everything but connections', () => {
    expect(
      openFileLimit(
        'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n',
      ),
    ).toBe(1024);
    expect(openFileLimit('Max open files            unlimited            unlimited            files\n')).toBeNull();
    expect(connectionCap(512)).toBe(256);
    expect(connectionCap(1024)).toBe(768);
    expect(connectionCap(20_000)).toBe(15_000);
  });

  it('a flood of connections with unfinished headers leaves the process its descriptors, and each is dropped within seconds', async () => {
    const url = new URL(api.url!);
    const sockets: net.Socket[] = [];
    let closedByServer = 0;
    let answered = 0;
    const before = openFiles();
    let most = before;
    try {
      for (let i = 0; i < 700; i++) {
        const s = net.connect(Number(url.port), url.hostname);
        s.on('error', () => {});
        s.on('close', () => closedByServer++);
        s.on('data', () => answered++);
        s.write('GET /readyz HTTP/1.1\r\nHost: x\r\n'); // headers never finished
        sockets.push(s);
        if (i % 50 === 0) {
          await new Promise((r) => setTimeout(r, 20));
          most = Math.max(most, openFiles());
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
      most = Math.max(most, openFiles());
      // Descriptors to spare while the flood holds every connection slot.
      expect(most, `open files ${before} → ${most} of ${FD_LIMIT}`).toBeLessThanOrEqual(connectionCap(FD_LIMIT) + before + 16);
      // The server ends them itself (headers over 10 s), the attacker closes nothing.
      const waitedFrom = Date.now();
      while (closedByServer < sockets.length && Date.now() - waitedFrom < 20_000) await new Promise((r) => setTimeout(r, 200));
      const dropMs = Date.now() - waitedFrom;
      expect(
        closedByServer,
        `closed by the server after ${dropMs} ms; open files at most ${most}; now ${openFiles()}; answered ${answered}; output ${api.output().slice(-1500)}`,
      ).toBe(sockets.length);
      const ready = await fetch(`${api.url}/readyz`);
      expect(ready.status).toBe(200);
      const job = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify({
          query:
            'mutation { createJob(input: { templateSlug: "triage-bug", input: { title: "Flood", report: "After the connection flood." } }) { id } }',
        }),
      });
      expect((await job.json()).data.createJob.id).toBeTruthy();
      expect(api.output()).not.toMatch(/EMFILE/);
      console.log(
        `connection flood: 700 unfinished requests against ${FD_LIMIT} descriptors: open files ${before} → at most ${most} (cap ${connectionCap(FD_LIMIT)} connections); all dropped by the server ${dropMs} ms after the flood; /readyz 200 and createJob fine afterwards`,
      );
    } finally {
      for (const s of sockets) s.destroy();
    }
  }, 60_000);
});
