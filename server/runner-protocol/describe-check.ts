import type { RunnerEvent } from './parse-runner-output.ts';

type CheckResult = Extract<RunnerEvent, { type: 'check_result' }>;

/**
 * What a failed check did and the tail of its output, e.g. `exited with code 1 after 0.4 s. Output
 * (tail): …`: the runner's error message, the attempt's guardrail result and so the next attempt's
 * feedback all say the same.
 */
export function describeCheckFailure(c: CheckResult, tailChars = 4000): string {
  const how = c.timedOut ? 'was killed at its time limit' : `exited with code ${c.exitCode}`;
  const tail = c.output.trim().slice(-tailChars);
  return `${how} after ${(c.durationMs / 1000).toFixed(1)} s.${tail ? ` Output (tail):\n${tail}` : ' No output.'}`;
}
