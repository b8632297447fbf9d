// On the Kubernetes executor the runner pod is the sandbox (non-root, read-only root filesystem,
// no capabilities, no service-account token, its own network policy, deadline and memory limit;
// see server/engine/executors/kubernetes-job-manifest.ts): commands run there without bubblewrap,
// as the runner's own uid, in their own process group (killed whole at the time limit), with the
// same empty environment and the same process, file-size and memory limits as under bubblewrap.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_PROCESSES, type SandboxShape } from './bwrap-arguments.ts';

export const PRLIMIT = '/usr/bin/prlimit';

/** The command line and environment of one command in the pod (pure but for making HOME). */
export function podCommand(shape: Omit<SandboxShape, 'uid'>): { file: string; args: string[]; env: Record<string, string> } {
  const home = path.join(tmpdir(), 'autodev-command-home');
  mkdirSync(home, { recursive: true });
  const nproc = shape.maxProcesses ?? DEFAULT_MAX_PROCESSES;
  const fsize = shape.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const args = [`--nproc=${nproc}:${nproc}`, `--fsize=${fsize}:${fsize}`, '--core=0:0'];
  if (shape.memoryBytes) args.push(`--as=${shape.memoryBytes}:${shape.memoryBytes}`);
  args.push('--', '/bin/sh', '-c', shape.command);
  // Nothing of the runner's environment (the model key, a git token) is passed on.
  const env = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TMPDIR: tmpdir(),
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_OPTIONAL_LOCKS: '0',
    ...shape.env,
  };
  return { file: PRLIMIT, args, env };
}
