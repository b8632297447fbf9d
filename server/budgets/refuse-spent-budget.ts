import type pg from 'pg';
import { AppError } from '../errors.ts';
import { usd } from './money.ts';
import { PERIOD_SPENT } from './charge-usage.ts';

/**
 * BUDGET_EXCEEDED when the project's budget has nothing left in its current period: a job created
 * now could not be charged for a single model call, so it is refused before it is queued rather
 * than run and stopped. Null when the project may spend (or has no budget).
 */
export async function spentBudgetRefusal(pool: pg.Pool, projectId: string): Promise<AppError | null> {
  const { rows } = await pool.query<{ period: string; limit: string; spent: string; resets: Date | null }>(
    `SELECT b.period, b."limitUsd"::text AS limit, ${PERIOD_SPENT}::text AS spent,
            CASE b.period WHEN 'DAILY' THEN date_trunc('day', now()) + interval '1 day'
                          WHEN 'MONTHLY' THEN date_trunc('month', now()) + interval '1 month' END AS resets
       FROM "Budget" b WHERE b."projectId" = $1 AND ${PERIOD_SPENT} >= b."limitUsd"`,
    [projectId],
  );
  const b = rows[0];
  if (!b) return null;
  const period = b.period === 'TOTAL' ? 'total' : b.period.toLowerCase();
  const when = b.resets ? ` It starts again at ${b.resets.toISOString()}.` : '';
  return new AppError(
    'BUDGET_EXCEEDED',
    `The project's ${period} budget is spent ($${usd(b.spent)} of $${usd(b.limit)}), so the job would be stopped at its first model call; it was not created. An admin can raise the limit with setBudget.${when}`,
    { limitUsd: usd(b.limit), spentUsd: usd(b.spent) },
  );
}
