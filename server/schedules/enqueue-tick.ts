import type { Sql } from '../db/transaction.ts';

export const SCHEDULE_TICK_TASK = 'scheduleTick';

export interface TickPayload {
  scheduleId: string;
  /** The tick's time (ISO). */
  at: string;
  /** The schedule's version the tick was computed from: a tick of an older version does not queue the next. */
  version: number;
}

const tickKey = (scheduleId: string) => `schedule:${scheduleId}`;

/**
 * Queues the schedule's next tick in the caller's transaction. The job_key makes it the schedule's
 * only pending tick: adding again replaces it (a tick under way keeps running, unkeyed).
 * Retries are graphile-worker's (a tick is idempotent), hence its default max_attempts.
 */
export async function enqueueTick(sql: Sql, tick: TickPayload): Promise<void> {
  await sql.query(`SELECT graphile_worker.add_job($1, $2::json, run_at := $3::timestamptz, job_key := $4, job_key_mode := 'replace')`, [
    SCHEDULE_TICK_TASK,
    JSON.stringify(tick),
    tick.at,
    tickKey(tick.scheduleId),
  ]);
}

/** Removes the schedule's pending tick (paused or deleted); a tick under way finishes but queues no next one. */
export async function removeTick(sql: Sql, scheduleId: string): Promise<void> {
  await sql.query(`SELECT graphile_worker.remove_job($1)`, [tickKey(scheduleId)]);
}
