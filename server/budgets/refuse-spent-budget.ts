import { AppError } from '../errors.ts';
import { usd } from './money.ts';
import { PERIOD_SPENT } from './charge-usage.ts';

/** A project's spent budget, as SPENT_BUDGET reads it. */
export interface SpentBudget {
  period: string;
  limit: string;
  spent: string;
  resets: string | null;
}

/** SQL of the project's budget (JSON) when it has nothing left in its current period, else null, for a statement that reads more. */
export const SPENT_BUDGET = (projectId: string) =>
  `(SELECT json_build_object('period', b.period, 'limit', b."limitUsd"::text, 'spent', ${PERIOD_SPENT}::text,
            'resets', CASE b.period WHEN 'DAILY' THEN date_trunc('day', now()) + interval '1 day'
                                    WHEN 'MONTHLY' THEN date_trunc('month', now()) + interval '1 month' END)
      FROM "Budget" b WHERE b."projectId" = ${projectId} AND ${PERIOD_SPENT} >= b."limitUsd")`;

/**
 * BUDGET_EXCEEDED when the project's budget has nothing left in its current period: a job created
 * now could not be charged for a single model call, so it is refused before it is queued rather
 * than run and stopped. Null when the project may spend (or has no budget): `b` is what SPENT_BUDGET read.
 */
export function spentBudgetError(b: SpentBudget | null): AppError | null {
  if (!b) return null;
  const period = b.period === 'TOTAL' ? 'total' : b.period.toLowerCase();
  const when = b.resets ? ` It starts again at ${new Date(b.resets).toISOString()}.` : '';
  return new AppError(
    'BUDGET_EXCEEDED',
    `The project's ${period} budget is spent ($${usd(b.spent)} of $${usd(b.limit)}), so the job would be stopped at its first model call; it was not created. An admin can raise the limit with setBudget.${when}`,
    { limitUsd: usd(b.limit), spentUsd: usd(b.spent) },
  );
}
