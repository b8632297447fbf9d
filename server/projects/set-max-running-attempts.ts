import type pg from 'pg';
import { badInput } from '../errors.ts';
import { withTransaction } from '../db/transaction.ts';
import { wakeWaitingJobs } from '../engine/project-slots.ts';

export const MAX_RUNNING_ATTEMPTS_CAP = 1000;

/**
 * Sets how many attempts of the project may run at once across all workers (null: the operator's
 * default). The update takes the project's row lock that claims and releases take
 * (engine/project-slots.ts), and a raised limit gives its new slots to waiting jobs in the same
 * transaction. A lowered limit stops no running attempt: new claims wait until the count is below it.
 */
export async function setMaxRunningAttempts(
  pool: pg.Pool,
  req: { projectId: string; maxRunningAttempts: number | null; defaultMaxRunning: number | null },
): Promise<void> {
  const n = req.maxRunningAttempts;
  if (n !== null && (!Number.isInteger(n) || n < 1 || n > MAX_RUNNING_ATTEMPTS_CAP)) {
    throw badInput(
      `\`maxRunningAttempts\` must be a whole number from 1 to ${MAX_RUNNING_ATTEMPTS_CAP}, or null for the operator's default.`,
      {
        field: 'maxRunningAttempts',
      },
    );
  }
  await withTransaction(pool, async (sql) => {
    await sql.query(`UPDATE "Project" SET "maxRunningAttempts" = $2 WHERE id = $1`, [req.projectId, n]);
    await wakeWaitingJobs(sql, req.projectId, req.defaultMaxRunning);
  });
}
