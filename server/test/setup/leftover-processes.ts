import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ProcessInfo {
  pid: number;
  command: string;
}

/**
 * Marks every process this test run starts, so the run can list those it left behind. A process
 * whose parent died is re-parented to init, so ancestry cannot find it; an environment variable
 * would not reach runners (their environment is scrubbed to PATH and a few names). So the mark is
 * an empty directory of this run appended to PATH, which every runner, its children and the fake
 * kubelet's containers inherit, and which changes no command lookup.
 */
export function markRunProcesses(env: NodeJS.ProcessEnv = process.env): { mark: string; remove(): void } {
  const mark = mkdtempSync(path.join(tmpdir(), 'autodev-test-run-'));
  env.PATH = `${env.PATH ?? ''}${path.delimiter}${mark}`;
  return { mark, remove: () => rmSync(mark, { recursive: true, force: true }) };
}

/** Live processes (zombies excluded: they have ended) whose PATH carries `mark`, other than this one. */
export function processesMarked(mark: string): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const pathVar = readFileSync(`/proc/${name}/environ`, 'utf8')
        .split('\0')
        .find((v) => v.startsWith('PATH='));
      if (!pathVar?.split(path.delimiter).includes(mark)) continue;
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      found.push({ pid: Number(name), command });
    } catch {
      // It ended while we looked, or is not ours to read.
    }
  }
  return found;
}

/** Waits (bounded) for the run's processes to end; returns those still running. */
export async function leftoverProcesses(mark: string, waitMs = 5000): Promise<ProcessInfo[]> {
  const until = Date.now() + waitMs;
  for (;;) {
    const left = processesMarked(mark);
    if (left.length === 0 || Date.now() >= until) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}
