import path from 'node:path';
import pg from 'pg';
import { classifyDbError } from '../../db/db-error.ts';
import { chargeUsage, type ChargeResult, type UsageCharge } from '../../budgets/charge-usage.ts';
import type { createAttemptTraces } from '../../observability/attempt-traces.ts';
import type { SecretFinding } from '../../secrets/redact.ts';
import type { Services } from '../../services.ts';
import type { ArtifactStore } from '../../storage/artifact-store.ts';
import type { GuardrailResult } from '../finish-attempt.ts';
import { describeCheckFailure } from '../../runner-protocol/describe-check.ts';
import type { RunnerEvent } from '../../runner-protocol/parse-runner-output.ts';
import { redactRunnerEvent } from '../redact-runner-event.ts';
import type { StartedAttempt } from '../start-attempt.ts';
import { ArtifactLimitReached, storeArtifact } from '../store-artifact.ts';
import { checkpointInsert } from '../../checkpoints/checkpoints.ts';
import { createLiveTextRedaction, type LiveDelta } from './live-text-redaction.ts';
import type { AttemptEventLog } from './attempt-event-log.ts';
import type { AttemptStop } from './attempt-stop.ts';

const TASK_OUTPUT_IN_EVENT = 4000;

export interface RunnerError {
  code: string;
  message: string;
  retryable: boolean;
}

/** What the runner reported that decides the attempt's outcome. */
export interface RunnerReport {
  result: { output: unknown } | null;
  runnerError: RunnerError | null;
  /** The runner's error detail: the operator's log only. */
  runnerErrorDetail: string | undefined;
  /** The sandboxed checks' results, as guardrail results. */
  checks: GuardrailResult[];
  /** Secrets found in what the crew produced. */
  leaks: SecretFinding[];
  /** A task asked a person (input_requested): the attempt ends and the job waits for the answer. */
  inputRequested: { task: string; question: string } | null;
}

export interface RunnerEventRecorder {
  readonly report: RunnerReport;
  onEvent: (raw: RunnerEvent) => Promise<void>;
  onLog: (line: string) => Promise<void>;
}

/**
 * Turns every runner event into stored and published job events, charging usage as it arrives and
 * storing artifacts; keeps the result, the runner's error, check results and leaked secrets for the
 * outcome. Nothing is recorded or charged after the attempt was stopped.
 */
export function createRunnerEventRecorder(ctx: {
  services: Services;
  store: ArtifactStore;
  attempt: StartedAttempt;
  eventLog: AttemptEventLog;
  stop: AttemptStop;
  traces: ReturnType<typeof createAttemptTraces>;
}): RunnerEventRecorder {
  const { services, attempt, eventLog, stop } = ctx;
  const { metrics } = services;
  const report: RunnerReport = {
    result: null,
    runnerError: null,
    runnerErrorDetail: undefined,
    checks: [],
    leaks: [],
    inputRequested: null,
  };
  // The workspace's base commit (agent runtime): a checkpoint then needs its patch to be resumable.
  let baseCommit: string | null = null;
  const append = eventLog.append;
  const liveText = createLiveTextRedaction();
  const publishLive = (task: string, agent: string | undefined, step: number, live: LiveDelta | null) =>
    live &&
    services.output.publish({
      jobId: attempt.jobId,
      attemptNumber: attempt.number,
      task,
      agent: agent ?? null,
      step,
      offset: live.offset,
      text: live.text,
      at: Date.now(),
    });

  const onEvent = async (raw: RunnerEvent): Promise<void> => {
    if (stop.signal.aborted) return; // nothing is recorded or charged after a stop
    // Secrets are removed before anything is stored, charged, published or traced.
    const { event, leaks } = redactRunnerEvent(raw);
    report.leaks.push(...leaks);
    metrics.runnerEvents.inc({ type: event.type });
    ctx.traces.record(event);
    switch (event.type) {
      case 'log':
        return append({
          type: 'LOG',
          message: event.message,
          data: { level: event.level, agent: event.agent, task: event.task },
          actor: event.agent ?? 'runner',
        });
      case 'task_started':
        return append({
          type: 'TASK_STARTED',
          message: `Task ${event.task} started by ${event.agent} (${event.index + 1}/${event.total})`,
          data: { task: event.task, agent: event.agent, index: event.index, total: event.total },
          actor: event.agent,
        });
      case 'task_completed':
        // The task's events first (a resumed attempt skips a checkpointed task: what it reported must
        // be stored by then), then the checkpoint and TASK_COMPLETED in one statement: a task
        // reported done is one no later attempt runs (or pays for) again.
        await eventLog.settle();
        if (stop.signal.aborted) return;
        return eventLog.appendWith(
          {
            type: 'TASK_COMPLETED',
            message: `Task ${event.task} completed`,
            data: {
              task: event.task,
              agent: event.agent,
              output: event.output.slice(0, TASK_OUTPUT_IN_EVENT),
              truncated: event.output.length > TASK_OUTPUT_IN_EVENT,
              ...(event.commit ? { commit: event.commit } : {}),
            },
            actor: event.agent,
          },
          (params) =>
            checkpointInsert(
              {
                jobId: attempt.jobId,
                attemptId: attempt.attemptId,
                attemptNumber: attempt.number,
                crew: attempt.spec.crew,
                task: event.task,
                output: event.output,
                baseCommit,
                commit: event.commit,
                patch: event.patch,
                patchOmitted: event.patchOmitted,
                workspace: baseCommit !== null,
              },
              params,
            ),
        );
      case 'text_delta':
        // Live only: published to jobOutput subscribers, never stored (the step's message is). The
        // step's raw text is redacted whole as it grows, so a secret split across deltas is caught.
        if (raw.type !== 'text_delta') return;
        await publishLive(event.task, event.agent, event.step, liveText.delta(raw.task, raw.step, raw.offset, raw.text));
        return;
      case 'message':
        if (raw.type === 'message') await publishLive(event.task, event.agent, event.step, liveText.end(raw.task, raw.step, event.text));
        return append({
          type: 'MESSAGE',
          message: event.text,
          data: { task: event.task, agent: event.agent ?? null, step: event.step },
          actor: event.agent ?? 'runner',
        });
      case 'input_requested':
        report.inputRequested = { task: event.task, question: event.question };
        return;
      case 'usage': {
        const usage: UsageCharge = {
          jobId: attempt.jobId,
          attemptId: attempt.attemptId,
          attemptNumber: attempt.number,
          model: event.model,
          inputTokens: event.inputTokens,
          outputTokens: event.outputTokens,
          task: event.task,
        };
        // The events queued before it are stored in the charge's statement, with the seqs before
        // USAGE's: no statement of their own.
        const before = await eventLog.take();
        if (stop.signal.aborted) {
          eventLog.giveBack(before); // stored when the log closes
          return; // the events stored just now reached the cap
        }
        // A failure whose outcome is unknown (the connection lost: the COMMIT sent with the statement
        // may have run) is not retried; the handler fails, as a failed write of the log does.
        let charged: ChargeResult | null = before.length
          ? await chargeUsage(services, { ...usage, before, maxEvents: eventLog.maxEvents }).catch((err: unknown) => {
              if (rolledBack(err)) return null;
              throw err;
            })
          : await chargeUsage(services, usage);
        if (charged === null || (!charged.ok && before.length > 0)) {
          // It stored nothing (failed in PostgreSQL, or refused): the events on their own first, as if
          // they had been settled before it; then the charge alone, unless it was refused for a reason
          // of its own (a refusal over the event cap was the events').
          eventLog.giveBack(before);
          await eventLog.settle();
          if (stop.signal.aborted) return; // the events stored just now reached the cap
          if (charged === null || charged.code === 'EVENT_LIMIT_REACHED') charged = await chargeUsage(services, usage);
        }
        if (charged.ok) return;
        if (charged.code === 'BUDGET_EXCEEDED') stop.halt({ kind: 'budget', message: charged.message });
        else if (charged.code === 'ATTEMPT_NOT_RUNNING') stop.halt({ kind: 'lost' });
        else stop.halt({ kind: 'refused', code: charged.code, message: charged.message });
        return;
      }
      case 'artifact': {
        const body = Buffer.from(event.content, event.encoding === 'base64' ? 'base64' : 'utf8');
        await eventLog.settle(); // the ARTIFACT event takes its seq in the artifact's transaction
        if (stop.signal.aborted) return; // the events stored just now reached the cap
        try {
          await storeArtifact(services, ctx.store, attempt, {
            path: path.posix.normalize(event.path),
            contentType: event.contentType,
            body,
          });
        } catch (err) {
          stop.halt({
            kind: 'refused',
            code: err instanceof ArtifactLimitReached ? err.code : 'ARTIFACT_REFUSED',
            message: (err as Error).message,
          });
        }
        return;
      }
      case 'result':
        report.result = { output: event.output };
        return;
      case 'error':
        report.runnerError = { code: event.code, message: event.message, retryable: event.retryable };
        report.runnerErrorDetail = event.detail;
        return;
      case 'tool_call':
        return append({
          type: 'TOOL_CALL',
          message: `${event.tool} ${event.args.slice(0, 200)}`,
          data: payloadOf(event),
          actor: event.agent ?? 'runner',
        });
      case 'tool_result': {
        const message = `${event.tool} ${event.ok ? 'answered' : 'failed'} in ${event.durationMs} ms`;
        return append({ type: 'TOOL_RESULT', message, data: payloadOf(event), actor: event.agent ?? 'runner' });
      }
      case 'workspace':
        baseCommit = event.baseCommit;
        await services.pool.query(`UPDATE "JobAttempt" SET "baseCommit" = $2 WHERE id = $1`, [attempt.attemptId, event.baseCommit]);
        return append({
          type: 'LOG',
          message: `Workspace at base commit ${event.baseCommit}`,
          data: { level: 'info', baseCommit: event.baseCommit },
          actor: 'runner',
        });
      case 'check_result': {
        report.checks.push(checkGuardrail(event));
        const how = event.passed ? 'passed' : event.timedOut ? 'timed out' : `failed (exit ${event.exitCode})`;
        return append({
          type: 'LOG',
          message: `Check ${event.name} ${how} in ${event.durationMs} ms`,
          data: { level: event.passed ? 'info' : 'warn', check: payloadOf(event) },
          actor: 'checks',
        });
      }
      default: {
        // A protocol event type this switch does not store would be dropped silently: tsc stops that here.
        const unhandled: never = event;
        return unhandled;
      }
    }
  };

  return {
    report,
    onEvent,
    async onLog(line) {
      metrics.runnerEvents.inc({ type: 'plain' });
      if (stop.signal.aborted) return;
      await eventLog.pushLine(line);
    },
  };
}

/**
 * The error is PostgreSQL's own, raised by a statement or by its COMMIT (not a lost or refused
 * connection): the transaction did not commit.
 */
function rolledBack(err: unknown): boolean {
  return err instanceof pg.DatabaseError && classifyDbError(err) !== 'unavailable';
}

/** An event's fields without the protocol's envelope (`v`, `type`): what its job event keeps as data. */
function payloadOf<E extends { v: unknown; type: unknown }>(event: E): Omit<E, 'v' | 'type'> {
  const data: Partial<E> = { ...event };
  delete data.v;
  delete data.type;
  return data as Omit<E, 'v' | 'type'>;
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
