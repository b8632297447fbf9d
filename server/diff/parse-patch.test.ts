import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePatch } from './parse-patch.ts';

// Real `git diff --binary --no-renames` output, as the runner stores it in changes.patch.
const dir = mkdtempSync(path.join(tmpdir(), 'autodev-parse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' },
  });

describe('parsePatch', () => {
  it('reads files, statuses, object ids, hunks and counts of a real git patch, quoted names and binary files included', () => {
    git('init', '-q');
    writeFileSync(path.join(dir, 'a.txt'), 'one\ntwo\nthree\n');
    writeFileSync(path.join(dir, 'gone.txt'), 'bye\n');
    writeFileSync(path.join(dir, 'run.sh'), 'echo hi\n');
    writeFileSync(path.join(dir, 'pic.bin'), Buffer.from([0, 1, 2, 3]));
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    writeFileSync(path.join(dir, 'a.txt'), '--one\ntwo\nthree');
    rmSync(path.join(dir, 'gone.txt'));
    chmodSync(path.join(dir, 'run.sh'), 0o755);
    writeFileSync(path.join(dir, 'pic.bin'), Buffer.from([0, 9, 9, 9]));
    writeFileSync(path.join(dir, 'tést\tname b.txt'), 'new\n');
    git('add', '-A');
    const patch = git('diff', '--cached', '--binary', '--no-renames', 'HEAD');
    const files = parsePatch(patch);
    const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
    expect(Object.keys(byPath).sort()).toEqual(['a.txt', 'gone.txt', 'pic.bin', 'run.sh', 'tést\tname b.txt']);
    // A removed line "-one" that itself starts with "--" is a line, not a file header.
    expect(byPath['a.txt']).toMatchObject({ status: 'MODIFIED', binary: false, additions: 2, deletions: 2 });
    expect(byPath['a.txt'].hunks).toEqual([
      {
        oldStart: 1,
        oldLines: 3,
        newStart: 1,
        newLines: 3,
        section: '',
        lines: ['-one', '+--one', ' two', '-three', '+three', '\\ No newline at end of file'],
      },
    ]);
    // Abbreviated for a text file; a binary patch names both versions in full.
    expect(byPath['a.txt'].newId).toMatch(/^[0-9a-f]{7,}$/);
    expect(byPath['pic.bin'].newId).toMatch(/^[0-9a-f]{40}$/);
    expect(byPath['gone.txt']).toMatchObject({ status: 'DELETED', deletions: 1, oldMode: '100644' });
    expect(byPath['run.sh']).toMatchObject({ status: 'MODIFIED', oldMode: '100644', newMode: '100755', hunks: [] });
    expect(byPath['pic.bin']).toMatchObject({ status: 'MODIFIED', binary: true, hunks: [] });
    expect(byPath['tést\tname b.txt']).toMatchObject({
      status: 'ADDED',
      additions: 1,
      hunks: [expect.objectContaining({ oldStart: 0, oldLines: 0, lines: ['+new'] })],
    });
  });

  it('gives no files for text that is not a git patch', () => {
    expect(parsePatch('')).toEqual([]);
    expect(parsePatch('hello\n@@ -1 +1 @@\n-a\n+b\n')).toEqual([]);
  });
});
