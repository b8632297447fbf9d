import { SpanStatusCode } from '@opentelemetry/api';
import type { JobState } from '../../jobs/state-machine.ts';
import { createAttemptTraces } from '../../observability/attempt-traces.ts';
import type { Services } from '../../services.ts';
import type { AttemptOutcome } from '../finish-attempt.ts';
import type { StartedAttempt } from '../start-attempt.ts';

export interface AttemptTelemetry {
  /** Child spans rebuilt from the runner's events. */
  traces: ReturnType<typeof createAttemptTraces>;
  /** Logs, counts, times and ends the attempt's span; `outcome` null: the attempt was lost. */
  finish(outcome: AttemptOutcome | null, state: JobState | null, runnerErrorDetail: string | undefined): void;
}

/** The attempt's log lines, metrics and trace span, from its start to its outcome. */
export function startAttemptTelemetry(
  deps: Pick<Services, 'log' | 'metrics' | 'tracer'>,
  attempt: StartedAttempt,
  worker: { workerId: string; executor: string },
): AttemptTelemetry {
  const { metrics, tracer } = deps;
  metrics.attemptsStarted.inc();
  const startedAt = Date.now();
  const span = tracer.startSpan('attempt', {
    attributes: {
      'autodev.job.id': attempt.jobId,
      'autodev.attempt.number': attempt.number,
      'autodev.template': attempt.spec.slug,
      'autodev.executor': worker.executor,
    },
  });
  const traces = createAttemptTraces(tracer, span);
  const log = deps.log.child({ jobId: attempt.jobId, attempt: attempt.number, workerId: worker.workerId });
  log.info('attempt started', { template: attempt.spec.slug });
  return {
    traces,
    finish(outcome, state, runnerErrorDetail) {
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
      if (outcome?.kind === 'failed')
        span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.code}: ${outcome.message}`.slice(0, 500) });
      span.end();
    },
  };
}
