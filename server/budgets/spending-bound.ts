import type pg from 'pg';
import { formatUnits, toUnits } from './money.ts';
import { PRICES_OF, priceMap } from './model-prices.ts';
import { PERIOD_SPENT } from './charge-usage.ts';

/**
 * What a runner may spend, read at attempt start and put into its spec: the smaller of what is left
 * of the job's maxCostUsd and of the project's budget in its current period, with the prices the
 * charges use. Only an early stop for the runner (amounts are exact decimal strings): concurrent
 * jobs share the project budget, so chargeUsage's atomic charge stays the one that decides.
 */
export interface SpendingBound {
  /** Null when neither the job nor the project has a limit. */
  remainingUsd: string | null;
  /** USD per million tokens, for the models the crew uses that have a price. */
  prices: Record<string, { inputUsdPerMillion: string; outputUsdPerMillion: string }>;
}

export async function spendingBound(pool: pg.Pool, jobId: string, models: string[]): Promise<SpendingBound> {
  // What is left of both limits and the prices, in one statement.
  const left = await pool.query<{ job: string | null; project: string | null; prices: Parameters<typeof priceMap>[0] }>(
    `SELECT CASE WHEN j."maxCostUsd" IS NULL THEN NULL ELSE (j."maxCostUsd" - j."costUsd")::text END AS job,
            (SELECT (b."limitUsd" - ${PERIOD_SPENT})::text FROM "Budget" b WHERE b."projectId" = j."projectId") AS project,
            ${PRICES_OF('$2::text[]')} AS prices
       FROM "Job" j WHERE j.id = $1`,
    [jobId, [...new Set(models)]],
  );
  const limits = [left.rows[0]?.job, left.rows[0]?.project].filter((v): v is string => v !== null && v !== undefined).map(toUnits);
  const smallest = limits.length ? limits.reduce((a, b) => (b < a ? b : a)) : null;
  return {
    remainingUsd: smallest === null ? null : formatUnits(smallest > 0n ? smallest : 0n),
    prices: Object.fromEntries(left.rows[0] ? priceMap(left.rows[0].prices) : []),
  };
}
