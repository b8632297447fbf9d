import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus } from '../realtime/event-bus.ts';
import { createMemoryPubSub } from '../realtime/pubsub.ts';
import { driveJob } from '../test/drive-job.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { chargeUsage } from './charge-usage.ts';
import { setBudget, type BudgetPeriod } from './set-budget.ts';
import { createPool } from '../db/pool.ts';
import { inLanes } from '../test/in-lanes.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

const TRIALS = 3;
const POOLS = 6;
const CHARGES_PER_POOL = 100;
const CONNECTIONS_PER_POOL = 4;

/** A fresh project (no budget row yet) with running jobs, so each trial starts from nothing. */
async function projectWithRunningJobs(slug: string, jobs: number): Promise<{ projectId: string; jobIds: string[] }> {
  const operator = await t.token('OPERATOR', slug);
  const jobIds: string[] = [];
  for (let i = 0; i < jobs; i++) {
    const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } }, operator);
    jobIds.push(res.data.createJob.id);
    await driveJob(t.app.services, res.data.createJob.id, 'RUNNING');
  }
  const { rows } = await t.app.services.pool.query(`SELECT id FROM "Project" WHERE slug = $1`, [slug]);
  return { projectId: rows[0].id, jobIds };
}

describe('setBudget racing usage charges', () => {
  it(`never loses a charge: ${TRIALS} trials of ${POOLS * CHARGES_PER_POOL} charges from ${POOLS} connection pools while setBudget runs over and over`, async () => {
    const setter = createPool(t.databaseUrl, 2, { applicationName: 'budget-race' });
    const workers = Array.from({ length: POOLS }, () => ({
      pool: createPool(t.databaseUrl, CONNECTIONS_PER_POOL, { applicationName: 'budget-race' }),
      events: createEventBus(createMemoryPubSub()),
    }));
    const lostPerTrial: number[] = [];
    try {
      for (let trial = 0; trial < TRIALS; trial++) {
        const { projectId, jobIds } = await projectWithRunningJobs(`race-${trial}`, 8);
        let charging = true;
        let budgetsSet = 0;
        // setBudget over and over (creating the row first, then changing limit and period) until the charges are done.
        const periods: BudgetPeriod[] = ['TOTAL', 'MONTHLY', 'DAILY'];
        const setterLoop = (async () => {
          const deadline = Date.now() + 60_000;
          while (charging && Date.now() < deadline) {
            await setBudget(setter, { projectId, limitUsd: 1000 + (budgetsSet % 7), period: periods[budgetsSet % periods.length] });
            budgetsSet++;
          }
        })();
        // Each worker charges through its 4 connections at once: 24 charges race setBudget at any time.
        const perWorker = await Promise.all(
          workers.map((w, wi) =>
            inLanes(
              Array.from({ length: CHARGES_PER_POOL }, (_, i) => i),
              CONNECTIONS_PER_POOL,
              (i) =>
                chargeUsage(w, {
                  jobId: jobIds[(wi * CHARGES_PER_POOL + i) % jobIds.length],
                  model: 'claude-haiku-4-5',
                  inputTokens: 10_000 + i,
                  outputTokens: wi,
                }),
            ),
          ),
        );
        const results = perWorker.flat();
        charging = false;
        await setterLoop;
        expect(results.filter((r) => !r.ok)).toEqual([]);

        // What the project spent this period, recounted from the usage records, against what the budget says.
        const { rows } = await t.app.services.pool.query<{ spent: string; recorded: string; records: number }>(
          `SELECT b."spentUsd"::text AS spent, (SELECT coalesce(sum(u."costUsd"), 0) FROM "UsageRecord" u WHERE u."projectId" = b."projectId" AND u."createdAt" >= CASE WHEN b.period = 'TOTAL' THEN '-infinity' ELSE b."periodStart" END)::text AS recorded,
                  (SELECT count(*)::int FROM "UsageRecord" u WHERE u."projectId" = b."projectId") AS records
             FROM "Budget" b WHERE b."projectId" = $1`,
          [projectId],
        );
        expect(rows[0].records).toBe(POOLS * CHARGES_PER_POOL);
        const lost = Number(rows[0].recorded) - Number(rows[0].spent); // dollars the budget does not count
        lostPerTrial.push(lost);
        console.log(
          `setBudget race trial ${trial + 1}: ${POOLS * CHARGES_PER_POOL} charges, ${budgetsSet} setBudget calls, spent ${rows[0].spent} vs recorded ${rows[0].recorded}`,
        );
        expect(budgetsSet).toBeGreaterThan(1);
        expect(rows[0].spent).toBe(rows[0].recorded);
      }
    } finally {
      await Promise.all([setter.end(), ...workers.map((w) => w.pool.end())]);
      // pool.end() resolves before the sessions are gone; dropping the database under them would abort their goodbye.
      for (let i = 0; i < 50; i++) {
        const { rows } = await t.app.services.pool.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'budget-race'`,
        );
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    console.log(
      `setBudget race: ${TRIALS} trials x ${POOLS * CHARGES_PER_POOL} charges from ${POOLS} pools, USD lost per trial: ${lostPerTrial.join(', ')}`,
    );
  }, 180_000);
});
