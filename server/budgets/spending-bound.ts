import type pg from 'pg';
import { formatUnits, toUnits } from './money.ts';
import { PRICES_OF, priceMap, type PriceRow } from './model-prices.ts';
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

/** The columns SPENDING_BOUND_COLUMNS reads. */
export interface SpendingBoundRow {
  boundJob: string | null;
  boundProject: string | null;
  boundPrices: PriceRow[];
}

/**
 * SQL of the columns the bound is made of, for a statement over the job's row `job` (an alias)
 * that reads more (the claim reads them with the job it starts): what is left of both limits, and
 * `prices` (SQL of PRICES_OF's JSON array for the models the runner will call).
 */
export const SPENDING_BOUND_COLUMNS = (job: string, prices: string) =>
  `CASE WHEN ${job}."maxCostUsd" IS NULL THEN NULL ELSE (${job}."maxCostUsd" - ${job}."costUsd")::text END AS "boundJob",
   (SELECT (b."limitUsd" - ${PERIOD_SPENT})::text FROM "Budget" b WHERE b."projectId" = ${job}."projectId") AS "boundProject",
   ${prices} AS "boundPrices"`;

/** The bound from SPENDING_BOUND_COLUMNS' row (none: no limit, no prices). */
export function spendingBoundOf(row: SpendingBoundRow | undefined): SpendingBound {
  const limits = [row?.boundJob, row?.boundProject].filter((v): v is string => v !== null && v !== undefined).map(toUnits);
  const smallest = limits.length ? limits.reduce((a, b) => (b < a ? b : a)) : null;
  return {
    remainingUsd: smallest === null ? null : formatUnits(smallest > 0n ? smallest : 0n),
    prices: Object.fromEntries(row ? priceMap(row.boundPrices) : []),
  };
}

/** The bound of a job for the given models, in one statement of its own. */
export async function spendingBound(pool: pg.Pool, jobId: string, models: string[]): Promise<SpendingBound> {
  const { rows } = await pool.query<SpendingBoundRow>(
    `SELECT ${SPENDING_BOUND_COLUMNS('j', PRICES_OF('$2::text[]'))} FROM "Job" j WHERE j.id = $1`,
    [jobId, [...new Set(models)]],
  );
  return spendingBoundOf(rows[0]);
}
