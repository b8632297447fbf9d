// 5. The agent runtime's command path: one command under bubblewrap (runSandboxed) versus a plain
//    spawn of the same command, and the read_file tool versus fs.readFile of the same file.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runSandboxed } from '../server/runner/sandbox/run-sandboxed.ts';
import { sandboxAvailable } from '../server/runner/sandbox/sandbox-available.ts';
import { buildTools } from '../server/runner/tools/index.ts';
import { percentile, printTable } from './lib.ts';

const RUNS = Number(process.env.BENCH_SANDBOX_RUNS ?? 40);

function plainSpawn(command: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

async function p50(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return percentile(times, 50);
}

export async function benchSandbox() {
  const available = await sandboxAvailable();
  if (!available.ok) {
    console.log(`\n## Sandboxed commands\nSkipped: ${available.reason}`);
    return;
  }
  const ws = mkdtempSync(path.join(tmpdir(), 'autodev-bench-sandbox-'));
  try {
    writeFileSync(path.join(ws, 'file.txt'), 'line\n'.repeat(2000));
    const sandboxed = (command: string) => () =>
      runSandboxed({ command, cwd: ws, timeoutMs: 30_000, maxOutputBytes: 1 << 20, network: false });
    const [readFileTool] = buildTools(['read_file']);
    const ctx = { workspaceDir: ws, sandbox: { timeoutMs: 30_000, maxOutputBytes: 1 << 20, network: false } };
    const rows: [string, number, number, string][] = [
      ['`true`: runSandboxed vs spawn, p50', await p50(sandboxed('true')), await p50(() => plainSpawn('true', ws)), 'ms'],
      [
        '`wc -l file.txt`: runSandboxed vs spawn, p50',
        await p50(sandboxed('wc -l file.txt')),
        await p50(() => plainSpawn('wc -l file.txt', ws)),
        'ms',
      ],
      [
        'read_file tool vs fs.readFile (10 KB), p50',
        await p50(() => readFileTool.execute({ path: 'file.txt' }, ctx)),
        await p50(() => readFile(path.join(ws, 'file.txt'), 'utf8')),
        'ms',
      ],
    ];
    printTable(`Sandboxed commands and tools (${RUNS} runs each, ${available.version})`, rows);
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSandbox();
