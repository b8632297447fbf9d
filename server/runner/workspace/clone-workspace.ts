import { mkdir, readdir } from 'node:fs/promises';
import { checkRepository, remoteCredentials } from './remote-access.ts';
import { runGit } from './run-git.ts';
import { WorkspaceError } from './workspace-error.ts';

export interface CloneOptions {
  /** A git URL (https, ssh, file://) or a local path; absent → an empty scratch repository. */
  repository?: string;
  /** Branch, tag or full commit sha; absent → the remote's default branch. */
  ref?: string;
  /** Where the workspace goes: must not exist yet, or be empty. */
  dir: string;
  /** NAME of the environment variable holding a token for an https remote (never the token itself). */
  credentialsEnv?: string;
  /** Where credentialsEnv is looked up (default process.env). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i;

/**
 * Makes the attempt's workspace: a shallow clone of the repository at the ref (or an empty
 * repository with one empty commit) and returns the base commit's sha.
 */
export async function cloneWorkspace(opts: CloneOptions): Promise<string> {
  await assertEmptyDir(opts.dir);
  const git = (args: string[], extra: Parameters<typeof runGit>[1] = {}) =>
    runGit(args, { cwd: opts.dir, timeoutMs: opts.timeoutMs, code: 'WORKSPACE_CLONE_FAILED', ...extra });
  if (!opts.repository) {
    await git(['init', '-q', '-b', 'main']);
    // A fixed date makes the empty commit the same on every attempt: an attempt that resumes from
    // checkpoints applies their patch on the same base commit (server/runner/workspace/task-checkpoint.ts).
    await git(['commit', '-q', '--allow-empty', '-m', 'Empty workspace'], {
      env: { GIT_AUTHOR_DATE: '2000-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2000-01-01T00:00:00Z' },
    });
    return headSha(opts.dir);
  }
  const repository = checkRepository(opts.repository);
  const { env, secrets } = remoteCredentials(repository, opts.credentialsEnv, opts.env);
  const remote = { env, secrets, retryable: true };
  if (opts.ref && FULL_SHA.test(opts.ref)) {
    // A commit is not something `clone --branch` takes: fetch exactly that commit.
    await git(['init', '-q']);
    await git(['remote', 'add', 'origin', repository]);
    await git(['fetch', '-q', '--depth', '1', 'origin', opts.ref], remote);
    await git(['-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', 'FETCH_HEAD']);
  } else {
    const branch = opts.ref ? ['--branch', opts.ref] : [];
    await git(['-c', 'advice.detachedHead=false', 'clone', '-q', '--depth', '1', '--no-local', ...branch, '--', repository, '.'], remote);
  }
  return headSha(opts.dir);
}

export async function headSha(dir: string): Promise<string> {
  return (await runGit(['rev-parse', 'HEAD'], { cwd: dir })).toString('utf8').trim();
}

async function assertEmptyDir(dir: string) {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0)
    throw new WorkspaceError('WORKSPACE_CLONE_FAILED', `The workspace directory ${dir} is not empty.`, false);
}
