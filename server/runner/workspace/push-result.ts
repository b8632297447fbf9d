import { headSha } from './clone-workspace.ts';
import { checkRepository, remoteCredentials } from './remote-access.ts';
import { runGit } from './run-git.ts';

export interface PushOptions {
  /** The workspace, every change committed (the runner's checkpoints). */
  dir: string;
  /** A git URL or a local path (the caller has checked a local one against the allowed roots). */
  remote: string;
  branch: string;
  /** NAME of the environment variable holding a token for an https remote (never the token itself). */
  credentialsEnv?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * Pushes the workspace's HEAD to `branch` of `remote`, replacing the branch (a retry pushes its own
 * result over the previous attempt's), and returns the commit pushed. Hooks do not run (host git
 * runs with hooks off). Failures are WORKSPACE_PUSH_FAILED: remote errors and timeouts retryable.
 */
export async function pushResult(o: PushOptions): Promise<{ commit: string }> {
  const remote = checkRepository(o.remote, 'WORKSPACE_PUSH_FAILED');
  const { env, secrets } = remoteCredentials(remote, o.credentialsEnv, o.env, 'WORKSPACE_PUSH_FAILED');
  await runGit(['push', '-q', '--force', '--', remote, `HEAD:refs/heads/${o.branch}`], {
    cwd: o.dir,
    env,
    secrets,
    code: 'WORKSPACE_PUSH_FAILED',
    retryable: true,
    timeoutMs: o.timeoutMs,
  });
  return { commit: await headSha(o.dir) };
}
