import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunningCost } from '../runner/agents/report-usage.ts';
import { createRunningJob } from '../test/drive-job.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { chargeUsage } from './charge-usage.ts';
import { spendingBound } from './spending-bound.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

const runningJob = (maxCostUsd?: number) => createRunningJob(t, maxCostUsd);

describe('spendingBound (what a runner is told it may spend)', () => {
  it('is the smaller of what is left of the job limit and of the project budget, with the prices of the named models', async () => {
    const unlimited = await runningJob();
    expect(await spendingBound(t.app.services.pool, unlimited, ['gpt-4o', 'made-up-model'])).toEqual({
      remainingUsd: null,
      prices: { 'gpt-4o': { inputUsdPerMillion: '2.5', outputUsdPerMillion: '10' } },
    });

    const jobId = await runningJob(0.05);
    expect(await chargeUsage(t.app.services, { jobId, model: 'gpt-4o', inputTokens: 1000, outputTokens: 500 })).toMatchObject({
      ok: true,
      costUsd: 0.0075,
    });
    expect((await spendingBound(t.app.services.pool, jobId, [])).remainingUsd).toBe('0.0425');

    const before = await t.gql(`mutation { setBudget(input: { limitUsd: 1000, period: TOTAL }) { spentUsd } }`);
    const limit = Math.round((before.data.setBudget.spentUsd + 0.01) * 1e8) / 1e8;
    expect(
      (await t.gql(`mutation($l: Float!) { setBudget(input: { limitUsd: $l, period: TOTAL }) { limitUsd } }`, { l: limit })).errors,
    ).toBeUndefined();
    expect((await spendingBound(t.app.services.pool, jobId, [])).remainingUsd).toBe('0.01');
    await t.gql(`mutation { setBudget(input: { limitUsd: 1000, period: TOTAL }) { limitUsd } }`);
  });

  it("the runner's running cost equals the engine's charges to the 1e-8 USD, for any token counts (property)", async () => {
    await t.gql(`mutation { setBudget(input: { limitUsd: 10000000, period: TOTAL }) { limitUsd } }`); // room for every charge
    // Prices whose per-token cost has more than 8 decimals, so the rounding of each charge shows.
    await t.app.services.pool.query(
      `INSERT INTO "ModelPrice" (model, "inputUsdPerMillion", "outputUsdPerMillion") VALUES ('odd-price-test', 0.12345678, 7.00000003) ON CONFLICT (model) DO NOTHING`,
    );
    const jobId = await runningJob();
    const { prices } = await spendingBound(t.app.services.pool, jobId, ['gpt-4o', 'gpt-4o-mini', 'odd-price-test']);
    const usage = fc.record({
      model: fc.constantFrom('gpt-4o', 'gpt-4o-mini', 'odd-price-test'),
      inputTokens: fc.nat(100_000_000),
      outputTokens: fc.nat(100_000_000),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(usage, { minLength: 1, maxLength: 4 }), async (calls) => {
        const cost = new RunningCost({ remainingUsd: null, prices });
        let charged = 0n;
        for (const c of calls) {
          cost.add(c.model, c);
          const r = await chargeUsage(t.app.services, { jobId, ...c });
          if (!r.ok) throw new Error(r.message);
          charged += BigInt(Math.round(r.costUsd * 1e8));
        }
        expect(cost.spentUnits()).toBe(charged);
      }),
      { numRuns: 30 },
    );
  });
});
