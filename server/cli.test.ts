import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './test/database.ts';

// The package's "bin", started as a user would (from another directory than the checkout).
const BIN = fileURLToPath(new URL('../scripts/autodev.mjs', import.meta.url));

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let dataDir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'autodev-cli-'));
});
afterAll(async () => {
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Run {
  out: string;
  err: string;
  code: number | null;
}

/** Runs `autodev <args>`; with `until`, waits for that output, then sends SIGTERM. */
function autodev(args: string[], opts: { env?: Record<string, string>; until?: RegExp } = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      AUTODEV_DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = { out: '', err: '', code: null };
  child.stdout.on('data', (d) => {
    run.out += d;
    if (opts.until?.test(run.out)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (d) => (run.err += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ ...run, code });
    });
  });
}

describe('the autodev command', () => {
  it("is the package's bin, an executable file", () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(fileURLToPath(new URL(`../${pkg.bin.autodev}`, import.meta.url))).toBe(BIN);
    expect(() => accessSync(BIN, constants.X_OK)).not.toThrow();
    expect(readFileSync(BIN, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('lists its subcommands with --help, and an unknown one is a usage error (exit 2)', async () => {
    const help = await autodev(['--help']);
    expect(help.code).toBe(0);
    for (const sub of ['all', 'api', 'worker', 'migrate']) expect(help.out).toMatch(new RegExp(`^  ${sub} `, 'm'));
    const wrong = await autodev(['serve']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/^Unknown command "serve"\./);
  });

  it('migrate applies the migrations once, and says so; a second run has nothing to do', async () => {
    const first = await autodev(['migrate']);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/^Applied: \d{14}_/);
    const second = await autodev(['migrate']);
    expect(second.out.trim()).toBe('Database is up to date.');
  });

  it('api and worker each start their role and stop on SIGTERM with exit 0', async () => {
    const api = await autodev(['api'], { until: /Health: +\S+/ });
    expect(api.code, api.err).toBe(0);
    expect(api.out).toContain('AutoDev is running (api).');
    const worker = await autodev(['worker'], { until: /AutoDev worker is running/ });
    expect(worker.code, worker.err).toBe(0);
  });

  it('refuses a subcommand that AUTODEV_ROLE contradicts', async () => {
    const run = await autodev(['api'], { env: { AUTODEV_ROLE: 'worker' } });
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/AUTODEV_ROLE=worker says otherwise/);
  });
});
