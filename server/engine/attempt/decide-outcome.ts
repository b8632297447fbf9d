import { checkOutput, noSecrets, violations } from '../../guardrails/check-output.ts';
import { redactValue } from '../../secrets/redact.ts';
import type { ExecuteOutcome } from '../executor.ts';
import type { AttemptOutcome, GuardrailResult } from '../finish-attempt.ts';
import type { StartedAttempt } from '../start-attempt.ts';
import type { StopReason } from './attempt-stop.ts';
import type { RunnerReport } from './runner-event-recorder.ts';

/**
 * The attempt's one outcome, from why it stopped, how the runner ended and what it reported;
 * null when the attempt was lost (recovery already moved the job on). Executor messages quote the
 * runner (its stderr, its invalid event): the outcome is redacted like its events.
 */
export async function decideOutcome(
  attempt: StartedAttempt,
  executed: ExecuteOutcome,
  stop: StopReason | null,
  report: RunnerReport,
): Promise<AttemptOutcome | null> {
  let outcome = await outcomeOfRun(attempt, executed, stop, report);
  // Secrets the crew produced fail the attempt however it ended (a result checks them itself).
  if (outcome?.kind === 'failed' && !outcome.guardrails && report.leaks.length)
    outcome = { ...outcome, guardrails: [noSecrets(report.leaks)] };
  return redactValue(withChecks(outcome, report.checks));
}

/** The checks the runner reported join the attempt's guardrail results, whatever the outcome. */
function withChecks(outcome: AttemptOutcome | null, checks: GuardrailResult[]): AttemptOutcome | null {
  if (!outcome || !checks.length || (outcome.kind !== 'failed' && outcome.kind !== 'succeeded')) return outcome;
  return { ...outcome, guardrails: [...(outcome.guardrails ?? []), ...checks] };
}

async function outcomeOfRun(
  attempt: StartedAttempt,
  executed: ExecuteOutcome,
  stop: StopReason | null,
  report: RunnerReport,
): Promise<AttemptOutcome | null> {
  switch (stop?.kind) {
    case 'lost':
      return null; // recovery already moved the job on
    case 'cancelled':
      return { kind: 'cancelled', message: 'cancelled while running' };
    case 'budget':
      return { kind: 'budget_exceeded', message: stop.message };
    case 'refused':
      return { kind: 'failed', code: stop.code, message: stop.message, retryable: false };
    case 'shutdown':
      return { kind: 'failed', code: 'WORKER_SHUTDOWN', message: 'the worker shut down during the attempt', retryable: true };
  }
  switch (executed.kind) {
    case 'timeout':
      return {
        kind: 'failed',
        code: 'TIMEOUT',
        message: `the runner did not finish within ${attempt.spec.timeoutSeconds} s`,
        retryable: true,
      };
    case 'violation':
      return { kind: 'failed', code: executed.code, message: executed.message, retryable: false };
    case 'spawn_error':
      return { kind: 'failed', code: 'RUNNER_START_FAILED', message: executed.message, retryable: false };
    case 'cancelled':
      return { kind: 'cancelled', message: 'cancelled while running' };
    case 'failed':
      return { kind: 'failed', code: executed.code, message: executed.message, retryable: executed.retryable };
  }
  const { runnerError, result } = report;
  // The runner stopped itself before a request its budget could not pay: the same end as a refused charge.
  if (runnerError?.code === 'BUDGET_EXCEEDED') return { kind: 'budget_exceeded', message: runnerError.message };
  if (runnerError) return { kind: 'failed', ...runnerError };
  // A task asked a person and the runner stopped there: the job waits (a secret the crew wrote still fails it).
  if (report.inputRequested && !result) {
    if (report.leaks.length)
      return { kind: 'failed', code: 'GUARDRAIL_VIOLATION', message: 'The crew wrote a secret into its output.', retryable: true };
    return { kind: 'awaiting_input', ...report.inputRequested };
  }
  if (!result) {
    const tail = executed.stderrTail.trim().split('\n').slice(-3).join(' | ');
    return {
      kind: 'failed',
      code: 'RUNNER_CRASHED',
      message: `the runner exited (${executed.signal ?? `code ${executed.exitCode}`}) without a result${tail ? `: ${tail}` : ''}`,
      retryable: true,
    };
  }
  const guardrails = await checkOutput(attempt.spec.outputSchema, result.output, { leaks: report.leaks });
  const failed = violations(guardrails);
  if (failed.length > 0) {
    return {
      kind: 'failed',
      code: 'GUARDRAIL_VIOLATION',
      message: failed.map((g) => g.message).join(' '),
      retryable: true,
      guardrails,
      output: result.output,
    };
  }
  return { kind: 'succeeded', output: result.output, guardrails };
}
