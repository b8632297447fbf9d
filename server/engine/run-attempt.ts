import path from 'node:path';
import { chargeUsage } from '../budgets/charge-usage.ts';
import { spendingBound, type SpendingBound } from '../budgets/spending-bound.ts';
import { checkOutput, noSecrets, violations } from '../guardrails/check-output.ts';
import { appendJobEvents, EventLimitReached, type NewJobEvent } from '../jobs/job-event.ts';
import type { RunnerSpec } from '../runner/spec.ts';
import type { Services } from '../services.ts';
import type { ArtifactStore } from '../storage/artifact-store.ts';
import type { Executor, ExecuteOutcome } from './executor.ts';
import { permittedRunnerEnv } from './executors/runner-env.ts';
import { finishAttempt, type AttemptOutcome, type GuardrailResult } from './finish-attempt.ts';
import { describeCheckFailure } from './protocol/describe-check.ts';
import type { RunnerEvent } from './protocol/parse-runner-output.ts';
import { renewHeartbeat } from './recover-lost-attempts.ts';
import { startAttempt, type StartedAttempt } from './start-attempt.ts';
import { ArtifactLimitReached, storeArtifact } from './store-artifact.ts';
import { redactRunnerEvent } from './redact-runner-event.ts';
import { redactValue, type SecretFinding } from '../secrets/redact.ts';
import { createAttemptTraces } from '../observability/attempt-traces.ts';
import { SpanStatusCode } from '@opentelemetry/api';

export interface EngineContext {
  services: Services;
  executor: Executor;
  store: ArtifactStore;
  workerId: string;
  /** Aborted when the worker shuts down. */
  shutdown: AbortSignal;
}

const TASK_OUTPUT_IN_EVENT = 4000;

/** Where the attempt's code comes from: the job-input fields the template names (default `repository`, `ref`). */
function workspaceOf(services: Services, a: StartedAttempt): RunnerSpec['workspace'] {
  const w = a.spec.workspace;
  if (!w) return undefined;
  const input = (a.input ?? {}) as Record<string, unknown>;
  const field = (name: string) => (typeof input[name] === 'string' && input[name] !== '' ? (input[name] as string) : undefined);
  const repository = field(w.repositoryField ?? 'repository');
  const ref = field(w.refField ?? 'ref');
  return { ...(repository ? { repository } : {}), ...(ref ? { ref } : {}), localRoots: services.config.repositoryRoots };
}

function runnerSpec(services: Services, a: StartedAttempt, budget: SpendingBound): RunnerSpec {
  const m = services.config.model;
  const workspace = workspaceOf(services, a);
  return {
    ...(workspace ? { workspace } : {}),
    ...(a.spec.checks?.length ? { checks: a.spec.checks } : {}),
    jobId: a.jobId,
    attempt: a.number,
    template: { slug: a.spec.slug, version: a.spec.version },
    crew: a.spec.crew,
    input: a.input,
    outputSchema: a.spec.outputSchema,
    feedback: a.feedback,
    budget,
    provider: {
      kind: m.provider,
      ...(m.baseUrl ? { baseUrl: m.baseUrl } : {}),
      ...(m.model ? { model: m.model } : {}),
      ...(m.provider === 'offline' && m.offlineDelayMs ? { delayMs: m.offlineDelayMs } : {}),
      timeoutMs: m.timeoutMs,
      ...(m.stream ? { stream: true } : {}),
    },
  } as RunnerSpec;
}

/**
 * The graphile-worker task: claims the job, runs one attempt through the executor, turns every
 * runner event into stored + published job events (charging usage as it arrives), checks the
 * output against the guardrails, and ends the attempt in exactly one outcome.
 */
export async function runAttempt(ctx: EngineContext, jobId: string): Promise<void> {
  const { services } = ctx;
  const attempt = await startAttempt(services, { jobId, workerId: ctx.workerId, executor: ctx.executor.name });
  if (!attempt) return;
  const { metrics, tracer } = services;
  metrics.attemptsStarted.inc();
  const startedAt = Date.now();
  const span = tracer.startSpan('attempt', {
    attributes: { 'autodev.job.id': jobId, 'autodev.attempt.number': attempt.number, 'autodev.template': attempt.spec.slug, 'autodev.executor': ctx.executor.name },
  });
  const traces = createAttemptTraces(tracer, span);
  const log = services.log.child({ jobId, attempt: attempt.number, workerId: ctx.workerId });
  log.info('attempt started', { template: attempt.spec.slug });

  const abort = new AbortController();
  let stop: null | { kind: 'cancelled' | 'lost' | 'shutdown' } | { kind: 'budget'; message: string } | { kind: 'refused'; code: string; message: string } = null;
  const halt = (reason: NonNullable<typeof stop>) => {
    stop ??= reason;
    abort.abort();
  };
  const onShutdown = () => halt({ kind: 'shutdown' });
  ctx.shutdown.addEventListener('abort', onShutdown);
  // Cancellation reaches this worker through the event bus at once, and through the heartbeat at the latest.
  const unsubscribe = await services.events.onJob(jobId, (e) => {
    if (e.type === 'STATE_CHANGED' && e.toState === 'CANCELLED') halt({ kind: 'cancelled' });
  });
  const heartbeatMs = Math.max(200, Math.floor(services.config.attemptLeaseMs / 6));
  const beat = async () => {
    const hb = await renewHeartbeat(services, attempt.attemptId).catch(() => null);
    if (hb && !hb.alive) halt({ kind: 'lost' });
    else if (hb?.jobState === 'CANCELLED') halt({ kind: 'cancelled' });
  };
  const heartbeat = setInterval(beat, heartbeatMs);
  await beat();

  let result: { output: unknown } | null = null;
  const checks: GuardrailResult[] = [];
  let runnerError: { code: string; message: string; retryable: boolean } | null = null;
  let runnerErrorDetail: string | undefined; // the operator's log only
  const leaks: SecretFinding[] = [];
  // Plain lines are buffered and written in batches; the buffer is flushed before every protocol
  // event, so the stored order is the order the runner wrote.
  // The runner's output counts against the job's event cap; a refusal stops the attempt
  // (EVENT_LIMIT_REACHED, not retried: a new attempt would meet the same cap).
  const maxEvents = services.config.limits.maxEventsPerJob;
  const overCap = (err: unknown) => {
    if (!(err instanceof EventLimitReached)) throw err;
    lines = [];
    halt({ kind: 'refused', code: err.code, message: err.message });
    return err.stored; // what still fitted is kept and published
  };
  let lines: NewJobEvent[] = [];
  let flushing: Promise<void> = Promise.resolve();
  const flushLines = () =>
    (flushing = flushing.then(async () => {
      while (lines.length) {
        const batch = lines.splice(0, 500);
        await services.events.publish(await appendJobEvents(services.pool, jobId, batch, { maxEvents }).catch(overCap));
      }
    }));
  const lineFlusher = setInterval(() => void flushLines().catch(() => {}), 200);
  const append = async (ev: Omit<NewJobEvent, 'attemptNumber'>, opts: { uncapped?: boolean } = {}) => {
    await flushLines();
    const stored = await appendJobEvents(services.pool, jobId, [{ ...ev, attemptNumber: attempt.number }], opts.uncapped ? {} : { maxEvents }).catch(overCap);
    await services.events.publish(stored);
  };

  const onEvent = async (raw: RunnerEvent) => {
    if (abort.signal.aborted) return; // nothing is recorded or charged after a stop
    // Secrets are removed before anything is stored, charged, published or traced.
    const { event, leaks: found } = redactRunnerEvent(raw);
    leaks.push(...found);
    metrics.runnerEvents.inc({ type: event.type });
    traces.record(event);
    switch (event.type) {
      case 'log':
        return append({ type: 'LOG', message: event.message, data: { level: event.level, agent: event.agent, task: event.task }, actor: event.agent ?? 'runner' });
      case 'task_started':
        return append({
          type: 'TASK_STARTED',
          message: `Task ${event.task} started by ${event.agent} (${event.index + 1}/${event.total})`,
          data: { task: event.task, agent: event.agent, index: event.index, total: event.total },
          actor: event.agent,
        });
      case 'task_completed':
        return append({
          type: 'TASK_COMPLETED',
          message: `Task ${event.task} completed`,
          data: { task: event.task, agent: event.agent, output: event.output.slice(0, TASK_OUTPUT_IN_EVENT), truncated: event.output.length > TASK_OUTPUT_IN_EVENT },
          actor: event.agent,
        });
      case 'usage': {
        const charged = await chargeUsage(services, {
          jobId,
          attemptId: attempt.attemptId,
          attemptNumber: attempt.number,
          model: event.model,
          inputTokens: event.inputTokens,
          outputTokens: event.outputTokens,
        });
        if (charged.ok) return;
        if (charged.code === 'BUDGET_EXCEEDED') return halt({ kind: 'budget', message: charged.message });
        if (charged.code === 'ATTEMPT_NOT_RUNNING') return halt({ kind: 'lost' });
        return halt({ kind: 'refused', code: charged.code, message: charged.message });
      }
      case 'artifact': {
        const body = Buffer.from(event.content, event.encoding === 'base64' ? 'base64' : 'utf8');
        try {
          await storeArtifact(services, ctx.store, attempt, { path: path.posix.normalize(event.path), contentType: event.contentType, body });
        } catch (err) {
          halt({ kind: 'refused', code: err instanceof ArtifactLimitReached ? err.code : 'ARTIFACT_REFUSED', message: (err as Error).message });
        }
        return;
      }
      case 'result':
        result = { output: event.output };
        return;
      case 'error':
        runnerError = { code: event.code, message: event.message, retryable: event.retryable };
        runnerErrorDetail = event.detail;
        return;
      case 'tool_call': {
        const { v: _v, type: _t, ...data } = event;
        return append({ type: 'TOOL_CALL', message: `${event.tool} ${event.args.slice(0, 200)}`, data, actor: event.agent ?? 'runner' });
      }
      case 'tool_result': {
        const { v: _v, type: _t, ...data } = event;
        const message = `${event.tool} ${event.ok ? 'answered' : 'failed'} in ${event.durationMs} ms`;
        return append({ type: 'TOOL_RESULT', message, data, actor: event.agent ?? 'runner' });
      }
      case 'workspace':
        await services.pool.query(`UPDATE "JobAttempt" SET "baseCommit" = $2 WHERE id = $1`, [attempt.attemptId, event.baseCommit]);
        return append({ type: 'LOG', message: `Workspace at base commit ${event.baseCommit}`, data: { level: 'info', baseCommit: event.baseCommit }, actor: 'runner' });
      case 'check_result': {
        checks.push(checkGuardrail(event));
        const how = event.passed ? 'passed' : event.timedOut ? 'timed out' : `failed (exit ${event.exitCode})`;
        const { v: _v, type: _t, ...data } = event;
        return append({ type: 'LOG', message: `Check ${event.name} ${how} in ${event.durationMs} ms`, data: { level: event.passed ? 'info' : 'warn', check: data }, actor: 'checks' });
      }
      default: {
        // A protocol event type this switch does not store would be dropped silently: tsc stops that here.
        const unhandled: never = event;
        return unhandled;
      }
    }
  };

  // The models the runner will call: the operator's override, or each agent's own.
  const models = services.config.model.model ? [services.config.model.model] : (attempt.spec.crew.agents as { model: string }[]).map((a) => a.model);
  let executed: ExecuteOutcome;
  try {
    executed = await ctx.executor.execute({
      spec: runnerSpec(services, attempt, await spendingBound(services.pool, jobId, models)),
      attemptId: attempt.attemptId,
      image: attempt.spec.executor?.image,
      resources: attempt.spec.executor?.resources,
      workDir: path.join(services.config.dataDir, 'attempts', jobId, String(attempt.number)),
      timeoutMs: attempt.spec.timeoutSeconds * 1000,
      signal: abort.signal,
      envAllow: permittedRunnerEnv(attempt.spec.executor?.env ?? [], services.config.runnerEnvAllow),
      envExtra: services.config.model.apiKey ? { AUTODEV_MODEL_API_KEY: services.config.model.apiKey } : {},
      onEvent,
      onLog: async (line) => {
        metrics.runnerEvents.inc({ type: 'plain' });
        if (abort.signal.aborted) return;
        // Redacted where every event is stored (appendJobEvents), not here as well: once per line.
        lines.push({ type: 'LOG', message: line, data: { level: 'info', raw: true }, actor: 'runner', attemptNumber: attempt.number });
        if (lines.length >= 500) await flushLines();
      },
    });
  } finally {
    clearInterval(lineFlusher);
    await flushLines().catch((err) => services.log.warn('could not store runner output', { jobId, error: String(err) }));
    clearInterval(heartbeat);
    ctx.shutdown.removeEventListener('abort', onShutdown);
    await unsubscribe();
  }

  // Executor messages quote the runner (its stderr, its invalid event): redacted like its events.
  const outcome = redactValue(withChecks(await decideOutcome(attempt, executed, stop, result, runnerError, leaks), checks));
  const guardrails = outcome && 'guardrails' in outcome ? outcome.guardrails : undefined;
  if (guardrails) {
    const failed = violations(guardrails);
    await append({
      type: 'GUARDRAIL',
      message: failed.length ? `Guardrails failed: ${failed.map((g) => g.name).join(', ')}` : `Guardrails passed (${guardrails.length} checks)`,
      data: { results: guardrails },
      actor: 'guardrails',
    }, { uncapped: true }); // the verdict is the job's own record, stored whatever the runner wrote
  }
  const state = outcome ? await finishAttempt(services, attempt, outcome, { retryBaseMs: services.config.retryBaseMs }) : null;
  const label = outcome?.kind ?? 'lost';
  log.info('attempt finished', {
    outcome: label,
    jobState: state,
    durationMs: Date.now() - startedAt,
    ...(outcome?.kind === 'failed' ? { errorCode: outcome.code, reason: outcome.message.slice(0, 500) } : {}),
    ...(runnerErrorDetail ? { runnerErrorDetail: runnerErrorDetail.slice(0, 4000) } : {}),
  });
  metrics.attemptsFinished.inc({ outcome: label });
  metrics.attemptDuration.observe({ outcome: label }, (Date.now() - startedAt) / 1000);
  traces.end();
  span.setAttribute('autodev.attempt.outcome', label);
  if (state) span.setAttribute('autodev.job.state', state);
  if (outcome?.kind === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.code}: ${outcome.message}`.slice(0, 500) });
  span.end();
}

/** A check's result as a guardrail result: stored on the attempt, shown to reviewers, fed to the next attempt when it failed. */
function checkGuardrail(c: Extract<RunnerEvent, { type: 'check_result' }>): GuardrailResult {
  return {
    name: `check:${c.name}`,
    passed: c.passed,
    message: c.passed ? `passed in ${(c.durationMs / 1000).toFixed(1)} s.` : describeCheckFailure(c),
    details: { exitCode: c.exitCode, timedOut: c.timedOut, durationMs: c.durationMs, output: c.output },
  };
}

/** The checks the runner reported join the attempt's guardrail results, whatever the outcome. */
function withChecks(outcome: AttemptOutcome | null, checks: GuardrailResult[]): AttemptOutcome | null {
  if (!outcome || !checks.length || (outcome.kind !== 'failed' && outcome.kind !== 'succeeded')) return outcome;
  return { ...outcome, guardrails: [...(outcome.guardrails ?? []), ...checks] };
}

async function decideOutcome(
  attempt: StartedAttempt,
  executed: ExecuteOutcome,
  stop: any,
  result: { output: unknown } | null,
  runnerError: { code: string; message: string; retryable: boolean } | null,
  leaks: SecretFinding[],
): Promise<AttemptOutcome | null> {
  const outcome = await outcomeOfRun(attempt, executed, stop, result, runnerError, leaks);
  // Secrets the crew produced fail the attempt however it ended (a result checks them itself).
  if (outcome?.kind === 'failed' && !outcome.guardrails && leaks.length) return { ...outcome, guardrails: [noSecrets(leaks)] };
  return outcome;
}

async function outcomeOfRun(
  attempt: StartedAttempt,
  executed: ExecuteOutcome,
  stop: any,
  result: { output: unknown } | null,
  runnerError: { code: string; message: string; retryable: boolean } | null,
  leaks: SecretFinding[],
): Promise<AttemptOutcome | null> {
  if (stop?.kind === 'lost') return null; // recovery already moved the job on
  if (stop?.kind === 'cancelled') return { kind: 'cancelled', message: 'cancelled while running' };
  if (stop?.kind === 'budget') return { kind: 'budget_exceeded', message: stop.message };
  if (stop?.kind === 'refused') return { kind: 'failed', code: stop.code, message: stop.message, retryable: false };
  if (stop?.kind === 'shutdown') return { kind: 'failed', code: 'WORKER_SHUTDOWN', message: 'the worker shut down during the attempt', retryable: true };
  switch (executed.kind) {
    case 'timeout':
      return { kind: 'failed', code: 'TIMEOUT', message: `the runner did not finish within ${attempt.spec.timeoutSeconds} s`, retryable: true };
    case 'violation':
      return { kind: 'failed', code: executed.code, message: executed.message, retryable: false };
    case 'spawn_error':
      return { kind: 'failed', code: 'RUNNER_START_FAILED', message: executed.message, retryable: false };
    case 'cancelled':
      return { kind: 'cancelled', message: 'cancelled while running' };
    case 'failed':
      return { kind: 'failed', code: executed.code, message: executed.message, retryable: executed.retryable };
  }
  // The runner stopped itself before a request its budget could not pay: the same end as a refused charge.
  if (runnerError?.code === 'BUDGET_EXCEEDED') return { kind: 'budget_exceeded', message: runnerError.message };
  if (runnerError) return { kind: 'failed', ...runnerError };
  if (!result) {
    const tail = executed.stderrTail.trim().split('\n').slice(-3).join(' | ');
    return {
      kind: 'failed',
      code: 'RUNNER_CRASHED',
      message: `the runner exited (${executed.signal ?? `code ${executed.exitCode}`}) without a result${tail ? `: ${tail}` : ''}`,
      retryable: true,
    };
  }
  const guardrails = await checkOutput(attempt.spec.outputSchema, result.output, { leaks });
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
