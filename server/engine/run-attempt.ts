import type { Services } from '../services.ts';
import type { ArtifactStore } from '../storage/artifact-store.ts';
import { createAttemptEventLog } from './attempt/attempt-event-log.ts';
import { createAttemptStop } from './attempt/attempt-stop.ts';
import { startAttemptTelemetry } from './attempt/attempt-telemetry.ts';
import { decideOutcome } from './attempt/decide-outcome.ts';
import { buildExecuteRequest } from './attempt/execute-request.ts';
import { createRunnerEventRecorder } from './attempt/runner-event-recorder.ts';
import { watchAttempt, watchCancellation } from './attempt/watch-attempt.ts';
import type { Executor, ExecuteOutcome } from './executor.ts';
import { finishAttempt } from './finish-attempt.ts';
import { startAttempt } from './start-attempt.ts';
import { describeResume } from './attempt/describe-resume.ts';

export interface EngineContext {
  services: Services;
  executor: Executor;
  store: ArtifactStore;
  workerId: string;
  /** Aborted when the worker shuts down. */
  shutdown: AbortSignal;
}

/**
 * The graphile-worker task: claims the job, runs one attempt through the executor, turns every
 * runner event into stored + published job events (charging usage as it arrives), checks the
 * output against the guardrails, and ends the attempt in exactly one outcome. Each step is a
 * module of `attempt/`.
 */
export async function runAttempt(ctx: EngineContext, jobId: string): Promise<void> {
  const { services } = ctx;
  // 1. Claim: QUEUED → RUNNING and a new JobAttempt (null: someone else moved the job first). A
  //    cancellation is watched for from before the claim, so none committed after it is missed.
  const stop = createAttemptStop();
  const unwatchJob = await watchCancellation(services, jobId, stop);
  const attempt = await startAttempt(services, {
    jobId,
    workerId: ctx.workerId,
    executor: ctx.executor.name,
    defaultMaxRunning: services.config.projectMaxRunningAttempts,
    modelOverride: services.config.model.model ?? null,
  }).catch(async (err: unknown) => {
    await unwatchJob();
    throw err;
  });
  if (!attempt) return unwatchJob();
  const telemetry = startAttemptTelemetry(services, attempt, { workerId: ctx.workerId, executor: ctx.executor.name });

  // 2. Watch: the first of shutdown, cancellation, a lost lease, a refused charge or event stops the runner.
  const stopWatching = watchAttempt(services, {
    attemptId: attempt.attemptId,
    leaseMs: services.config.attemptLeaseMs,
    shutdown: ctx.shutdown,
    stop,
  });
  try {
    const eventLog = createAttemptEventLog(services, {
      jobId,
      attemptNumber: attempt.number,
      maxEvents: services.config.limits.maxEventsPerJob,
      stop,
    });
    const recorder = createRunnerEventRecorder({ services, store: ctx.store, attempt, eventLog, stop, traces: telemetry.traces });
    const resumed = describeResume(attempt);
    if (resumed)
      await eventLog.append({ type: 'LOG', message: resumed.message, data: { level: 'info', resume: resumed.data }, actor: 'engine' });

    // 3. Run: the executor runs the runner; its events are recorded as they arrive. The watch (and
    //    the lease's heartbeat) lasts until the outcome is recorded, so a slow outcome (guardrails on
    //    a loaded machine) is not taken for a lost worker.
    let executed: ExecuteOutcome;
    try {
      executed = await ctx.executor.execute(
        buildExecuteRequest(services, attempt, { signal: stop.signal, onEvent: recorder.onEvent, onLog: recorder.onLog }),
      );
    } finally {
      await eventLog.close();
    }

    // 4. Decide and record the one outcome (and the guardrails' verdict), with the job's transition.
    const outcome = await decideOutcome(attempt, executed, stop.reason, recorder.report);
    const state = outcome
      ? await finishAttempt(services, attempt, outcome, {
          retryBaseMs: services.config.retryBaseMs,
          defaultMaxRunning: services.config.projectMaxRunningAttempts,
        })
      : null;
    telemetry.finish(outcome, state, recorder.report.runnerErrorDetail);
  } finally {
    stopWatching();
    await unwatchJob();
  }
}
