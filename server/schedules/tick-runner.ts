import { Logger as WorkerLogger, run } from 'graphile-worker';
import type { Services } from '../services.ts';
import { SCHEDULE_TICK_TASK, type TickPayload } from './enqueue-tick.ts';
import { runScheduleTick } from './run-tick.ts';

/**
 * A graphile-worker runner of its own for schedule ticks: a runner claims only the tasks it knows, so
 * ticks never wait behind crews that hold every slot of the attempt runner.
 */
export async function startTickRunner(services: Services): Promise<{ stop(): Promise<void> }> {
  const log = services.log;
  const logger = new WorkerLogger((scope) => (level, message, meta) => {
    if (level === 'error' || level === 'warning')
      log.warn(`graphile-worker (schedules): ${message}`, { scope: scope.label, ...(meta as object) });
  });
  const runner = await run({
    pgPool: services.pool,
    concurrency: 2,
    noHandleSignals: true,
    pollInterval: 1000,
    logger,
    taskList: {
      [SCHEDULE_TICK_TASK]: (payload) => runScheduleTick(services, payload as TickPayload),
    },
  });
  return { stop: () => runner.stop() };
}
