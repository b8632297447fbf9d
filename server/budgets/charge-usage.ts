import type pg from 'pg';
import { withTransaction, type Sql } from '../db/transaction.ts';
import { lockBudgetForCharge } from './budget-lock.ts';
import { appendJobEvent, type JobEventRecord } from '../jobs/job-event.ts';
import type { JobEventBus } from '../jobs/job-event-bus.ts';
import { queueWebhookDeliveries } from '../webhooks/webhook-events.ts';

export const SPEND_THRESHOLDS = [80, 100] as const;

export interface UsageCharge {
  jobId: string;
  attemptId?: string | null;
  attemptNumber?: number | null;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** The crew task the call served (recorded, so a task's checkpoint knows what it cost). */
  task?: string | null;
}

export type ChargeResult =
  | { ok: true; costUsd: number; jobCostUsd: number; events: JobEventRecord[] }
  | { ok: false; code: 'BUDGET_EXCEEDED'; scope: 'project' | 'job'; costUsd: number; message: string }
  | { ok: false; code: 'UNKNOWN_MODEL' | 'INVALID_USAGE' | 'ATTEMPT_NOT_RUNNING'; message: string };

class Refused extends Error {
  constructor(readonly result: ChargeResult & { ok: false }) {
    super(result.message);
  }
}

// The budget's spend in its current period: a period that has ended starts again from zero.
export const ROLLED_OVER = `(b.period <> 'TOTAL' AND b."periodStart" < date_trunc(CASE b.period WHEN 'DAILY' THEN 'day' ELSE 'month' END, now()))`;
export const PERIOD_SPENT = `(CASE WHEN ${ROLLED_OVER} THEN 0 ELSE b."spentUsd" END)`;

/**
 * Charges one usage report. The project budget and the job's own limit are each charged with one
 * conditional update (the row lock makes concurrent charges queue, and the condition is re-checked
 * after the wait), in one transaction with the usage record and the USAGE event: a charge that would
 * cross either limit is refused whole and leaves nothing behind.
 */
export async function chargeUsage(deps: { pool: pg.Pool; events: JobEventBus }, charge: UsageCharge): Promise<ChargeResult> {
  if (![charge.inputTokens, charge.outputTokens].every((n) => Number.isInteger(n) && n >= 0 && n <= 100_000_000)) {
    return { ok: false, code: 'INVALID_USAGE', message: 'Token counts must be whole numbers between 0 and 100,000,000.' };
  }
  try {
    const result = await withTransaction(deps.pool, (sql) => chargeInTransaction(sql, charge));
    await deps.events.publish(result.events);
    return result;
  } catch (err) {
    if (err instanceof Refused) return err.result;
    throw err;
  }
}

async function chargeInTransaction(sql: Sql, charge: UsageCharge): Promise<ChargeResult & { ok: true }> {
  const price = await sql.query<{ cost: number }>(
    `SELECT round(($2::numeric * "inputUsdPerMillion" + $3::numeric * "outputUsdPerMillion") / 1000000, 8) AS cost
     FROM "ModelPrice" WHERE model = $1`,
    [charge.model, charge.inputTokens, charge.outputTokens],
  );
  if (price.rows.length === 0) {
    throw new Refused({
      ok: false,
      code: 'UNKNOWN_MODEL',
      message: `There is no price for model \`${charge.model}\`, so its usage cannot be charged.`,
    });
  }
  const cost = price.rows[0].cost;
  const job = await sql.query<{ projectId: string }>(`SELECT "projectId" FROM "Job" WHERE id = $1`, [charge.jobId]);
  if (job.rows.length === 0) throw new Error(`job ${charge.jobId} not found`);
  const projectId = job.rows[0].projectId;

  // Lock order everywhere: the budget lock (shared), Budget, then Job.
  await lockBudgetForCharge(sql, projectId);
  const budget = await sql.query<{ spentUsd: number; limitUsd: number; notifiedThreshold: number }>(
    `UPDATE "Budget" b SET
       "spentUsd" = ${PERIOD_SPENT} + $2::numeric,
       "notifiedThreshold" = CASE WHEN ${ROLLED_OVER} THEN 0 ELSE b."notifiedThreshold" END,
       "periodStart" = CASE WHEN ${ROLLED_OVER} THEN date_trunc(CASE b.period WHEN 'DAILY' THEN 'day' ELSE 'month' END, now()) ELSE b."periodStart" END,
       "updatedAt" = now()
     WHERE b."projectId" = $1 AND ${PERIOD_SPENT} + $2::numeric <= b."limitUsd"
     RETURNING "spentUsd", "limitUsd", "notifiedThreshold"`,
    [projectId, cost],
  );
  if (budget.rows.length === 0) {
    const exists = await sql.query(`SELECT 1 FROM "Budget" WHERE "projectId" = $1`, [projectId]);
    if (exists.rows.length > 0) {
      throw new Refused({
        ok: false,
        code: 'BUDGET_EXCEEDED',
        scope: 'project',
        costUsd: cost,
        message: `Charging $${cost} for ${charge.model} would exceed the project's budget.`,
      });
    }
  }
  const updatedJob = await sql.query<{ costUsd: number }>(
    `UPDATE "Job" SET "costUsd" = "costUsd" + $2::numeric, "updatedAt" = now()
     WHERE id = $1 AND ("maxCostUsd" IS NULL OR "costUsd" + $2::numeric <= "maxCostUsd")
     RETURNING "costUsd"`,
    [charge.jobId, cost],
  );
  if (updatedJob.rows.length === 0) {
    throw new Refused({
      ok: false,
      code: 'BUDGET_EXCEEDED',
      scope: 'job',
      costUsd: cost,
      message: `Charging $${cost} for ${charge.model} would exceed the job's maxCostUsd.`,
    });
  }
  if (charge.attemptId) {
    // Only a live attempt may spend: a lost or finished attempt's late reports are refused.
    const attempt = await sql.query(
      `UPDATE "JobAttempt" SET "costUsd" = "costUsd" + $2::numeric, "inputTokens" = "inputTokens" + $3, "outputTokens" = "outputTokens" + $4
       WHERE id = $1 AND state = 'RUNNING'`,
      [charge.attemptId, cost, charge.inputTokens, charge.outputTokens],
    );
    if (attempt.rowCount === 0) {
      throw new Refused({ ok: false, code: 'ATTEMPT_NOT_RUNNING', message: 'The attempt is no longer running; its usage is not charged.' });
    }
  }
  await sql.query(
    `INSERT INTO "UsageRecord" (id, "projectId", "jobId", "attemptId", model, "inputTokens", "outputTokens", "costUsd", task)
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8)`,
    [projectId, charge.jobId, charge.attemptId ?? null, charge.model, charge.inputTokens, charge.outputTokens, cost, charge.task ?? null],
  );
  const jobCostUsd = updatedJob.rows[0].costUsd;
  const b = budget.rows[0];
  const events = [
    await appendJobEvent(sql, charge.jobId, {
      type: 'USAGE',
      message: `${charge.model}: ${charge.inputTokens} in / ${charge.outputTokens} out tokens, $${cost}`,
      data: {
        model: charge.model,
        inputTokens: charge.inputTokens,
        outputTokens: charge.outputTokens,
        ...(charge.task ? { task: charge.task } : {}),
        costUsd: cost,
        jobCostUsd,
        ...(b ? { projectSpentUsd: b.spentUsd, projectLimitUsd: b.limitUsd } : {}),
      },
      actor: 'budget',
      attemptNumber: charge.attemptNumber,
    }),
  ];
  if (b && b.limitUsd > 0) {
    const percent = (b.spentUsd / b.limitUsd) * 100;
    const crossed = SPEND_THRESHOLDS.filter((t) => percent >= t && t > b.notifiedThreshold).pop();
    if (crossed !== undefined) {
      // Guarded so that concurrent charges announce each threshold once.
      const claimed = await sql.query(`UPDATE "Budget" SET "notifiedThreshold" = $2 WHERE "projectId" = $1 AND "notifiedThreshold" < $2`, [
        projectId,
        crossed,
      ]);
      if (claimed.rowCount) {
        events.push(
          await appendJobEvent(sql, charge.jobId, {
            type: 'BUDGET_THRESHOLD',
            message: `Project budget ${crossed}% spent ($${b.spentUsd} of $${b.limitUsd})`,
            data: { threshold: crossed, spentUsd: b.spentUsd, limitUsd: b.limitUsd },
            actor: 'budget',
            attemptNumber: charge.attemptNumber,
          }),
        );
        await queueWebhookDeliveries(sql, projectId, [
          {
            type: 'BUDGET_THRESHOLD',
            data: { projectId, threshold: crossed, spentUsd: b.spentUsd, limitUsd: b.limitUsd, jobId: charge.jobId },
          },
        ]);
      }
    }
  }
  return { ok: true, costUsd: cost, jobCostUsd, events };
}
