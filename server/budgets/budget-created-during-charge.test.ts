import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../db/pool.ts';
import { withTransaction } from '../db/transaction.ts';
import { createEventBus } from '../realtime/event-bus.ts';
import { createMemoryPubSub } from '../realtime/pubsub.ts';
import { driveJob } from '../test/drive-job.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { lockBudgetExclusively } from './budget-lock.ts';
import { chargeUsage } from './charge-usage.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

/**
 * setBudget's window, held open on purpose: the budget lock taken exclusively and a budget written,
 * not yet committed. A charge that starts meanwhile waits for the lock; the statement it waits in
 * took its snapshot before the budget existed, yet the charge must be counted against it.
 */
async function chargeWhileBudgetIsSet(project: string, write: (projectId: string) => string, params: unknown[]) {
  const operator = await t.token('OPERATOR', project);
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } }, operator);
  const jobId = res.data.createJob.id as string;
  await driveJob(t.app.services, jobId, 'RUNNING');
  const { rows } = await t.app.services.pool.query<{ id: string }>(`SELECT id FROM "Project" WHERE slug = $1`, [project]);
  const projectId = rows[0].id;
  const setter = createPool(t.databaseUrl, 1, { applicationName: 'budget-setter' });
  const charger = {
    pool: createPool(t.databaseUrl, 2, { applicationName: 'budget-charger' }),
    events: createEventBus(createMemoryPubSub()),
  };
  try {
    let charging!: ReturnType<typeof chargeUsage>;
    await withTransaction(setter, async (sql) => {
      await lockBudgetExclusively(sql, projectId);
      await sql.query(write(projectId), [projectId, ...params]);
      charging = chargeUsage(charger, { jobId, model: 'claude-haiku-4-5', inputTokens: 100_000, outputTokens: 1000 });
      for (let i = 0; i < 200; i++) {
        const waiting = await t.app.services.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'budget-charger' AND wait_event_type = 'Lock'`,
        );
        if (waiting.rows[0].n > 0) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the charge never waited for the budget lock');
    });
    const result = await charging;
    const budget = await t.app.services.pool.query<{ spent: string }>(
      `SELECT "spentUsd"::text AS spent FROM "Budget" WHERE "projectId" = $1`,
      [projectId],
    );
    const usage = await t.app.services.pool.query<{ recorded: string }>(
      `SELECT coalesce(sum("costUsd"), 0)::text AS recorded FROM "UsageRecord" WHERE "projectId" = $1`,
      [projectId],
    );
    return { result, spent: Number(budget.rows[0]?.spent), recorded: Number(usage.rows[0].recorded) };
  } finally {
    await Promise.all([setter.end(), charger.pool.end()]);
  }
}

const NEW_BUDGET = `INSERT INTO "Budget" (id, "projectId", "limitUsd", period, "spentUsd", "periodStart", "notifiedThreshold", "updatedAt")
                    VALUES (gen_random_uuid(), $1, $2, 'TOTAL', 0, now(), 0, now())`;

describe('a budget set while a usage charge waits for the budget lock', () => {
  it('a new budget too small for the charge refuses it: nothing recorded, nothing spent', async () => {
    const r = await chargeWhileBudgetIsSet('budget-new-small', () => NEW_BUDGET, [0.000001]);
    expect(r.result).toMatchObject({ ok: false, code: 'BUDGET_EXCEEDED', scope: 'project' });
    expect(r).toMatchObject({ spent: 0, recorded: 0 });
  });

  it('a new budget large enough counts the charge: spent equals what was recorded', async () => {
    const r = await chargeWhileBudgetIsSet('budget-new-large', () => NEW_BUDGET, [100]);
    expect(r.result.ok).toBe(true);
    expect(r.recorded).toBeGreaterThan(0);
    expect(r.spent).toBe(r.recorded);
  });

  it('a raised limit lets a charge through that the old one refused', async () => {
    const project = 'budget-raised';
    await t.token('OPERATOR', project);
    await t.app.services.pool.query(NEW_BUDGET.replace('$2', '0.000001'), [
      (await t.app.services.pool.query<{ id: string }>(`SELECT id FROM "Project" WHERE slug = $1`, [project])).rows[0].id,
    ]);
    const r = await chargeWhileBudgetIsSet(project, () => `UPDATE "Budget" SET "limitUsd" = $2 WHERE "projectId" = $1`, [100]);
    expect(r.result.ok).toBe(true);
    expect(r.spent).toBe(r.recorded);
  });
});
