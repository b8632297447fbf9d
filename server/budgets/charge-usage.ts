import type pg from 'pg';
import { withTransaction, type Sql } from '../db/transaction.ts';
import { commitWithNext } from '../db/named-statements.ts';
import { refusalOf, refuseSql } from '../db/refusal.ts';
import { LOCK_BUDGET_FOR_CHARGE } from './budget-lock.ts';
import { appendJobEvent, insertEventsFrom, toEventRecord, type JobEventRecord, type NewJobEvent } from '../jobs/job-event.ts';
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
  /**
   * Events of the job reported before this usage and not stored yet (the runner's, in order): stored
   * in the charge's statement, with the seqs before its USAGE event's, so they cost no statement of
   * their own. They commit with the charge or not at all: a refused charge stores none of them.
   */
  before?: NewJobEvent[];
  /** The job's event cap over `before` (not the USAGE event): a charge they would carry past it is refused (EVENT_LIMIT_REACHED). */
  maxEvents?: number;
}

export type ChargeResult =
  | { ok: true; costUsd: number; jobCostUsd: number; events: JobEventRecord[] }
  | { ok: false; code: 'BUDGET_EXCEEDED'; scope: 'project' | 'job'; costUsd: number; message: string }
  | { ok: false; code: 'UNKNOWN_MODEL' | 'INVALID_USAGE' | 'ATTEMPT_NOT_RUNNING' | 'EVENT_LIMIT_REACHED'; message: string };

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
 * after the wait), in one transaction with the usage record, the events given before it and the
 * USAGE event: a charge that would cross either limit is refused whole and leaves nothing behind.
 */
export async function chargeUsage(deps: { pool: pg.Pool; events: JobEventBus }, charge: UsageCharge): Promise<ChargeResult> {
  if (![charge.inputTokens, charge.outputTokens].every((n) => Number.isInteger(n) && n >= 0 && n <= 100_000_000)) {
    return { ok: false, code: 'INVALID_USAGE', message: 'Token counts must be whole numbers between 0 and 100,000,000.' };
  }
  for (let tries = 1; ; tries++) {
    try {
      const result = await withTransaction(deps.pool, (sql) => chargeInTransaction(sql, charge));
      await deps.events.publish(result.events);
      return result;
    } catch (err) {
      if (err instanceof Refused) return err.result;
      if (err instanceof BudgetAppeared && tries < 3) continue;
      throw err;
    }
  }
}

/**
 * The charge's first statement found no budget, but one exists once the charge holds the budget
 * lock: setBudget created it, and committed, after that statement's snapshot was taken (the lock is
 * taken inside the statement, so a charge that waited for setBudget cannot see its new row). Its
 * recount did not see this charge either: the charge starts again and is counted in the new budget.
 */
class BudgetAppeared extends Error {}

/** The charge statement's refusals (refuseSql): a budget set since its first statement, the job's maxCostUsd, a finished attempt. */
const BUDGET_APPEARED = 'budget appeared';
const OVER_JOB_LIMIT = 'over the job limit';
const ATTEMPT_NOT_RUNNING = 'attempt not running';
const EVENTS_OVER_CAP = 'events over the cap';

async function chargeInTransaction(sql: Sql, charge: UsageCharge): Promise<ChargeResult & { ok: true }> {
  // The price, the job's project and the budget lock (lock order everywhere: the budget lock
  // (shared), Budget, then Job), then the project budget's conditional charge, in one statement:
  // the update's condition reads `priced` first, so the lock is held before the Budget row's.
  // `budgeted` tells a refusal from a project without a budget.
  const priced = await sql.query<{
    cost: number | null;
    projectId: string;
    spentUsd: number | null;
    limitUsd: number | null;
    notifiedThreshold: number | null;
    budgeted: boolean;
  }>(
    `WITH priced AS (
       SELECT (SELECT round(($2::numeric * "inputUsdPerMillion" + $3::numeric * "outputUsdPerMillion") / 1000000, 8)
                 FROM "ModelPrice" WHERE model = $1) AS cost,
              j."projectId", ${LOCK_BUDGET_FOR_CHARGE('j."projectId"')} AS locked
         FROM "Job" j WHERE j.id = $4),
     charged AS (${CHARGE_BUDGET('(SELECT "projectId" FROM priced)', '(SELECT cost FROM priced)')})
     SELECT p.cost, p."projectId", p.locked, c."spentUsd", c."limitUsd", c."notifiedThreshold",
            c."spentUsd" IS NOT NULL OR EXISTS (SELECT 1 FROM "Budget" WHERE "projectId" = p."projectId") AS budgeted
       FROM priced p LEFT JOIN charged c ON true`,
    [charge.model, charge.inputTokens, charge.outputTokens, charge.jobId],
  );
  if (priced.rows.length === 0) throw new Error(`job ${charge.jobId} not found`);
  const { cost, projectId, ...charged } = priced.rows[0];
  if (cost === null) {
    throw new Refused({
      ok: false,
      code: 'UNKNOWN_MODEL',
      message: `There is no price for model \`${charge.model}\`, so its usage cannot be charged.`,
    });
  }
  if (charged.spentUsd === null && charged.budgeted) {
    // Refused as of the statement's snapshot, taken before the lock was granted: if the charge waited
    // for setBudget (a new limit, or the budget removed), the lock is held now and a fresh statement
    // decides. Only a refusal pays this statement.
    Object.assign(charged, await chargeProjectBudget(sql, projectId, cost));
  }
  if (charged.spentUsd === null && charged.budgeted) {
    throw new Refused({
      ok: false,
      code: 'BUDGET_EXCEEDED',
      scope: 'project',
      costUsd: cost,
      message: `Charging $${cost} for ${charge.model} would exceed the project's budget.`,
    });
  }
  const b = charged.spentUsd === null ? undefined : (charged as { spentUsd: number; limitUsd: number; notifiedThreshold: number });
  // A spend threshold this charge crosses (announced once, after the charge's statement).
  const crossed =
    b && b.limitUsd > 0 ? SPEND_THRESHOLDS.filter((t) => (b.spentUsd / b.limitUsd) * 100 >= t && t > b.notifiedThreshold).pop() : undefined;
  // The job's own limit, the attempt (only a live attempt may spend: a lost or finished attempt's
  // late reports are refused), the usage record, the events given before it and USAGE (their seqs
  // allocated by the job's update, which also computes the job's cost USAGE reports), in one
  // statement. A refusal fails the statement (refuseSql): the transaction rolls back whole, and a
  // COMMIT sent with the statement (when no threshold is to be announced after it) does not run.
  const usage: NewJobEvent = {
    type: 'USAGE',
    message: `${charge.model}: ${charge.inputTokens} in / ${charge.outputTokens} out tokens, $${cost}`,
    data: {
      model: charge.model,
      inputTokens: charge.inputTokens,
      outputTokens: charge.outputTokens,
      ...(charge.task ? { task: charge.task } : {}),
      costUsd: cost,
      ...(b ? { projectSpentUsd: b.spentUsd, projectLimitUsd: b.limitUsd } : {}),
    },
    actor: 'budget',
    attemptNumber: charge.attemptNumber,
  };
  const before = charge.before ?? [];
  const params: unknown[] = [
    charge.jobId,
    cost,
    charge.attemptId ?? null,
    charge.inputTokens,
    charge.outputTokens,
    charge.model,
    projectId,
    charge.task ?? null,
    charged.budgeted,
    before.length,
    charge.maxEvents ?? null,
  ];
  if (crossed === undefined) commitWithNext(sql);
  const updated = await sql
    .query<Record<string, unknown> & { jobCostUsd: number }>(
      `WITH job AS (
       UPDATE "Job" SET "costUsd" = "costUsd" + $2::numeric, "lastSeq" = "lastSeq" + $10::int + 1, "updatedAt" = now()
       WHERE id = $1 AND ("maxCostUsd" IS NULL OR "costUsd" + $2::numeric <= "maxCostUsd")
       RETURNING "costUsd", "lastSeq" - $10::int - 1 AS base, "projectId"),
     attempt AS (
       UPDATE "JobAttempt" SET "costUsd" = "costUsd" + $2::numeric, "inputTokens" = "inputTokens" + $4, "outputTokens" = "outputTokens" + $5
       WHERE id = $3 AND state = 'RUNNING'
       RETURNING id),
     usage AS (
       INSERT INTO "UsageRecord" (id, "projectId", "jobId", "attemptId", model, "inputTokens", "outputTokens", "costUsd", task)
       VALUES (gen_random_uuid(), $7, $1, $3, $6, $4, $5, $2, $8)),
     event AS (${insertEventsFrom('job', '$1::uuid', [...before, usage], params, { mergeData: `jsonb_build_object('jobCostUsd', s."costUsd"::float8)` })})
     SELECT (SELECT "costUsd" FROM job) AS "jobCostUsd", event.*,
            -- This statement's snapshot is taken with the budget lock held: it sees every budget set before.
            CASE WHEN NOT $9::boolean AND EXISTS (SELECT 1 FROM "Budget" WHERE "projectId" = $7) THEN ${refuseSql(BUDGET_APPEARED)}
                 WHEN (SELECT "costUsd" FROM job) IS NULL THEN ${refuseSql(OVER_JOB_LIMIT)}
                 WHEN $3::uuid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM attempt) THEN ${refuseSql(ATTEMPT_NOT_RUNNING)}
                 WHEN (SELECT base FROM job) + $10::int > $11::int THEN ${refuseSql(EVENTS_OVER_CAP)} END AS refused
       FROM (SELECT 1) one LEFT JOIN event ON true`,
      params,
    )
    .catch((err: unknown) => {
      const refusal = refusalOf(err);
      if (refusal === BUDGET_APPEARED) throw new BudgetAppeared();
      if (refusal === OVER_JOB_LIMIT) {
        throw new Refused({
          ok: false,
          code: 'BUDGET_EXCEEDED',
          scope: 'job',
          costUsd: cost,
          message: `Charging $${cost} for ${charge.model} would exceed the job's maxCostUsd.`,
        });
      }
      if (refusal === ATTEMPT_NOT_RUNNING) {
        throw new Refused({
          ok: false,
          code: 'ATTEMPT_NOT_RUNNING',
          message: 'The attempt is no longer running; its usage is not charged.',
        });
      }
      if (refusal === EVENTS_OVER_CAP) {
        throw new Refused({
          ok: false,
          code: 'EVENT_LIMIT_REACHED',
          message: `The ${before.length} events reported before this usage would take the job past its ${charge.maxEvents} events; nothing was charged or stored.`,
        });
      }
      throw err;
    });
  const jobCostUsd = updated.rows[0].jobCostUsd;
  const events = updated.rows.map(({ jobCostUsd: _c, refused: _r, ...stored }) => toEventRecord(stored)).sort((a, b) => a.seq - b.seq);
  if (b && crossed !== undefined) {
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
  return { ok: true, costUsd: cost, jobCostUsd, events };
}

/**
 * SQL of the project budget's conditional charge (`projectId`, `cost`: SQL): the period rolled over
 * when it ended, and the cost added only while it stays within the limit; RETURNING the charged row.
 */
const CHARGE_BUDGET = (projectId: string, cost: string) =>
  `UPDATE "Budget" b SET
     "spentUsd" = ${PERIOD_SPENT} + ${cost},
     "notifiedThreshold" = CASE WHEN ${ROLLED_OVER} THEN 0 ELSE b."notifiedThreshold" END,
     "periodStart" = CASE WHEN ${ROLLED_OVER} THEN date_trunc(CASE b.period WHEN 'DAILY' THEN 'day' ELSE 'month' END, now()) ELSE b."periodStart" END,
     "updatedAt" = now()
   WHERE b."projectId" = ${projectId} AND ${PERIOD_SPENT} + ${cost} <= b."limitUsd"
   RETURNING "spentUsd", "limitUsd", "notifiedThreshold"`;

/**
 * The project budget's conditional charge on its own, in a statement that starts with the budget
 * lock held (so it sees what a setBudget the charge waited for wrote): the charged row, or nulls and
 * whether a budget refused it (`budgeted`) or the project has none.
 */
async function chargeProjectBudget(
  sql: Sql,
  projectId: string,
  cost: number,
): Promise<{ spentUsd: number | null; limitUsd: number | null; notifiedThreshold: number | null; budgeted: boolean }> {
  const { rows } = await sql.query<{ spentUsd: number | null; limitUsd: number | null; notifiedThreshold: number | null }>(
    `WITH charged AS (${CHARGE_BUDGET('$1', '$2::numeric')})
     SELECT c."spentUsd", c."limitUsd", c."notifiedThreshold" FROM "Budget" b LEFT JOIN charged c ON true WHERE b."projectId" = $1`,
    [projectId, cost],
  );
  return rows.length ? { ...rows[0], budgeted: true } : { spentUsd: null, limitUsd: null, notifiedThreshold: null, budgeted: false };
}
