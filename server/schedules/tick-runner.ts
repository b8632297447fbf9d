import { EventEmitter } from 'node:events';
import { Logger as WorkerLogger, run, type WorkerEvents } from 'graphile-worker';
import type { Services } from '../services.ts';
import { SCHEDULE_TICK_TASK, type TickPayload } from './enqueue-tick.ts';
import { runScheduleTick } from './run-tick.ts';

/**
 * A graphile-worker runner of its own for schedule ticks: a runner claims only the tasks it knows, so
 * ticks never wait behind crews that hold every slot of the attempt runner.
 *
 * It does not listen for new queue entries: graphile-worker notifies every runner of every entry
 * added (`jobs:insert`, with no task name), and each notification sent an idle tick worker to look
 * for a tick (a get_job statement per job created, per worker process). A tick is queued for its
 * time ahead (enqueue-tick.ts), which the runner's poll (every second) finds, notified or not.
 */
export async function startTickRunner(services: Services): Promise<{ stop(): Promise<void> }> {
  const log = services.log;
  const logger = new WorkerLogger((scope) => (level, message, meta) => {
    if (level === 'error' || level === 'warning')
      log.warn(`graphile-worker (schedules): ${message}`, { scope: scope.label, ...(meta as object) });
  });
  const events: WorkerEvents = new EventEmitter();
  // The runner's LISTEN client; a reconnection emits this again. In the next tick: graphile-worker
  // emits it just before it queues its LISTEN, which would undo an UNLISTEN queued first. The
  // client keeps listening for "worker:migrate".
  events.on('pool:listen:success', ({ client }) => {
    process.nextTick(() => {
      client.query('UNLISTEN "jobs:insert"').catch(() => {}); // a failed connection is graphile-worker's to replace
    });
  });
  const runner = await run({
    pgPool: services.pool,
    events,
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
