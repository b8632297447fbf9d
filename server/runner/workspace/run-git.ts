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
const SAFE_CONFIG = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'core.pager=cat', '-c', 'protocol.ext.allow=never'];

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

/** Runs git and returns its stdout; a non-zero exit throws a WorkspaceError with git's (redacted) stderr. */
export function runGit(args: string[], opts: GitOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...SAFE_CONFIG, ...args], { cwd: opts.cwd, env: gitEnvironment(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 600_000);
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (outBytes <= MAX_GIT_OUTPUT) out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (err.length < 16_384) err += c.toString('utf8');
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new WorkspaceError(opts.code ?? 'WORKSPACE_GIT_FAILED', `git could not be started: ${e.message}`, false));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && outBytes <= MAX_GIT_OUTPUT) return resolve(Buffer.concat(out));
      const why = timedOut ? `no answer within ${opts.timeoutMs ?? 600_000} ms` : outBytes > MAX_GIT_OUTPUT ? `its output passed ${MAX_GIT_OUTPUT} bytes` : signal ? `killed by ${signal}` : `exit ${code}`;
      const detail = redactUrls(err.trim(), opts.secrets).split('\n').slice(-5).join(' ');
      const hint = /could not read Username|Authentication failed/.test(err) ? ' The remote asks for credentials: the operator names an environment variable holding a token.' : '';
      reject(new WorkspaceError(opts.code ?? 'WORKSPACE_GIT_FAILED', `git ${subcommand(args)} failed (${why})${detail ? `: ${detail}` : '.'}${hint}`, timedOut || (opts.retryable ?? false)));
    });
  });
}

/** The git subcommand of an argument list (after any `-c key=value`), for messages. */
function subcommand(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c') i++;
    else return args[i];
  }
  return '';
}
