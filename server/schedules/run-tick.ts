import type pg from 'pg';
import { withTransaction } from '../db/transaction.ts';
import { AppError } from '../errors.ts';
import { createJob } from '../intake/create-job.ts';
import type { JobEventBus } from '../jobs/job-event-bus.ts';
import { nextTick, tickToRun } from './cron.ts';
import { enqueueTick, type TickPayload } from './enqueue-tick.ts';

/** The job's idempotency key: the tick itself, so a tick run twice (a retry, a duplicate) makes one job. */
export const tickIdempotencyKey = (scheduleId: string, at: Date) => `schedule:${scheduleId}:${at.toISOString()}`;

interface ScheduleRow {
  projectId: string;
  slug: string;
  input: unknown;
  cron: string;
  timezone: string;
  paused: boolean;
  version: number;
  createdById: string | null;
}

/**
 * Runs one tick of a schedule (the graphile-worker task): creates the tick's job through createJob
 * (budgets, guardrails, events and the queue apply as for any job), records the tick, and queues the
 * next one, in one transaction under the schedule's row lock. Safe to run twice for the same tick:
 * the job's idempotency key and the tick's primary key are the tick. A job refused (budget spent, input no longer valid) is recorded with its reason;
 * any other failure throws and graphile-worker retries the tick.
 */
export async function runScheduleTick(
  deps: { pool: pg.Pool; events: JobEventBus; config?: Parameters<typeof createJob>[0]['config'] },
  tick: TickPayload,
): Promise<void> {
  await withTransaction(deps.pool, async (tx) => {
    // The schedule's row lock is held for the whole tick: a pause, update or delete either committed
    // before (seen here) or waits until this tick is recorded, so once it returns no tick of the old
    // settings makes a job.
    const { rows } = await tx.query<ScheduleRow>(
      `SELECT s."projectId", t.slug, s.input, s.cron, s.timezone, s.paused, s.version, s."createdById"
       FROM "Schedule" s JOIN "Template" t ON t.id = s."templateId" WHERE s.id = $1 FOR UPDATE OF s`,
      [tick.scheduleId],
    );
    const s = rows[0];
    // Deleted, paused or changed since this tick was queued: that change removed or replaced the pending tick.
    if (!s || s.paused || s.version !== tick.version) return;
    const { at, skipped } = tickToRun(s.cron, s.timezone, new Date(tick.at), new Date());
    let jobId: string | null = null;
    let error: string | null = null;
    try {
      ({ jobId } = await createJob(deps, {
        projectId: s.projectId,
        templateSlug: s.slug,
        input: s.input,
        idempotencyKey: tickIdempotencyKey(tick.scheduleId, at),
        createdById: s.createdById,
        createdBy: `schedule ${tick.scheduleId}`,
      }));
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      error = `${err.code}: ${err.message}`;
    }
    const recorded = await tx.query(
      `INSERT INTO "ScheduleTick" ("scheduleId", "scheduledAt", "jobId", skipped, error) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ("scheduleId", "scheduledAt") DO NOTHING`,
      [tick.scheduleId, at, jobId, skipped, error],
    );
    const next = nextTick(s.cron, s.timezone, at);
    if (next) await enqueueTick(tx, { scheduleId: tick.scheduleId, at: next.toISOString(), version: s.version });
    await tx.query(
      `UPDATE "Schedule" SET "nextRunAt" = $2, "lastTickAt" = CASE WHEN $4 THEN $3 ELSE "lastTickAt" END,
              "skippedTicks" = "skippedTicks" + CASE WHEN $4 THEN $5 ELSE 0 END
       WHERE id = $1`,
      [tick.scheduleId, next, at, (recorded.rowCount ?? 0) > 0, skipped],
    );
  });
}
