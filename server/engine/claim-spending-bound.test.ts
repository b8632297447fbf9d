// The spending bound a runner gets is read with the claim (start-attempt.ts), not in a statement of
// its own: it must be what spendingBound reads for the job, with the crew's models or the
// operator's AUTODEV_MODEL override.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startAttempt } from './start-attempt.ts';
import { spendingBound } from '../budgets/spending-bound.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});
const deps = () => ({ pool: t.app.services.pool, events: t.app.services.events });

async function claimNewJob(maxCostUsd: number | undefined, modelOverride: string | null) {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd } });
  expect(res.errors).toBeUndefined();
  const id = res.data.createJob.id as string;
  const claimed = await startAttempt(deps(), { jobId: id, workerId: 'w', executor: 'inline', defaultMaxRunning: null, modelOverride });
  expect(claimed).not.toBeNull();
  const agents = claimed!.spec.crew.agents as { model: string }[];
  return { claimed: claimed!, models: modelOverride ? [modelOverride] : agents.map((a) => a.model) };
}

it("the claim's bound is the job's spending bound: the smaller limit, the prices of the crew's models", async () => {
  const { claimed, models } = await claimNewJob(0.05, null);
  expect(claimed.bound.remainingUsd).toBe('0.05');
  expect(Object.keys(claimed.bound.prices).sort()).toEqual([...new Set(models)].sort());
  expect(claimed.bound).toEqual(await spendingBound(t.app.services.pool, claimed.jobId, models));

  const set = await t.gql(`mutation { setBudget(input: { limitUsd: 0.02, period: TOTAL }) { spentUsd } }`);
  expect(set.data.setBudget.spentUsd).toBe(0);
  const underBudget = await claimNewJob(0.05, null);
  expect(underBudget.claimed.bound.remainingUsd).toBe('0.02');
  expect(underBudget.claimed.bound).toEqual(await spendingBound(t.app.services.pool, underBudget.claimed.jobId, underBudget.models));
  await t.gql(`mutation { setBudget(input: { limitUsd: 1000, period: TOTAL }) { limitUsd } }`);

  const unlimited = await claimNewJob(undefined, null);
  expect(unlimited.claimed.bound.remainingUsd).toBe('1000');
});

it("with the operator's model override, the bound's prices are the override's", async () => {
  const { claimed } = await claimNewJob(undefined, 'gpt-4o');
  expect(claimed.bound.prices).toEqual({ 'gpt-4o': { inputUsdPerMillion: '2.5', outputUsdPerMillion: '10' } });
  expect(claimed.bound).toEqual(await spendingBound(t.app.services.pool, claimed.jobId, ['gpt-4o']));
});
