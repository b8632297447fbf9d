import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** Where the workspace appears inside the sandbox. */
export const SANDBOX_WORKSPACE = '/workspace';
export const DEFAULT_MAX_PROCESSES = 256;
/** Largest file a sandboxed command may write (RLIMIT_FSIZE), so one command cannot fill the disk. */
export const DEFAULT_MAX_FILE_BYTES = 1024 ** 3;

// What ordinary commands (sh, git, node, python, compilers) need from /etc; nothing else of the
// host is visible. Name resolution files only when the network is allowed.
const ETC_FILES = [
  '/etc/alternatives',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/nsswitch.conf',
  '/etc/mime.types',
];
const ETC_NETWORK = ['/etc/resolv.conf', '/etc/hosts', '/etc/ssl', '/etc/ca-certificates', '/etc/gai.conf'];
const TOP_LEVEL = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

export interface SandboxShape {
  command: string;
  /** Host path of the workspace, bound read-write at /workspace (its .git read-only). */
  workspace: string;
  network: boolean;
  memoryBytes?: number;
  maxProcesses?: number;
  maxFileBytes?: number;
  /** Extra variables for the command (not secrets: the sandbox's environment is otherwise empty). */
  env?: Record<string, string>;
  /** Host uid the command runs as when the runner is root: a fresh one per call, so the process cap is the call's own. */
  uid: number;
}

/** The bwrap command line for one sandboxed command. Pure, so it can be read and tested apart. */
export function bwrapArguments(shape: SandboxShape, isRoot = process.getuid?.() === 0): string[] {
  const args = [
    '--die-with-parent',
    '--new-session',
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    'sandbox',
  ];
  if (!shape.network) args.push('--unshare-net');
  // Unprivileged bwrap needs a user namespace. As root, a user namespace would map the command to
  // host uid 0, for which the kernel never enforces RLIMIT_NPROC: root stays in the host's user
  // namespace and setpriv below drops to an unprivileged uid instead.
  if (!isRoot) args.push('--unshare-user');
  args.push('--ro-bind', '/usr', '/usr');
  for (const dir of TOP_LEVEL) {
    if (!existsSync(dir)) continue;
    if (lstatSync(dir).isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  // bwrap would create /etc (a mount point's parent) as 0700, which the command's uid cannot enter.
  args.push('--perms', '0755', '--dir', '/etc');
  for (const f of shape.network ? [...ETC_FILES, ...ETC_NETWORK] : ETC_FILES) args.push('--ro-bind-try', f, f);
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--dir', '/tmp/home');
  args.push('--bind', shape.workspace, SANDBOX_WORKSPACE);
  // Host-side git (checkpoints, the patch) reads .git: a command must not be able to plant hooks or config there.
  if (existsSync(path.join(shape.workspace, '.git')))
    args.push('--ro-bind', path.join(shape.workspace, '.git'), `${SANDBOX_WORKSPACE}/.git`);
  args.push('--chdir', SANDBOX_WORKSPACE, '--clearenv');
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/tmp/home',
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
    // The workspace belongs to the runner's uid, not the command's: let git inside work in it.
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'safe.directory',
    GIT_CONFIG_VALUE_0: '*',
    GIT_OPTIONAL_LOCKS: '0',
    ...shape.env,
  };
  for (const [k, v] of Object.entries(env)) args.push('--setenv', k, v);
  args.push('--');
  if (isRoot) {
    // An unprivileged uid (so RLIMIT_NPROC holds) that may still write the root-owned workspace.
    const caps = '+dac_override,+fowner';
    // no_setuid_fixup: access(2) checks with the real uid and would otherwise drop those capabilities,
    // so tools that ask before writing (`test -w`, npm, git) would see a read-only workspace.
    args.push(
      '/usr/bin/setpriv',
      `--reuid=${shape.uid}`,
      `--regid=${shape.uid}`,
      '--clear-groups',
      '--no-new-privs',
      '--securebits=+no_setuid_fixup',
    );
    args.push(`--inh-caps=-all,${caps}`, `--ambient-caps=${caps}`, `--bounding-set=-all,${caps}`);
  }
  const nproc = shape.maxProcesses ?? DEFAULT_MAX_PROCESSES;
  const fsize = shape.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  args.push('/usr/bin/prlimit', `--nproc=${nproc}:${nproc}`, `--fsize=${fsize}:${fsize}`, '--core=0:0');
  if (shape.memoryBytes) args.push(`--as=${shape.memoryBytes}:${shape.memoryBytes}`);
  args.push('--', '/bin/sh', '-c', shape.command);
  return args;
}
