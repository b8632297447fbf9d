// How git reaches a remote (clone, push): the URL checked (no options, no password in it) and a
// token by reference, handed to git as an http.<origin>.extraHeader through GIT_CONFIG_*
// variables — never on a command line, never in a file, sent only to that origin.
import { WorkspaceError } from './workspace-error.ts';

export function checkRepository(repository: string, code: WorkspaceError['code'] = 'WORKSPACE_CLONE_FAILED'): string {
  if (repository.startsWith('-')) throw new WorkspaceError(code, 'The repository must be a git URL or a path, not an option.', false);
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(repository)) {
    throw new WorkspaceError(
      code,
      'The repository URL carries a password; give credentials through an environment variable the operator names instead.',
      false,
    );
  }
  return repository;
}

/**
 * The token reaches git as an http.<origin>.extraHeader through GIT_CONFIG_* environment
 * variables: never on a command line (visible in `ps`), never in a file, sent only to that origin.
 */
export function remoteCredentials(
  repository: string,
  credentialsEnv: string | undefined,
  environment: NodeJS.ProcessEnv = process.env,
  code: WorkspaceError['code'] = 'WORKSPACE_CLONE_FAILED',
): { env: Record<string, string>; secrets: string[] } {
  if (!credentialsEnv) return { env: {}, secrets: [] };
  const token = environment[credentialsEnv];
  if (!token) {
    throw new WorkspaceError(code, `The environment variable ${credentialsEnv} named for the repository's credentials is not set.`, false);
  }
  let origin: string;
  try {
    const url = new URL(repository);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error();
    origin = `${url.protocol}//${url.host}/`;
  } catch {
    throw new WorkspaceError(code, 'Credentials by environment variable work only with http(s) repository URLs.', false);
  }
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return {
    env: { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `http.${origin}.extraHeader`, GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` },
    secrets: [token, basic],
  };
}
