// The template's checks (e.g. the repository's test command), run in the sandbox on the final
// workspace, one after another. A check passes when it exits 0 within its time limit.
import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';
export { describeCheckFailure } from '../runner-protocol/describe-check.ts';
import { runSandboxed, type Isolation } from './sandbox/run-sandboxed.ts';
import type { CheckDef } from './spec.ts';

export const DEFAULT_CHECK_TIMEOUT_SECONDS = 300;
/** Output kept per check (its tail): what the event, the guardrail result and the next attempt see. */
export const CHECK_OUTPUT_TAIL_BYTES = 16_000;

export type CheckResult = Extract<RunnerEvent, { type: 'check_result' }>;

export async function runChecks(
  checks: CheckDef[],
  workspaceDir: string,
  opts: { network?: boolean; isolation?: Isolation; signal?: AbortSignal } = {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    const timeoutSeconds = check.timeoutSeconds ?? DEFAULT_CHECK_TIMEOUT_SECONDS;
    const r = await runSandboxed({
      command: check.command,
      cwd: workspaceDir,
      timeoutMs: timeoutSeconds * 1000,
      maxOutputBytes: CHECK_OUTPUT_TAIL_BYTES,
      network: opts.network ?? false,
      isolation: opts.isolation,
      signal: opts.signal,
    });
    // A cut output starts mid-line (maybe mid-character): drop that partial line.
    const output = r.cutBytes > 0 ? r.output.slice(r.output.indexOf('\n') + 1) : r.output;
    results.push({
      v: 1,
      type: 'check_result',
      name: check.name,
      passed: r.exitCode === 0 && !r.timedOut && !r.aborted,
      exitCode: r.exitCode,
      timedOut: r.timedOut,
      output: output.slice(-CHECK_OUTPUT_TAIL_BYTES),
      durationMs: Math.round(r.durationMs),
    });
    if (r.aborted) break;
  }
  return results;
}
