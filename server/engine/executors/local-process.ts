import { spawn } from 'node:child_process';
import type { ParserLimits, RunnerEvent, Violation } from '../../runner-protocol/parse-runner-output.ts';
import { consumeRunnerOutput } from './consume-runner-output.ts';
import { groupAlive, killGroup } from './kill-group.ts';

export interface LocalProcessOptions {
  command: string;
  args: string[];
  cwd: string;
  /** The complete environment of the runner; nothing is inherited. */
  env: Record<string, string>;
  stdin?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  limits?: Partial<ParserLimits>;
  onEvent: (e: RunnerEvent) => void | Promise<void>;
  onLog: (line: string) => void | Promise<void>;
  stderrTailBytes?: number;
  killGraceMs?: number;
}

export interface ProcessOutcome {
  kind: 'exited' | 'timeout' | 'cancelled' | 'violation' | 'spawn_error';
  exitCode: number | null;
  signal: string | null;
  violation?: Violation;
  stderrTail: string;
  durationMs: number;
}

/**
 * Runs a runner as its own process group and feeds its stdout through the protocol parser
 * (`consumeRunnerOutput`: events in order, one at a time).
 * Timeout, cancellation, a violation or a failing handler kill the whole group: SIGTERM, then
 * SIGKILL after the grace period. Resolves once the process has exited and its output is drained.
 */
export function runLocalProcess(opts: LocalProcessOptions): Promise<ProcessOutcome> {
  const started = Date.now();
  const tailMax = opts.stderrTailBytes ?? 8192;
  if (opts.signal?.aborted) return Promise.resolve({ kind: 'cancelled', exitCode: null, signal: null, stderrTail: '', durationMs: 0 });

  return new Promise((resolve, reject) => {
    let reason: ProcessOutcome['kind'] | null = null;
    let violation: Violation | undefined;
    let stderrTail = '';
    let killTimer: NodeJS.Timeout | undefined;

    const child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });

    const stop = (why: ProcessOutcome['kind']) => {
      reason ??= why;
      output.stop();
      if (!child.pid) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer ??= setTimeout(() => killGroup(child.pid!, 'SIGKILL'), opts.killGraceMs ?? 2000);
    };

    const output: ReturnType<typeof consumeRunnerOutput> = consumeRunnerOutput(child.stdout!, {
      limits: opts.limits,
      onEvent: opts.onEvent,
      onLog: opts.onLog,
      onViolation: (v) => {
        violation = v;
        stop('violation');
      },
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-tailMax);
    });
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);

    const timeout = setTimeout(() => stop('timeout'), opts.timeoutMs);
    const onAbort = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort);

    let spawnError: Error | null = null;
    child.on('error', (err) => {
      spawnError = err;
    });
    // A failure while the last output is handled (e.g. storing an event) rejects the run instead of leaving it pending.
    child.on('close', (code, signal) => {
      clearTimeout(timeout);
      opts.signal?.removeEventListener('abort', onAbort);
      output.finish().then(() => closed(code, signal), reject);
    });
    const closed = (code: number | null, signal: NodeJS.Signals | null) => {
      // The runner is gone; make sure nothing it started outlives it.
      if (child.pid && groupAlive(child.pid)) {
        killGroup(child.pid, 'SIGTERM');
        setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 500).unref();
      }
      clearTimeout(killTimer);
      const kind = spawnError && !child.pid ? 'spawn_error' : (reason ?? 'exited');
      resolve({
        kind,
        exitCode: code,
        signal,
        violation,
        stderrTail: spawnError && !child.pid ? spawnError.message : stderrTail,
        durationMs: Date.now() - started,
      });
    };
  });
}
