import { spawn } from 'node:child_process';
import { WorkspaceError } from './workspace-error.ts';
import { redactUrls } from './redact-url.ts';

export const GIT_IDENTITY = { name: 'AutoDev', email: 'autodev@localhost' };
const MAX_GIT_OUTPUT = 64 * 1024 * 1024;

/**
 * The only environment git sees: no user or system config, no prompts, a fixed identity, and only
 * the transports a job may name (never `ext::`, which runs commands).
 */
export function gitEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: 'file:https:http:ssh:git',
    GIT_AUTHOR_NAME: GIT_IDENTITY.name,
    GIT_AUTHOR_EMAIL: GIT_IDENTITY.email,
    GIT_COMMITTER_NAME: GIT_IDENTITY.name,
    GIT_COMMITTER_EMAIL: GIT_IDENTITY.email,
    ...extra,
  };
}

// Sandboxed commands cannot write .git (it is bound read-only), but the working tree is theirs:
// these keep git on the host from running anything the workspace names.
const SAFE_CONFIG = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.pager=cat',
  '-c',
  'protocol.ext.allow=never',
];

export interface GitOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Values removed from error messages (a token), besides URL userinfo. */
  secrets?: string[];
  code?: WorkspaceError['code'];
  retryable?: boolean;
  /** git is killed after this long (default 10 minutes). */
  timeoutMs?: number;
}

export interface GitOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
  /** stdout passed maxOutputBytes: git was stopped and stdout holds the first maxOutputBytes. */
  overflowed: boolean;
}

/** Runs git to its end (or its limits) and reports what happened; throws only when git cannot start. */
export function spawnGit(args: string[], opts: GitOptions & { maxOutputBytes?: number } = {}): Promise<GitOutcome> {
  const max = opts.maxOutputBytes ?? MAX_GIT_OUTPUT;
  const timeoutMs = opts.timeoutMs ?? 600_000;
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...SAFE_CONFIG, ...args], {
      cwd: opts.cwd,
      env: gitEnvironment(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let timedOut = false;
    let overflowed = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      if (overflowed) return;
      if (outBytes + c.length > max) {
        out.push(c.subarray(0, max - outBytes));
        overflowed = true;
        child.kill('SIGKILL');
        return;
      }
      outBytes += c.length;
      out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 16_384) stderr += c.toString('utf8');
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new WorkspaceError(opts.code ?? 'WORKSPACE_GIT_FAILED', `git could not be started: ${e.message}`, false));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr, timedOut, overflowed });
    });
  });
}

/** Runs git and returns its stdout; anything but a clean exit throws a WorkspaceError with git's (redacted) stderr. */
export async function runGit(args: string[], opts: GitOptions = {}): Promise<Buffer> {
  const r = await spawnGit(args, opts);
  if (r.code === 0 && !r.overflowed) return r.stdout;
  const why = r.timedOut
    ? `no answer within ${opts.timeoutMs ?? 600_000} ms`
    : r.overflowed
      ? `its output passed ${MAX_GIT_OUTPUT} bytes`
      : r.signal
        ? `killed by ${r.signal}`
        : `exit ${r.code}`;
  const detail = redactUrls(r.stderr.trim(), opts.secrets).split('\n').slice(-5).join(' ');
  const hint = /could not read Username|Authentication failed/.test(r.stderr)
    ? ' The remote asks for credentials: the operator names an environment variable holding a token.'
    : '';
  throw new WorkspaceError(
    opts.code ?? 'WORKSPACE_GIT_FAILED',
    `git ${subcommand(args)} failed (${why})${detail ? `: ${detail}` : '.'}${hint}`,
    r.timedOut || (opts.retryable ?? false),
  );
}

/** The git subcommand of an argument list (after any `-c key=value`), for messages. */
function subcommand(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c') i++;
    else return args[i];
  }
  return '';
}
