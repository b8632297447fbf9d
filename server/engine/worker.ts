import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Logger as WorkerLogger, run } from 'graphile-worker';
import type { Services } from '../services.ts';
import type { ArtifactStore } from '../storage/artifact-store.ts';
import { RUN_ATTEMPT_TASK } from '../jobs/enqueue-run.ts';
import type { Executor } from './executor.ts';
import { recoverLostAttempts, requeueDeadClaims } from './recover-lost-attempts.ts';
import { expireInputWaits } from '../jobs/provide-input.ts';
import { runAttempt } from './run-attempt.ts';
import { sandboxAvailable } from '../runner/sandbox/sandbox-available.ts';
import { startTickRunner } from '../schedules/tick-runner.ts';
import { deliverWebhook } from '../webhooks/deliver-webhook.ts';
import { DELIVER_WEBHOOK_TASK } from '../webhooks/queue-delivery.ts';

export interface RunningWorker {
  workerId: string;
  stop(): Promise<void>;
}

/**
 * A graphile-worker pool running `runAttempt` tasks from the queue in Postgres, plus the sweep
 * that recovers attempts of workers that died. Stopping aborts running attempts (they go back to
 * the queue as retryable WORKER_SHUTDOWN failures) and waits for them to be recorded.
 */
export async function startWorker(services: Services, opts: { executor: Executor; store: ArtifactStore }): Promise<RunningWorker> {
  const workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const shutdown = new AbortController();
  const log = services.log;
  const logger = new WorkerLogger((scope) => (level, message, meta) => {
    if (level === 'error' || level === 'warning') log.warn(`graphile-worker: ${message}`, { scope: scope.label, ...(meta as object) });
  });
  const runner = await run({
    pgPool: services.pool,
    concurrency: services.config.workerConcurrency,
    noHandleSignals: true,
    pollInterval: 1000,
    logger,
    taskList: {
      [RUN_ATTEMPT_TASK]: async (payload) => {
        const { jobId } = payload as { jobId: string };
        await runAttempt({ services, executor: opts.executor, store: opts.store, workerId, shutdown: shutdown.signal }, jobId);
      },
      [DELIVER_WEBHOOK_TASK]: async (payload) => {
        await deliverWebhook(services, (payload as { deliveryId: string }).deliveryId);
      },
    },
  });
  const ticks = await startTickRunner(services);
  const running = async (ids: string[]) =>
    new Set(
      (
        await services.pool.query<{ id: string }>(`SELECT id FROM "JobAttempt" WHERE id = ANY($1::uuid[]) AND state = 'RUNNING'`, [ids])
      ).rows.map((r) => r.id),
    );
  const cleanup = () =>
    opts.executor
      .cleanupOrphans?.(running)
      .catch((err: unknown) => log.warn('runner cleanup failed', { error: err instanceof Error ? err.message : String(err) }));
  await cleanup();
  const sweep = setInterval(
    () => {
      void recoverLostAttempts(services, {
        leaseMs: services.config.attemptLeaseMs,
        retryBaseMs: services.config.retryBaseMs,
        defaultMaxRunning: services.config.projectMaxRunningAttempts,
      })
        .then((n) => n && log.warn('recovered lost attempts', { count: n }))
        .then(() => requeueDeadClaims(services, { leaseMs: services.config.attemptLeaseMs }))
        .then((n) => n && log.warn('requeued jobs whose queue entry was claimed by a worker that died before starting them', { count: n }))
        .then(() => expireInputWaits(services))
        .then((n) => n && log.info('ended waits for input that timed out', { count: n }))
        .catch((err: unknown) => log.warn('lost-attempt sweep failed', { error: String(err) }))
        .then(cleanup);
    },
    Math.max(250, Math.floor(services.config.attemptLeaseMs / 3)),
  );
  services.metrics.workerRunning.set(1);
  log.info('worker started', { workerId, concurrency: services.config.workerConcurrency, executor: opts.executor.name });
  // Runners of the local and inline executors run their commands on this machine: say at start
  // whether they can (each attempt that needs commands asks again and is refused without).
  if (opts.executor.name !== 'kubernetes') {
    void sandboxAvailable().then((sandbox) =>
      sandbox.ok
        ? log.info('sandbox available for commands and checks', { bubblewrap: sandbox.version })
        : log.warn('sandbox unavailable: crews that run commands or checks will fail SANDBOX_UNAVAILABLE', { reason: sandbox.reason }),
    );
  }
  return {
    workerId,
    async stop() {
      clearInterval(sweep);
      shutdown.abort();
      await Promise.all([runner.stop(), ticks.stop()]);
      services.metrics.workerRunning.set(0);
    },
  };
}
