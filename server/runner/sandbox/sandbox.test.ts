import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, statSync } from 'node:fs';
import { bwrapArguments } from './bwrap-arguments.ts';
import { runSandboxed, type SandboxOptions } from './run-sandboxed.ts';
import { probeSandbox, sandboxAvailable } from './sandbox-available.ts';

const root = mkdtempSync(path.join(tmpdir(), 'autodev-sandbox-test-'));
let n = 0;
function workspace() {
  const dir = path.join(root, `ws-${++n}`);
  mkdirSync(dir);
  return dir;
}
const run = (command: string, extra: Partial<SandboxOptions> = {}) =>
  runSandboxed({ command, cwd: extra.cwd ?? workspace(), timeoutMs: 20_000, maxOutputBytes: 64 * 1024, network: false, ...extra });

beforeAll(async () => {
  const available = await sandboxAvailable();
  if (!available.ok) throw new Error(`These tests need bubblewrap: ${available.reason}`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Host processes whose command line contains the text (the sandbox's PID namespace hides nothing from the host). */
async function hostProcessesWith(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');
    if (cmd.includes(text) && !cmd.includes('bwrap')) found.push(`${pid}: ${cmd}`);
  }
  return found;
}

describe('runSandboxed', () => {
  it('runs a command in the workspace and reports its exit code, output and duration', async () => {
    const dir = workspace();
    writeFileSync(path.join(dir, 'input.txt'), 'hello from the host\n');
    const r = await run('pwd; cat input.txt; echo made > output.txt; echo to-stderr >&2; exit 3', { cwd: dir });
    expect(r).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cutBytes: 0 });
    expect(r.output).toBe('/workspace\nhello from the host\nto-stderr\n');
    expect(readFileSync(path.join(dir, 'output.txt'), 'utf8')).toBe('made\n');
    expect(r.durationMs).toBeGreaterThan(0);
  });

  it('gives the command a scrubbed environment: none of the server’s variables', async () => {
    process.env.AUTODEV_TEST_SECRET = 'sk-do-not-leak';
    try {
      const r = await run('env | sort');
      expect(r.output).not.toContain('sk-do-not-leak');
      const names = r.output
        .trim()
        .split('\n')
        .map((l) => l.split('=')[0]);
      expect(names).toEqual([
        'GIT_CONFIG_COUNT',
        'GIT_CONFIG_KEY_0',
        'GIT_CONFIG_NOSYSTEM',
        'GIT_CONFIG_VALUE_0',
        'GIT_OPTIONAL_LOCKS',
        'HOME',
        'LANG',
        'PATH',
        'PWD',
        'TMPDIR',
      ]);
    } finally {
      delete process.env.AUTODEV_TEST_SECRET;
    }
  });

  it('can use git and write-checking tools on the workspace as its own', async () => {
    const dir = workspace();
    const { cloneWorkspace } = await import('../workspace/clone-workspace.ts');
    await cloneWorkspace({ dir: path.join(dir, 'repo') });
    writeFileSync(path.join(dir, 'repo', 'tracked.txt'), 'v1\n');
    const { checkpoint } = await import('../workspace/checkpoint.ts');
    await checkpoint(path.join(dir, 'repo'), 'add tracked.txt');
    writeFileSync(path.join(dir, 'repo', 'tracked.txt'), 'v2\n');
    const r = await run(
      `node -e "require('fs').accessSync('tracked.txt', 2); console.log('writable')"; git status --short; git diff --stat; git log --format=%s`,
      { cwd: path.join(dir, 'repo') },
    );
    expect(r.output).toBe(
      'writable\n M tracked.txt\n tracked.txt | 2 +-\n 1 file changed, 1 insertion(+), 1 deletion(-)\nadd tracked.txt\nEmpty workspace\n',
    );
    expect(r.exitCode).toBe(0);
  });

  it('cannot read a file outside the workspace, nor the server’s data directory', async () => {
    const outside = mkdtempSync(path.join(tmpdir(), 'autodev-outside-'));
    const dataDir = mkdtempSync(path.join(process.cwd(), '.sandbox-test-data-'));
    try {
      writeFileSync(path.join(outside, 'secret.txt'), 'outside-secret');
      writeFileSync(path.join(dataDir, 'secret.txt'), 'data-secret');
      const r = await run(
        `cat ${outside}/secret.txt; cat ${dataDir}/secret.txt; ls /root /home /work /var /srv 2>&1; cat /etc/passwd /etc/shadow`,
      );
      expect(r.output).not.toContain('outside-secret');
      expect(r.output).not.toContain('data-secret');
      expect(r.output).toMatch(/No such file or directory/);
      expect(r.output).not.toMatch(/root:x:0/);
      expect(r.exitCode).not.toBe(0);
    } finally {
      rmSync(outside, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('cannot write the system or the workspace’s .git, only the workspace', async () => {
    const dir = workspace();
    mkdirSync(path.join(dir, '.git', 'hooks'), { recursive: true });
    const r = await run(
      'touch /usr/planted; echo hook > .git/hooks/pre-commit; echo ok > fine.txt; echo tmp > /tmp/scratch && cat /tmp/scratch',
      { cwd: dir },
    );
    expect(r.output).toMatch(/Read-only file system/);
    expect(existsSync('/usr/planted')).toBe(false);
    expect(readdirSync(path.join(dir, '.git', 'hooks'))).toEqual([]);
    expect(readFileSync(path.join(dir, 'fine.txt'), 'utf8')).toBe('ok\n');
    expect(r.output).toContain('tmp');
  });

  it('cannot connect to a port open on 127.0.0.1 (and can when the network is allowed)', async () => {
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.on('error', () => {});
      s.end('hello\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const probe = `node -e "require('net').connect(${port},'127.0.0.1').on('connect',()=>{console.log('CONNECTED');process.exit(0)}).on('error',(e)=>{console.log('REFUSED '+e.code);process.exit(3)})"`;
    try {
      const closed = await run(probe);
      expect(closed.output).toMatch(/REFUSED/);
      expect(closed.exitCode).toBe(3);
      expect(connections).toBe(0);
      const open = await run(probe, { network: true });
      expect(open.output).toMatch(/CONNECTED/);
      expect(connections).toBe(1);
    } finally {
      server.close();
    }
  });

  it('is killed at its time limit with its whole process tree, and returns at once', async () => {
    const dir = workspace();
    const token = `${Date.now() % 100000}.${n}7`; // a unique sleep length, to find these processes on the host
    const r = await run(
      `sleep ${token} & (sleep 2; touch /workspace/late-marker) & sh -c 'sleep ${token}' & echo started; sleep ${token}`,
      { cwd: dir, timeoutMs: 800 },
    );
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(r.output).toBe('started\n');
    expect(r.durationMs).toBeLessThan(5000);
    expect(await hostProcessesWith(`sleep ${token}`)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(existsSync(path.join(dir, 'late-marker'))).toBe(false);
    expect(await hostProcessesWith(`sleep ${token}`)).toEqual([]);
  });

  it('stops when its abort signal fires', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const r = await run('sleep 30', { signal: controller.signal });
    expect(r).toMatchObject({ aborted: true, timedOut: false, exitCode: null });
    expect(r.durationMs).toBeLessThan(5000);
  });

  it('bounds a fork loop by its process cap, and the call returns', async () => {
    const dir = workspace();
    // 200 attempts at most, so a broken cap cannot hurt the machine; each process that did start writes a line.
    const r = await run('i=0; while [ $i -lt 200 ]; do (echo x >> /workspace/started; sleep 3) & i=$((i+1)); done; wait', {
      cwd: dir,
      maxProcesses: 20,
      timeoutMs: 15_000,
    });
    const started = readFileSync(path.join(dir, 'started'), 'utf8').split('\n').filter(Boolean).length;
    expect(started).toBeGreaterThan(0);
    expect(started).toBeLessThanOrEqual(20);
    expect(r.output).toMatch(/fork|Resource temporarily unavailable/i);
    expect(r.timedOut).toBe(false);
  });

  it('cuts output past the cap, keeping the tail and saying how much was cut', async () => {
    const r = await run("head -c 100000 /dev/zero | tr '\\0' a; echo; echo THE-END", { maxOutputBytes: 1000 });
    expect(r.exitCode).toBe(0);
    expect(Buffer.byteLength(r.output)).toBeLessThanOrEqual(1000);
    expect(r.output.endsWith('a\nTHE-END\n')).toBe(true);
    expect(r.outputBytes).toBe(100000 + 1 + 8);
    expect(r.cutBytes).toBe(r.outputBytes - 1000);
  });

  it('caps memory per process when asked', async () => {
    // A 64 MiB string: past a 64 MiB address-space cap, and small enough that the uncapped run takes well under a
    // second (a 256 MiB one took 4 s of page faults alone here, and gave no output in one loaded CI run, most
    // likely cut by the 20 s timeout).
    const grow = 'awk \'BEGIN { s = "x"; for (i = 0; i < 26; i++) s = s s; print length(s) }\'';
    const capped = await run(grow, { memoryBytes: 64 * 1024 * 1024 });
    expect(capped.exitCode, JSON.stringify(capped)).not.toBe(0);
    expect(capped.output).not.toContain('67108864');
    const free = await run(grow);
    expect(free, JSON.stringify(free)).toMatchObject({ exitCode: 0, timedOut: false });
    expect(free.output).toContain('67108864');
  });
});

describe('the sandbox of a runner that is not root', () => {
  // The runner usually is root here; on a laptop it is not, and bwrap then needs a user namespace.
  // Run bwrap with that command line as uid 65534, as such a runner would.
  it('keeps the workspace writable and a fork loop bounded, in a user namespace of its own', () => {
    if (process.getuid?.() !== 0) throw new Error('This test switches to uid 65534 and needs to start as root.');
    const dir = workspace();
    chmodSync(root, 0o755); // mkdtemp made it 0700: uid 65534 must reach the workspace inside it
    chownSync(dir, 65534, 65534);
    const args = bwrapArguments(
      {
        command: 'echo ok > made.txt; i=0; while [ $i -lt 100 ]; do (echo x >> started; sleep 2) & i=$((i+1)); done; wait',
        workspace: dir,
        network: false,
        uid: 0,
        maxProcesses: 20,
      },
      false,
    );
    expect(args).toContain('--unshare-user');
    const r = spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/bwrap', ...args], {
      encoding: 'utf8',
      timeout: 20_000,
      env: {},
    });
    // How the sandbox ended, shown with any failure below (one CI run once found no `started` at all).
    const ended = `bwrap ended with status ${r.status}, signal ${r.signal}, error ${r.error?.message}; stdout: ${r.stdout}; stderr: ${r.stderr}`;
    expect(r.stderr, ended).not.toMatch(/bwrap:/);
    expect(readFileSync(path.join(dir, 'made.txt'), 'utf8'), ended).toBe('ok\n');
    expect(existsSync(path.join(dir, 'started')), ended).toBe(true);
    const started = readFileSync(path.join(dir, 'started'), 'utf8').split('\n').filter(Boolean).length;
    expect(started, ended).toBeGreaterThan(0);
    expect(started).toBeLessThanOrEqual(20);
    expect(statSync(path.join(dir, 'made.txt')).uid).toBe(65534); // the runner's uid on the host, never root
  });
});

describe('sandboxAvailable', () => {
  it('says bubblewrap works here, with its version', async () => {
    expect(await sandboxAvailable()).toMatchObject({ ok: true, version: expect.stringMatching(/bubblewrap/) });
  });

  it('says why when bubblewrap is missing or cannot sandbox', async () => {
    expect(await probeSandbox('/nonexistent/bwrap')).toEqual({
      ok: false,
      reason: 'bubblewrap is not installed (/nonexistent/bwrap is missing; on Debian: apt-get install bubblewrap).',
    });
    const broken = path.join(root, 'fake-bwrap');
    writeFileSync(broken, '#!/bin/sh\necho "bwrap: Creating new namespace failed: Operation not permitted" >&2\nexit 1\n', { mode: 0o755 });
    expect(await probeSandbox(broken)).toEqual({
      ok: false,
      reason: expect.stringMatching(
        /^bubblewrap is installed but a sandboxed command failed \(exit 1\): bwrap: Creating new namespace failed: Operation not permitted\. The kernel refuses the namespaces/,
      ),
    });
  });
});
