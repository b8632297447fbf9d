import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { bwrapArguments } from './bwrap-arguments.ts';
import { createOutputTail } from './output-tail.ts';
import { podCommand } from './pod-command.ts';

export const BWRAP = '/usr/bin/bwrap';

export interface SandboxOptions {
  /** A shell command line, run by /bin/sh -c in the workspace. */
  command: string;
  /** Host path of the workspace; the command sees it at /workspace. */
  cwd: string;
  /** Wall-clock limit: the whole process tree is killed when it passes. */
  timeoutMs: number;
  /** Output (stdout and stderr, interleaved) beyond this keeps only its tail. */
  maxOutputBytes: number;
  network: boolean;
  /** Address-space limit per process (RLIMIT_AS). */
  memoryBytes?: number;
  /** Processes the command may have at once (RLIMIT_NPROC, default 256). */
  maxProcesses?: number;
  env?: Record<string, string>;
  /** Aborting kills the command like the time limit does. */
  signal?: AbortSignal;
  /** The bubblewrap binary (default /usr/bin/bwrap). */
  bwrapPath?: string;
  /**
   * `bubblewrap` (the default: local and inline executors) or `pod`: on the Kubernetes executor the
   * runner pod is the sandbox, and the command runs in it directly (pod-command.ts).
   */
  isolation?: Isolation;
}

export type Isolation = 'bubblewrap' | 'pod';

export interface SandboxResult {
  /** The command's exit status; 128+n when it died of signal n inside the sandbox; null when killed from outside. */
  exitCode: number | null;
  /** Set when the sandbox was killed (time limit, abort). */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** The last maxOutputBytes of the output. */
  output: string;
  outputBytes: number;
  /** Bytes cut from the start of the output. */
  cutBytes: number;
  durationMs: number;
}

// Host uids handed to concurrent commands of this process, so that no two share a process cap.
const uidsInUse = new Set<number>();
function takeUid(): number {
  for (;;) {
    const uid = randomInt(200_000, 1_200_000);
    if (!uidsInUse.has(uid)) return (uidsInUse.add(uid), uid);
  }
}

/**
 * Runs a command under bubblewrap: no network (unless allowed), a read-only system, only the
 * workspace writable, its own PID namespace, an empty environment, limits on time, output,
 * processes, file size and memory. Never throws for what the command does; the promise settles
 * once every process of the command is gone.
 */
export function runSandboxed(opts: SandboxOptions): Promise<SandboxResult> {
  const started = performance.now();
  const uid = takeUid();
  const shape = {
    command: opts.command,
    workspace: opts.cwd,
    network: opts.network,
    memoryBytes: opts.memoryBytes,
    maxProcesses: opts.maxProcesses,
    env: opts.env,
  };
  const { file, args, env, cwd } =
    opts.isolation === 'pod'
      ? { ...podCommand(shape), cwd: opts.cwd }
      : { file: opts.bwrapPath ?? BWRAP, args: bwrapArguments({ ...shape, uid }), env: {}, cwd: undefined };
  // detached: bwrap (or, in a pod, the command) leads its own process group, which the kill below
  // takes down whole; under bwrap the command's processes also die with its PID namespace.
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env, cwd });
  const tail = createOutputTail(opts.maxOutputBytes);
  child.stdout.on('data', (c: Buffer) => tail.push(c));
  child.stderr.on('data', (c: Buffer) => tail.push(c));
  let timedOut = false;
  let aborted = false;
  let spawnError: Error | null = null;
  let lastResort: NodeJS.Timeout | undefined;
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    // The PID namespace dies with bwrap, closing the pipes; should anything still hold them, stop
    // waiting for it rather than hang the caller.
    lastResort ??= setTimeout(() => {
      child.stdout.destroy();
      child.stderr.destroy();
    }, 5000);
    lastResort.unref();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, opts.timeoutMs);
  const onAbort = () => {
    aborted = true;
    kill();
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  child.on('error', (err) => (spawnError = err));

  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(lastResort);
      opts.signal?.removeEventListener('abort', onAbort);
      uidsInUse.delete(uid);
      const { output, outputBytes, cutBytes } = tail.result();
      resolve({
        exitCode: code,
        signal,
        timedOut,
        aborted,
        output: spawnError ? `The sandbox could not start: ${spawnError.message}` : output,
        outputBytes,
        cutBytes,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}
