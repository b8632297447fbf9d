// Budget limits are kept to 8 decimal places (numeric(18, 8)). Before, a positive limit under
// $0.000000005 was accepted and stored as $0: a budget that refuses every job, with no word said.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ role: 'api', env: { AUTODEV_RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000' } });
});
afterAll(async () => {
  await t?.close();
});

const SET = 'mutation($l: Float!) { setBudget(input: { limitUsd: $l, period: DAILY }) { limitUsd } }';

describe('setBudget', () => {
  it('refuses a positive limit too small to keep (it would be stored as $0), naming the smallest amount', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: Number.MIN_VALUE, max: 0.0000000049, noNaN: true }), async (limit) => {
        const res = await t.gql(SET, { l: limit });
        expect(res.errors?.[0].extensions?.code, String(limit)).toBe('BAD_USER_INPUT');
        expect(res.errors?.[0].message).toContain('0.00000001');
      }),
      { numRuns: 40, seed: 1127 },
    );
    expect((await t.gql('{ budgets { limitUsd } }')).data.budgets).toEqual([]); // nothing stored
  });

  it('keeps $0 (stop all spending) and every amount of at least $0.00000001, rounded to 8 places', async () => {
    for (const [limit, stored] of [
      [0, 0],
      [0.00000001, 0.00000001],
      [0.000000005, 0.00000001],
      [0.123456789, 0.12345679],
      [25, 25],
    ]) {
      const res = await t.gql(SET, { l: limit });
      expect(res.errors, String(limit)).toBeUndefined();
      expect(res.data.setBudget.limitUsd, String(limit)).toBe(stored);
    }
  });
});
