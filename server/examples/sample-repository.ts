// The sample repository shipped in examples/sample-repo/ (a tiny Node library with one failing
// test) is plain files in this repository; crews clone git repositories. This makes a git
// repository of it, once, where the server (or a test) wants it.
import { cp, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { runGit } from '../runner/workspace/run-git.ts';

export const SAMPLE_REPOSITORY_SOURCE = fileURLToPath(new URL('../../examples/sample-repo/', import.meta.url));
/** Its test command, the check of the bundled fix-failing-tests template. */
export const SAMPLE_TEST_COMMAND = 'node --test';

/** A git repository at `dir` holding the sample files in one commit on `main`; left as it is when it exists. Returns `dir`. */
export async function prepareSampleRepository(dir: string): Promise<string> {
  const exists = await stat(path.join(dir, '.git')).then(
    () => true,
    () => false,
  );
  if (exists) return dir;
  await cp(SAMPLE_REPOSITORY_SOURCE, dir, { recursive: true });
  await runGit(['init', '-q', '-b', 'main'], { cwd: dir });
  await runGit(['add', '-A'], { cwd: dir });
  await runGit(['commit', '-q', '--no-verify', '--no-gpg-sign', '-m', 'Sample repository'], { cwd: dir });
  return dir;
}
