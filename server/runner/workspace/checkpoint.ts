import { runGit } from './run-git.ts';

/**
 * Commits everything in the workspace (new, changed and deleted files) as AutoDev; returns the new
 * commit's sha, or null when nothing changed since the last commit.
 */
export async function checkpoint(dir: string, message: string): Promise<string | null> {
  await runGit(['add', '-A'], { cwd: dir });
  const staged = await runGit(['diff', '--cached', '--name-only', '-z'], { cwd: dir });
  if (staged.length === 0) return null;
  await runGit(['commit', '-q', '--no-verify', '--no-gpg-sign', '-m', message || 'Checkpoint'], { cwd: dir });
  return (await runGit(['rev-parse', 'HEAD'], { cwd: dir })).toString('utf8').trim();
}
