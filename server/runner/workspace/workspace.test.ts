import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGitHttpServer } from '../../test/git-http-server.ts';
import { checkpoint } from './checkpoint.ts';
import { cloneWorkspace } from './clone-workspace.ts';
import { diffAgainst } from './diff-against.ts';
import { gitEnvironment } from './run-git.ts';

const root = mkdtempSync(path.join(tmpdir(), 'autodev-ws-test-'));
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: gitEnvironment() }).toString('utf8').trim();
let n = 0;
const fresh = () => path.join(root, `ws-${++n}`);

// A source repository with history: main (2 commits, tag v1 on the first) and a branch `feature`.
const source = path.join(root, 'source.git');
let firstSha = '';
let mainSha = '';
let featureSha = '';
beforeAll(() => {
  const work = path.join(root, 'source-work');
  mkdirSync(work);
  git(work, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(work, 'README.md'), 'version 1\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'first');
  git(work, 'tag', 'v1');
  firstSha = git(work, 'rev-parse', 'HEAD');
  writeFileSync(path.join(work, 'README.md'), 'version 2\n');
  writeFileSync(path.join(work, 'lib.js'), 'export const answer = 41;\n');
  writeFileSync(path.join(work, 'doomed.txt'), 'to be deleted\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'second');
  mainSha = git(work, 'rev-parse', 'HEAD');
  git(work, 'checkout', '-q', '-b', 'feature');
  writeFileSync(path.join(work, 'feature.txt'), 'on the branch\n');
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'feature');
  featureSha = git(work, 'rev-parse', 'HEAD');
  git(work, 'checkout', '-q', 'main');
  execFileSync('git', ['clone', '-q', '--bare', work, source], { env: gitEnvironment() });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('cloneWorkspace', () => {
  it('clones a file:// URL shallowly at the default branch and returns the base commit', async () => {
    const dir = fresh();
    const base = await cloneWorkspace({ repository: `file://${source}`, dir });
    expect(base).toBe(mainSha);
    expect(git(dir, 'rev-list', '--count', 'HEAD')).toBe('1');
    expect(readFileSync(path.join(dir, 'lib.js'), 'utf8')).toContain('41');
  });

  it('clones a local path, shallow too', async () => {
    const dir = fresh();
    expect(await cloneWorkspace({ repository: source, dir })).toBe(mainSha);
    expect(git(dir, 'rev-list', '--count', 'HEAD')).toBe('1');
  });

  it('checks out a branch, a tag or a full commit sha', async () => {
    expect(await cloneWorkspace({ repository: `file://${source}`, ref: 'feature', dir: fresh() })).toBe(featureSha);
    expect(await cloneWorkspace({ repository: `file://${source}`, ref: 'v1', dir: fresh() })).toBe(firstSha);
    const dir = fresh();
    expect(await cloneWorkspace({ repository: `file://${source}`, ref: firstSha, dir })).toBe(firstSha);
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toBe('version 1\n');
  });

  it('without a repository makes an empty scratch repository with one empty commit', async () => {
    const dir = fresh();
    const base = await cloneWorkspace({ dir });
    expect(base).toMatch(/^[0-9a-f]{40}$/);
    expect(git(dir, 'rev-list', '--count', 'HEAD')).toBe('1');
    expect(git(dir, 'log', '-1', '--format=%an <%ae>')).toBe('AutoDev <autodev@localhost>');
    expect(readdirSync(dir)).toEqual(['.git']);
  });

  it('refuses a missing ref, an unknown repository, a non-empty directory and the ext:: transport with readable reasons', async () => {
    await expect(cloneWorkspace({ repository: `file://${source}`, ref: 'no-such-branch', dir: fresh() })).rejects.toMatchObject({
      code: 'WORKSPACE_CLONE_FAILED',
      message: expect.stringContaining('no-such-branch'),
    });
    await expect(cloneWorkspace({ repository: path.join(root, 'nowhere.git'), dir: fresh() })).rejects.toMatchObject({
      code: 'WORKSPACE_CLONE_FAILED',
    });
    const full = fresh();
    mkdirSync(full);
    writeFileSync(path.join(full, 'x'), '');
    await expect(cloneWorkspace({ dir: full })).rejects.toThrow(/is not empty/);
    const marker = path.join(root, 'ext-ran');
    await expect(cloneWorkspace({ repository: `ext::sh -c touch% ${marker}`, dir: fresh() })).rejects.toMatchObject({
      code: 'WORKSPACE_CLONE_FAILED',
    });
    expect(readdirSync(root)).not.toContain('ext-ran');
    await expect(cloneWorkspace({ repository: '--upload-pack=touch /tmp/x', dir: fresh() })).rejects.toThrow(/not an option/);
  });

  it('redacts URL userinfo in errors and refuses a password in the URL', async () => {
    const err = await cloneWorkspace({ repository: 'http://someone@127.0.0.1:9/nothing.git', dir: fresh(), timeoutMs: 10_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).not.toContain('someone');
    await expect(cloneWorkspace({ repository: 'https://user:ghp_secret@example.com/r.git', dir: fresh() })).rejects.toThrow(
      /carries a password/,
    );
  });

  it('authenticates to a private http remote with a token named by environment variable, never on a command line or in an error', async () => {
    const token = `tok-${Date.now()}-secret`;
    const server = await startGitHttpServer(root, token);
    try {
      const repository = `${server.url}/source.git`;
      const refused = await cloneWorkspace({ repository, dir: fresh() }).catch((e: unknown) => e);
      expect((refused as Error).message).toMatch(/git clone failed/);

      // Watch every process's command line while the clone runs: the token must never appear.
      let sawToken = false;
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          for (const pid of await readdir('/proc').catch(() => [])) {
            if (!/^\d+$/.test(pid)) continue;
            const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
            if (cmd.includes(token) || cmd.includes(Buffer.from(`x-access-token:${token}`).toString('base64'))) sawToken = true;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const dir = fresh();
      const base = await cloneWorkspace({ repository, dir, credentialsEnv: 'TEST_GIT_TOKEN', env: { TEST_GIT_TOKEN: token } });
      watching = false;
      await watcher;
      expect(base).toBe(mainSha);
      expect(sawToken).toBe(false);
      expect(server.seenAuthorization.filter(Boolean).length).toBeGreaterThan(0);
      expect(readFileSync(path.join(dir, '.git', 'config'), 'utf8')).not.toContain(token);

      const wrong = await cloneWorkspace({
        repository,
        dir: fresh(),
        credentialsEnv: 'TEST_GIT_TOKEN',
        env: { TEST_GIT_TOKEN: 'wrong-token' },
      }).catch((e: unknown) => e);
      expect((wrong as Error).message).not.toContain('wrong-token');
      await expect(cloneWorkspace({ repository, dir: fresh(), credentialsEnv: 'UNSET_VARIABLE', env: {} })).rejects.toThrow(
        /UNSET_VARIABLE.*is not set/,
      );
    } finally {
      await server.close();
    }
  });

  it("ignores the server's git configuration and identity", async () => {
    const excludes = path.join(root, 'server-excludes');
    writeFileSync(excludes, '*.txt\n');
    const config = path.join(root, 'server.gitconfig');
    writeFileSync(config, `[core]\n\texcludesFile = ${excludes}\n`);
    vi.stubEnv('GIT_CONFIG_GLOBAL', config);
    vi.stubEnv('GIT_AUTHOR_NAME', 'Somebody Else');
    vi.stubEnv('GIT_COMMITTER_NAME', 'Somebody Else');
    try {
      const dir = fresh();
      await cloneWorkspace({ dir });
      writeFileSync(path.join(dir, 'notes.txt'), 'kept\n');
      await checkpoint(dir, 'notes');
      expect(git(dir, 'log', '-1', '--format=%an|%cn')).toBe('AutoDev|AutoDev');
      expect(git(dir, 'ls-files')).toBe('notes.txt');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('checkpoint', () => {
  it('commits every change as AutoDev, and nothing when nothing changed', async () => {
    const dir = fresh();
    const base = await cloneWorkspace({ repository: source, dir });
    expect(await checkpoint(dir, 'nothing yet')).toBeNull();
    writeFileSync(path.join(dir, 'new.txt'), 'new\n');
    unlinkSync(path.join(dir, 'doomed.txt'));
    const sha = await checkpoint(dir, 'Task plan completed');
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(git(dir, 'log', '-1', '--format=%an <%ae>|%cn|%s')).toBe('AutoDev <autodev@localhost>|AutoDev|Task plan completed');
    expect(git(dir, 'rev-parse', 'HEAD~1')).toBe(base);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('runs no hook the workspace planted', async () => {
    const dir = fresh();
    await cloneWorkspace({ repository: source, dir });
    const marker = path.join(root, `hook-ran-${n}`);
    for (const hook of ['pre-commit', 'post-commit', 'post-index-change']) {
      writeFileSync(path.join(dir, '.git', 'hooks', hook), `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    }
    writeFileSync(path.join(dir, 'x.txt'), 'x\n');
    await checkpoint(dir, 'with a planted hook');
    expect(readdirSync(root)).not.toContain(path.basename(marker));
  });
});

describe('diffAgainst', () => {
  it('returns a patch of committed and uncommitted changes (new, changed, deleted, binary files) that applies on a fresh checkout of the base', async () => {
    const dir = fresh();
    const base = await cloneWorkspace({ repository: `file://${source}`, dir });
    writeFileSync(path.join(dir, 'lib.js'), 'export const answer = 42;\n');
    await checkpoint(dir, 'task 1');
    writeFileSync(path.join(dir, 'README.md'), 'version 2, edited\n');
    unlinkSync(path.join(dir, 'doomed.txt'));
    mkdirSync(path.join(dir, 'src', 'deep'), { recursive: true });
    writeFileSync(path.join(dir, 'src', 'deep', 'new file.ts'), 'export {};\n');
    const binary = Buffer.from([0, 1, 2, 255, 254, 0, 10, 13]);
    writeFileSync(path.join(dir, 'blob.bin'), binary);
    writeFileSync(path.join(dir, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])); // "café" in Latin-1: not UTF-8
    const indexBefore = readFileSync(path.join(dir, '.git', 'index'));

    const diff = await diffAgainst(dir, base);
    expect(readFileSync(path.join(dir, '.git', 'index')).equals(indexBefore)).toBe(true);
    expect(diff.files.map((f) => f.path).sort()).toEqual([
      'README.md',
      'blob.bin',
      'doomed.txt',
      'latin1.txt',
      'lib.js',
      'src/deep/new file.ts',
    ]);
    expect(diff.files.find((f) => f.path === 'blob.bin')).toEqual({ path: 'blob.bin', added: null, deleted: null });
    expect(diff.files.find((f) => f.path === 'lib.js')).toEqual({ path: 'lib.js', added: 1, deleted: 1 });
    expect(diff.diffstat).toMatch(/6 files changed/);

    const check = fresh();
    await cloneWorkspace({ repository: `file://${source}`, ref: base, dir: check });
    const patchFile = path.join(root, `changes-${n}.patch`);
    writeFileSync(patchFile, diff.patch);
    git(check, 'apply', '--index', patchFile);
    for (const f of ['lib.js', 'README.md', 'src/deep/new file.ts', 'blob.bin', 'latin1.txt']) {
      expect(readFileSync(path.join(check, f)).equals(readFileSync(path.join(dir, f))), f).toBe(true);
    }
    expect(readdirSync(check)).not.toContain('doomed.txt');
  });

  it("sees a same-size edit whose file times still match the index (git's racy-clean case)", async () => {
    // An edit in the same second as the clone keeps the file's size and (to the second) its time, so
    // only git's racy-index check (entry time >= index time) makes git hash the file again. The copy
    // of the index must keep the original's times, or the edit is missing from the patch.
    const dir = fresh();
    const base = await cloneWorkspace({ repository: source, dir });
    const file = path.join(dir, 'README.md');
    const past = new Date(Date.now() - 60_000);
    utimesSync(file, past, past);
    git(dir, 'update-index', '--refresh'); // the entry now records the past time
    const before = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      before.replace(/./, (c) => (c === 'X' ? 'Y' : 'X')),
    );
    utimesSync(file, past, past);
    utimesSync(path.join(dir, '.git', 'index'), past, past); // written in that same second: racily clean
    const diff = await diffAgainst(dir, base);
    expect(diff.files.map((f) => f.path)).toEqual(['README.md']);
  });

  it('is empty when nothing changed', async () => {
    const dir = fresh();
    const base = await cloneWorkspace({ repository: source, dir });
    const diff = await diffAgainst(dir, base);
    expect(diff.patch.length).toBe(0);
    expect(diff.files).toEqual([]);
  });
});
