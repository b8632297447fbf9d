import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparePatches, type ComparedFile } from './compare-patches.ts';
import { parsePatch, type Hunk } from './parse-patch.ts';

// The oracle is git itself: a base file and two edits of it are committed in a real repository,
// each attempt's patch is `git diff --binary` against the base (as the runner makes changes.patch),
// and the comparison of the two patches, applied strictly (every context and removed line at the
// line number its hunk names) to the first attempt's file, must give the second attempt's file.

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  });

/** A repository holding `base` (path → content, null: absent) with a function giving `git diff --binary` from it to other contents. */
function repository(base: Record<string, string | null>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'autodev-cmp-'));
  git(dir, 'init', '-q');
  const write = (files: Record<string, string | null>) => {
    for (const f of Object.keys(files)) rmSync(path.join(dir, f), { force: true });
    for (const [f, content] of Object.entries(files)) if (content !== null) writeFileSync(path.join(dir, f), content);
  };
  write(base);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', 'base');
  return {
    patch(files: Record<string, string | null>): string {
      write(files);
      git(dir, 'add', '-A');
      const patch = git(dir, 'diff', '--cached', '--binary', '--no-renames', 'HEAD');
      git(dir, 'reset', '-q', '--hard', 'HEAD'); // also removes the files it added
      return patch;
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A file's lines, each with its "\n" (the last may lack it). */
const linesOf = (text: string) => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

/** Applies hunks strictly: each must find its context and removed lines at exactly the line it names. */
function applyStrictly(text: string, hunks: Hunk[]): string {
  const old = linesOf(text);
  const out: string[] = [];
  let next = 0; // index into old
  for (const h of hunks) {
    const at = h.oldLines === 0 ? h.oldStart : h.oldStart - 1;
    if (at < next || at > old.length)
      throw new Error(`hunk at ${h.oldStart} overlaps the one before or starts past the end (${old.length} lines)`);
    out.push(...old.slice(next, at));
    next = at;
    const unit: { mark: string; text: string }[] = [];
    for (const l of h.lines) {
      if (l[0] === '\\') unit[unit.length - 1].text = unit[unit.length - 1].text.replace(/\n$/, '');
      else unit.push({ mark: l[0], text: `${l.slice(1)}\n` });
    }
    let oldCount = 0;
    let newCount = 0;
    for (const u of unit) {
      if (u.mark !== '+') {
        if (old[next] !== u.text)
          throw new Error(`line ${next + 1} is ${JSON.stringify(old[next])}, the hunk says ${JSON.stringify(u.text)}`);
        next++;
        oldCount++;
      }
      if (u.mark !== '-') {
        out.push(u.text);
        newCount++;
      }
    }
    expect([oldCount, newCount]).toEqual([h.oldLines, h.newLines]);
    const newAt = h.newLines === 0 ? h.newStart : h.newStart - 1;
    expect(out.length - newCount).toBe(newAt);
  }
  out.push(...old.slice(next));
  return out.join('');
}

const ALPHABET = ['a', 'b', '}', '', 'return x;', 'if (y) {'];
const fileText = fc
  .tuple(fc.array(fc.constantFrom(...ALPHABET), { maxLength: 30 }), fc.boolean())
  .map(([lines, eol]) => (lines.length ? lines.join('\n') + (eol ? '\n' : '') : ''));
/** An edit of a base file: lines replaced, inserted and deleted at random places, and sometimes the final newline. */
const edit = (base: string) =>
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat(40), fc.nat(3), fc.array(fc.constantFrom(...ALPHABET, 'new line'), { maxLength: 4 })), { maxLength: 4 }),
      fc.boolean(),
    )
    .map(([edits, flipEol]) => {
      let lines = base.split('\n');
      const eol = base.endsWith('\n');
      if (eol) lines.pop();
      for (const [at, remove, insert] of edits) {
        const i = lines.length ? at % (lines.length + 1) : 0;
        lines = [...lines.slice(0, i), ...insert, ...lines.slice(i + remove)];
      }
      if (!lines.length) return '';
      return lines.join('\n') + ((flipEol ? !eol : eol) ? '\n' : '');
    });

describe('comparePatches (what changed between two attempts, from their patches)', () => {
  it('applied to the first attempt’s file gives the second attempt’s, for generated files and edits (real git patches)', () => {
    const samples = fc.sample(
      fileText.chain((base) => fc.tuple(fc.constant(base), edit(base), edit(base), fc.boolean())),
      { numRuns: 100, seed: 12 },
    );
    for (const [base, a, b, absentBase] of samples) {
      // Sometimes the file is new in both attempts (no base).
      const repo = repository({ 'f.txt': absentBase ? null : base });
      try {
        const pa = parsePatch(repo.patch({ 'f.txt': a }));
        const pb = parsePatch(repo.patch({ 'f.txt': b }));
        const [file, ...rest] = comparePatches(pa, pb);
        expect(rest).toEqual([]);
        const context = JSON.stringify({ base, a, b, absentBase, file });
        if (a === b) expect(file, context).toBeUndefined();
        else expect(applyStrictly(a, file.hunks), context).toBe(b);
      } finally {
        repo.close();
      }
    }
  }, 120_000);

  it('far-apart edits: the gaps between hunks count in line numbers but are never shown', () => {
    const base = Array.from({ length: 200 }, (_, i) => `line ${i + 1}`);
    const withA = [...base];
    withA[9] = 'A changed line 10';
    withA[149] = 'A changed line 150';
    const withB = [...base];
    withB[9] = 'A changed line 10';
    withB[99] = 'B changed line 100';
    const repo = repository({ 'f.txt': base.join('\n') + '\n' });
    try {
      const [file] = comparePatches(
        parsePatch(repo.patch({ 'f.txt': withA.join('\n') + '\n' })),
        parsePatch(repo.patch({ 'f.txt': withB.join('\n') + '\n' })),
      );
      // Line 10 is the same in both; line 100 is B's change, line 150 A's change undone.
      expect(file.hunks.map((h) => [h.oldStart, h.oldLines, h.newStart, h.newLines])).toEqual([
        [97, 7, 97, 7],
        [147, 7, 147, 7],
      ]);
      expect(file.hunks[0].lines).toEqual([
        ' line 97',
        ' line 98',
        ' line 99',
        '-line 100',
        '+B changed line 100',
        ' line 101',
        ' line 102',
        ' line 103',
      ]);
      expect(file.hunks[1].lines).toContain('-A changed line 150');
      expect(file.hunks[1].lines).toContain('+line 150');
      expect(applyStrictly(withA.join('\n') + '\n', file.hunks)).toBe(withB.join('\n') + '\n');
    } finally {
      repo.close();
    }
  });

  it('files only one attempt touched, identical files, deletions and binary files', () => {
    const repo = repository({ 'keep.txt': 'k1\nk2\n', 'gone.txt': 'g1\ng2\n', 'same.txt': 's1\n', 'img.bin': 'x\0y' });
    try {
      const a = parsePatch(repo.patch({ 'only-a.txt': 'new in a\n', 'gone.txt': null, 'same.txt': 's1\ns2\n', 'img.bin': 'x\0z' }));
      const b = parsePatch(repo.patch({ 'keep.txt': 'k1\nk2 changed\n', 'same.txt': 's1\ns2\n', 'img.bin': 'x\0w' }));
      const byPath = Object.fromEntries(comparePatches(a, b).map((f) => [f.path, f])) as Record<string, ComparedFile>;
      expect(Object.keys(byPath).sort()).toEqual(['gone.txt', 'img.bin', 'keep.txt', 'only-a.txt']);
      // Attempt 1 added only-a.txt and deleted gone.txt; attempt 2 did neither.
      expect(byPath['only-a.txt']).toMatchObject({ status: 'DELETED', additions: 0, deletions: 1 });
      expect(byPath['only-a.txt'].hunks[0].lines).toEqual(['-new in a']);
      expect(byPath['gone.txt']).toMatchObject({ status: 'ADDED', additions: 2, deletions: 0 });
      expect(applyStrictly('', byPath['gone.txt'].hunks)).toBe('g1\ng2\n');
      expect(byPath['keep.txt']).toMatchObject({ status: 'MODIFIED', additions: 1, deletions: 1 });
      expect(byPath['img.bin']).toMatchObject({ binary: true, hunks: [] });
    } finally {
      repo.close();
    }
  });

  it('a file the first attempt emptied and the second rewrote: a hunk with no old lines starts at line 0', () => {
    const repo = repository({ 'f.txt': 'a\nb\n' });
    try {
      const [file] = comparePatches(parsePatch(repo.patch({ 'f.txt': '' })), parsePatch(repo.patch({ 'f.txt': 'x\n' })));
      expect(file.hunks.map((h) => [h.oldStart, h.oldLines, h.newStart, h.newLines, h.lines])).toEqual([[0, 0, 1, 1, ['+x']]]);
      expect(applyStrictly('', file.hunks)).toBe('x\n');
    } finally {
      repo.close();
    }
  });

  it('refuses patches that disagree about the base', () => {
    const one = repository({ 'f.txt': 'a\nb\nc\n' });
    const two = repository({ 'f.txt': 'a\nB\nc\n' });
    try {
      const a = parsePatch(one.patch({ 'f.txt': 'a\nb\nc\nd\n' }));
      const b = parsePatch(two.patch({ 'f.txt': 'a\nB\nc\ne\n' }));
      expect(() => comparePatches(a, b)).toThrow(/line 2 of the base differs/);
    } finally {
      one.close();
      two.close();
    }
  });
});
