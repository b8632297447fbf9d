import { roundsToZero } from './money.ts';
import type pg from 'pg';
import { badInput } from '../errors.ts';
import { withTransaction } from '../db/transaction.ts';
import { lockBudgetExclusively } from './budget-lock.ts';
import type { BudgetPeriod } from '../db/generated/enums.ts';

// prisma/schema.prisma's `BudgetPeriod` enum.
export type { BudgetPeriod };

/**
 * Sets the project's budget. The spend of the (new) current period is recomputed from the usage
 * records, so changing the period or the limit never loses or invents spend. The recount runs under
 * the project's budget lock held exclusively (see budget-lock.ts), as a statement of its own: its
 * snapshot then includes every charge that was in flight, and no charge commits until it is written.
 */
export async function setBudget(pool: pg.Pool, req: { projectId: string; limitUsd: number; period: BudgetPeriod }): Promise<string> {
  if (!Number.isFinite(req.limitUsd) || req.limitUsd < 0 || req.limitUsd > 1e9) {
    throw badInput('`limitUsd` must be an amount between 0 and 1,000,000,000 USD.', { field: 'limitUsd' });
  }
  // Kept to 8 decimal places: a smaller positive limit would be stored as 0, which refuses every job.
  if (roundsToZero(req.limitUsd)) {
    throw badInput('`limitUsd` is kept to 8 decimal places: give 0 (no spending at all) or at least 0.00000001 USD.', {
      field: 'limitUsd',
    });
  }
  return withTransaction(pool, async (sql) => {
    await lockBudgetExclusively(sql, req.projectId);
    const { rows } = await sql.query<{ id: string }>(
      `WITH period AS (
         SELECT CASE $3::"BudgetPeriod" WHEN 'TOTAL' THEN '-infinity'::timestamptz
                                         WHEN 'DAILY' THEN date_trunc('day', now())
                                         ELSE date_trunc('month', now()) END AS start
       ), spent AS (
         SELECT COALESCE(SUM(u."costUsd"), 0) AS total FROM "UsageRecord" u, period WHERE u."projectId" = $1 AND u."createdAt" >= period.start
       )
       INSERT INTO "Budget" (id, "projectId", "limitUsd", period, "spentUsd", "periodStart", "notifiedThreshold")
       SELECT gen_random_uuid(), $1, $2, $3, spent.total, CASE WHEN $3 = 'TOTAL' THEN now() ELSE period.start END, 0 FROM spent, period
       ON CONFLICT ("projectId") DO UPDATE SET "limitUsd" = EXCLUDED."limitUsd", period = EXCLUDED.period,
         "spentUsd" = EXCLUDED."spentUsd", "periodStart" = EXCLUDED."periodStart",
         "notifiedThreshold" = CASE WHEN EXCLUDED."limitUsd" = "Budget"."limitUsd" AND EXCLUDED.period = "Budget".period
                                    THEN "Budget"."notifiedThreshold" ELSE 0 END,
         "updatedAt" = now()
       RETURNING id`,
      [req.projectId, req.limitUsd, req.period],
    );
    return rows[0].id;
  });
}
