import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';
import { runLocalProcess } from './executors/local-process.ts';
import { scrubbedEnv } from '../runner-protocol/runner-env.ts';
import type { RunnerSpec } from '../runner/spec.ts';

export interface ExecuteRequest {
  spec: RunnerSpec;
  attemptId: string;
  /** The template's runner image and resources (the Kubernetes executor uses them). */
  image?: string;
  resources?: { cpu?: string; memory?: string };
  /** Scratch directory of this attempt (removed afterwards). */
  workDir: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Names of environment variables the runner may see (already checked by runner-env.ts), and values to add. */
  envAllow: string[];
  envExtra: Record<string, string>;
  onEvent: (e: RunnerEvent) => Promise<void>;
  onLog: (line: string) => Promise<void>;
}

export type ExecuteOutcome =
  | { kind: 'exited'; exitCode: number | null; signal: string | null; stderrTail: string }
  | { kind: 'timeout' | 'cancelled'; stderrTail: string }
  | { kind: 'violation'; code: string; message: string }
  | { kind: 'spawn_error'; message: string }
  /** The platform ended the runner for a reason it knows (image pull, out of memory). */
  | { kind: 'failed'; code: string; message: string; retryable: boolean };

/** Runs one attempt's runner and reports its protocol events; the engine decides what they mean. */
export interface Executor {
  name: string;
  execute(req: ExecuteRequest): Promise<ExecuteOutcome>;
  /** Removes what runners of attempts that are no longer running left behind (e.g. Kubernetes Jobs of a dead worker). */
  cleanupOrphans?(isRunning: (attemptIds: string[]) => Promise<Set<string>>): Promise<number>;
}

/**
 * The reference runner of this tree: built (npm run build, the image) this module is JavaScript and
 * the runner is the compiled main.js beside it; from the TypeScript source it runs through tsx
 * (resolved only then: the image has no tsx).
 */
function referenceRunnerCommand(): string[] {
  if (import.meta.url.endsWith('.js')) return [process.execPath, fileURLToPath(new URL('../runner/main.js', import.meta.url))];
  return [process.execPath, '--import', import.meta.resolve('tsx'), fileURLToPath(new URL('../runner/main.ts', import.meta.url))];
}

/**
 * Each attempt in its own child process (its own process group), with a scrubbed environment,
 * a hard timeout that kills the whole group, and cancellation through the AbortSignal.
 */
export function createLocalExecutor(opts: { command?: string[] } = {}): Executor {
  return {
    name: 'local',
    async execute(req) {
      await mkdir(req.workDir, { recursive: true });
      const specFile = path.join(req.workDir, 'spec.json');
      await writeFile(specFile, JSON.stringify(req.spec));
      const [command, ...args] = opts.command ?? referenceRunnerCommand();
      try {
        const outcome = await runLocalProcess({
          command,
          args: [...args, specFile],
          cwd: req.workDir,
          env: scrubbedEnv(req.envAllow, { ...req.envExtra, HOME: req.workDir }),
          timeoutMs: req.timeoutMs,
          signal: req.signal,
          onEvent: req.onEvent,
          onLog: req.onLog,
        });
        switch (outcome.kind) {
          case 'exited':
            return { kind: 'exited', exitCode: outcome.exitCode, signal: outcome.signal, stderrTail: outcome.stderrTail };
          case 'timeout':
          case 'cancelled':
            return { kind: outcome.kind, stderrTail: outcome.stderrTail };
          case 'violation':
            return { kind: 'violation', code: outcome.violation!.code, message: outcome.violation!.message };
          default:
            return { kind: 'spawn_error', message: outcome.stderrTail || `could not start ${command}` };
        }
      } finally {
        await rm(req.workDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Runs the reference runner inside the worker process (no child process, no isolation, no hard
 * timeout beyond cancellation). For benchmarks and trusted offline use only; `local` is the default.
 */
export function createInlineExecutor(): Executor {
  // Imported at the first attempt, once: a dynamic import() per attempt costs a module resolution
  // each time (through the loader's hooks thread when running from TypeScript).
  let runner: Promise<typeof import('../runner/run-spec.ts')> | undefined;
  return {
    name: 'inline',
    async execute(req) {
      const { runSpec, usesAgentRuntime } = await (runner ??= import('../runner/run-spec.ts'));
      const events: RunnerEvent[] = [];
      // Only the agent runtime (a workspace, tools, checks) works in the attempt's directory; a crew
      // of plain completions never touches it, and its mkdir and recursive rm were ~1 ms of the
      // thread pool's CPU per job in the lifecycle benchmark.
      const workDir = usesAgentRuntime(req.spec) ? req.workDir : null;
      if (workDir) await mkdir(workDir, { recursive: true });
      try {
        await runSpec(req.spec, { attemptDir: req.workDir, env: req.envExtra, signal: req.signal }, (e) => void events.push(e));
      } finally {
        if (workDir) await rm(workDir, { recursive: true, force: true });
      }
      for (const e of events) {
        if (req.signal.aborted) return { kind: 'cancelled', stderrTail: '' };
        await req.onEvent(e);
      }
      return { kind: 'exited', exitCode: 0, signal: null, stderrTail: '' };
    },
  };
}
