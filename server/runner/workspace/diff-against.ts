import { copyFile, mkdtemp, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runGit } from './run-git.ts';

export interface WorkspaceDiff {
  /** `git diff --binary` from the base commit to the working tree, new files included; applies with `git apply` on the base. Bytes, since files need not be UTF-8. */
  patch: Buffer;
  /** `git diff --stat` of the same change. */
  diffstat: string;
  /** Per file: lines added and deleted (null for a binary file). */
  files: { path: string; added: number | null; deleted: number | null }[];
}

/**
 * The change the crew made, committed or not, against the base commit. Everything in the working
 * tree that .gitignore does not exclude counts; it is staged into a throwaway copy of the index, so
 * the workspace's own index is left as it was.
 */
export async function diffAgainst(dir: string, baseSha: string): Promise<WorkspaceDiff> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'autodev-index-'));
  try {
    const index = path.join(scratch, 'index');
    const gitDir = (await runGit(['rev-parse', '--absolute-git-dir'], { cwd: dir })).toString('utf8').trim();
    await copyIndex(path.join(gitDir, 'index'), index);
    const opts = { cwd: dir, env: { GIT_INDEX_FILE: index } };
    await runGit(['add', '-A'], opts);
    const diff = (args: string[]) =>
      runGit(['diff', '--cached', '--no-ext-diff', '--no-textconv', '--no-renames', ...args, baseSha, '--'], opts);
    const [patch, diffstat, numstat] = await Promise.all([diff(['--binary']), diff(['--stat']), diff(['--numstat', '-z'])]);
    return { patch, diffstat: diffstat.toString('utf8'), files: parseNumstat(numstat.toString('utf8')) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A copy of the index with the original's times: git hashes a file again only when its entry is not
 * older than the index (the racy-clean check), so a fresh time on the copy would hide a same-size edit
 * made in the same second as the clone. A repository with no commit yet has no index.
 */
async function copyIndex(from: string, to: string) {
  const times = await stat(from).catch(() => null);
  if (!times) return;
  await copyFile(from, to);
  await utimes(to, times.atime, times.mtime);
}

// `--numstat -z` without renames: "added\tdeleted\tpath\0", "-" counts for a binary file.
function parseNumstat(text: string) {
  return text
    .split('\0')
    .filter(Boolean)
    .map((entry) => {
      const [added, deleted, ...rest] = entry.split('\t');
      const count = (s: string) => (s === '-' ? null : Number(s));
      return { path: rest.join('\t'), added: count(added), deleted: count(deleted) };
    });
}
