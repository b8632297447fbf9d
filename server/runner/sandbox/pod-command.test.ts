// Commands in a runner pod (isolation `pod`): no bubblewrap, the same limits the tools rely on.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSandboxed } from './run-sandboxed.ts';
import { sandboxAvailable } from './sandbox-available.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'autodev-pod-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const pod = (command: string, over: Partial<Parameters<typeof runSandboxed>[0]> = {}) =>
  runSandboxed({
    command,
    cwd: dir,
    timeoutMs: 10_000,
    maxOutputBytes: 4096,
    network: false,
    isolation: 'pod',
    bwrapPath: '/nonexistent/bwrap',
    ...over,
  });

describe('commands in a runner pod (the pod is the sandbox)', () => {
  it('is available without bubblewrap, and runs in the workspace as it is on disk', async () => {
    expect(await sandboxAvailable('pod')).toMatchObject({ ok: true });
    const r = await pod('pwd');
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    expect(r.output.trim()).toBe(dir);
  });

  it('gets none of the runner’s environment (model key, tokens)', async () => {
    process.env.AUTODEV_POD_TEST_SECRET = 'sk-should-not-be-seen-1234567890';
    try {
      const r = await pod('env');
      expect(r.output).not.toContain('sk-should-not-be-seen');
      expect(r.output).toMatch(/^PATH=/m);
    } finally {
      delete process.env.AUTODEV_POD_TEST_SECRET;
    }
  });

  it('is killed at its time limit with its whole process group, background children included', async () => {
    const marker = path.join(dir, 'survivor');
    const r = await pod(`(sleep 2; touch ${marker}) & sleep 30`, { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    await new Promise((res) => setTimeout(res, 2500));
    await expect(import('node:fs/promises').then((fs) => fs.access(marker))).rejects.toThrow();
  }, 10_000);

  it('keeps only the tail of an output past its cap, and bounds the file size a command may write', async () => {
    const r = await pod('seq 1 100000', { maxOutputBytes: 1000 });
    expect(r.cutBytes).toBeGreaterThan(0);
    expect(r.output.trim().endsWith('100000')).toBe(true);
    const big = await pod('head -c 2000000 /dev/zero > big.bin', { env: {} });
    expect(big.exitCode).toBe(0);
    // RLIMIT_FSIZE holds as under bubblewrap (1 GiB by default); a smaller cap is refused with SIGXFSZ.
    const { podCommand } = await import('./pod-command.ts');
    expect(podCommand({ command: 'true', workspace: dir, network: false, maxFileBytes: 1000 }).args).toContain('--fsize=1000:1000');
  });
});
