import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargeUsage } from '../budgets/charge-usage.ts';
import { driveJob } from '../test/drive-job.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';

let t: TestServer;
/** Input of the bundled implement-feature: a repository it may clone (the sample the server prepared). */
const FEATURE = {
  title: 'Add CSV export to the orders page',
  specification: 'Operators need to download the filtered orders table as a CSV file with one row per order.',
  language: 'typescript',
};
let feature: Record<string, unknown>;
beforeAll(async () => {
  t = await startTestServer();
  feature = { ...FEATURE, repository: t.app.services.config.sampleRepository };
});
afterAll(async () => {
  await t?.close();
});

const count = async (sql: string, params: unknown[] = []) => Number((await t.app.services.pool.query(sql, params)).rows[0].count);

describe('createJob', () => {
  it('creates a QUEUED job with its first event and its queue entry', async () => {
    const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'implement-feature', input: feature, maxCostUsd: 2.5 } });
    expect(res.errors).toBeUndefined();
    expect(res.data.createJob).toMatchObject({
      state: 'QUEUED',
      costUsd: 0,
      maxCostUsd: 2.5,
      template: { slug: 'implement-feature', version: 1 },
    });
    const id = res.data.createJob.id;
    expect(await count(`SELECT count(*) FROM "JobEvent" WHERE "jobId" = $1`, [id])).toBe(1);
    expect(await count(`SELECT count(*) FROM graphile_worker._private_jobs WHERE payload->>'jobId' = $1`, [id])).toBe(1);
  });

  it("returns the new job's own fields exactly as a later read of the job does (from the insert, not read again)", async () => {
    const fields = 'id state templateVersion idempotencyKey costUsd maxCostUsd attemptCount createdBy createdAt updatedAt finishedAt';
    const res = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { ${fields} } }`, {
      input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd: 0.12345678, idempotencyKey: `own-fields-${Date.now()}` },
    });
    expect(res.errors).toBeUndefined();
    const read = await t.gql(`query($id: ID!) { job(id: $id) { ${fields} } }`, { id: res.data.createJob.id });
    expect(read.errors).toBeUndefined();
    expect(res.data.createJob).toEqual(read.data.job);
    expect(res.data.createJob).toMatchObject({ state: 'QUEUED', costUsd: 0, maxCostUsd: 0.12345678, attemptCount: 0, finishedAt: null });
  });

  it('50 concurrent calls with one idempotency key produce exactly one job', async () => {
    const input = { templateSlug: 'triage-bug', input: TRIAGE_INPUT, idempotencyKey: 'launch-button-double-click' };
    const results = await Promise.all(Array.from({ length: 50 }, () => t.gql(CREATE_JOB, { input })));
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]);
    const ids = new Set(results.map((r) => r.data.createJob.id));
    expect(ids.size).toBe(1);
    expect(await count(`SELECT count(*) FROM "Job" WHERE "idempotencyKey" = $1`, [input.idempotencyKey])).toBe(1);
    const [id] = ids;
    expect(await count(`SELECT count(*) FROM graphile_worker._private_jobs WHERE payload->>'jobId' = $1`, [id])).toBe(1);
    expect(await count(`SELECT count(*) FROM "JobEvent" WHERE "jobId" = $1`, [id])).toBe(1);
  });

  it('reusing an idempotency key for a different input is a CONFLICT naming the existing job', async () => {
    const key = 'reused-key';
    const first = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, idempotencyKey: key } });
    const second = await t.gql(CREATE_JOB, {
      input: { templateSlug: 'triage-bug', input: { ...TRIAGE_INPUT, title: 'Another bug entirely' }, idempotencyKey: key },
    });
    expect(second.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(second.errors?.[0].message).toContain(first.data.createJob.id);
  });

  it('a retry with the same key is the same request only if template, input and maxCostUsd are all the same; any difference is a CONFLICT naming it', async () => {
    const base = { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd: 2.5 };
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        // Valid requests only (an input its template refuses is BAD_USER_INPUT before any key is looked at).
        fc.constantFrom(
          { templateSlug: 'triage-bug', input: TRIAGE_INPUT },
          { templateSlug: 'triage-bug', input: { ...TRIAGE_INPUT, title: 'Another bug entirely' } },
          { templateSlug: 'implement-feature', input: feature },
        ),
        fc.constantFrom(2.5, 2.50000000001, 3, undefined),
        async (request, maxCostUsd) => {
          const retry = { ...request, maxCostUsd };
          const idempotencyKey = `retry-${n++}`;
          const first = await t.gql(CREATE_JOB, { input: { ...base, idempotencyKey } });
          expect(first.errors).toBeUndefined();
          const again = await t.gql(CREATE_JOB, { input: { ...retry, idempotencyKey } });
          const differs = [
            retry.templateSlug !== base.templateSlug && 'templateSlug',
            retry.input !== base.input && 'input',
            Math.round((retry.maxCostUsd ?? -1) * 1e8) !== Math.round(base.maxCostUsd * 1e8) && 'maxCostUsd',
          ].filter(Boolean);
          if (differs.length === 0) {
            expect(again.errors).toBeUndefined();
            expect(again.data.createJob.id).toBe(first.data.createJob.id);
          } else {
            expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
            expect(again.errors?.[0].message).toContain(first.data.createJob.id);
            expect(again.errors?.[0].extensions?.differs).toEqual(differs);
            for (const field of differs) expect(again.errors?.[0].message).toContain(field as string);
          }
        },
      ),
      { numRuns: 25 },
    );
    expect(await count(`SELECT count(*) FROM "Job" WHERE "idempotencyKey" LIKE 'retry-%'`)).toBe(n);
  });

  it('refuses createJob up front with BUDGET_EXCEEDED when the project budget is spent, writing nothing; a retry of an existing key still gets its job', async () => {
    const admin = await t.token('ADMIN', 'broke');
    const made = await t.gql(
      CREATE_JOB,
      { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, idempotencyKey: 'before-the-money-ran-out' } },
      admin,
    );
    const jobId = made.data.createJob.id;
    await driveJob(t.app.services, jobId, 'RUNNING');
    await t.gql(`mutation { setBudget(input: { limitUsd: 0.02, period: MONTHLY }) { id } }`, {}, admin);
    for (let i = 0; i < 2; i++)
      expect((await chargeUsage(t.app.services, { jobId, model: 'claude-haiku-4-5', inputTokens: 10_000, outputTokens: 0 })).ok).toBe(true);
    const jobsBefore = await count(`SELECT count(*) FROM "Job"`);
    const refused = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd: 1 } }, admin);
    expect(refused.errors?.[0].extensions?.code).toBe('BUDGET_EXCEEDED');
    expect(refused.errors?.[0].message).toMatch(/monthly budget is spent \(\$0\.02 of \$0\.02\).*not created.*setBudget/);
    expect(await count(`SELECT count(*) FROM "Job"`)).toBe(jobsBefore);
    const retry = await t.gql(
      CREATE_JOB,
      { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, idempotencyKey: 'before-the-money-ran-out' } },
      admin,
    );
    expect(retry.data?.createJob.id).toBe(jobId);
    await t.gql(`mutation { setBudget(input: { limitUsd: 0.03, period: MONTHLY }) { id } }`, {}, admin);
    const afterRaise = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } }, admin);
    expect(afterRaise.errors).toBeUndefined();
  });

  it('refuses a positive maxCostUsd too small for 8 decimal places (it would be stored as 0) with BAD_USER_INPUT, writing nothing', async () => {
    const jobsBefore = await count(`SELECT count(*) FROM "Job"`);
    await fc.assert(
      fc.asyncProperty(fc.double({ min: Number.MIN_VALUE, max: 0.000000004999, noNaN: true }), async (maxCostUsd) => {
        const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd } });
        expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
        expect(res.errors![0].message).toContain('0.00000001');
      }),
      { numRuns: 20 },
    );
    expect(await count(`SELECT count(*) FROM "Job"`)).toBe(jobsBefore);
    const smallest = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd: 0.00000001 } });
    expect(smallest.errors).toBeUndefined();
    expect(smallest.data.createJob.maxCostUsd).toBe(0.00000001);
  });

  it('refuses input that does not satisfy the template schema with BAD_USER_INPUT naming the field, and writes nothing', async () => {
    const jobsBefore = await count(`SELECT count(*) FROM "Job"`);
    const queueBefore = await count(`SELECT count(*) FROM graphile_worker._private_jobs`);
    const wrongType = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: { ...TRIAGE_INPUT, title: 42 } } });
    expect(wrongType.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(wrongType.errors?.[0].message).toContain('title');
    const missing = await t.gql(CREATE_JOB, {
      input: { templateSlug: 'implement-feature', input: { ...feature, specification: undefined } },
    });
    expect(missing.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(missing.errors?.[0].message).toContain('specification');
    const unknownTemplate = await t.gql(CREATE_JOB, { input: { templateSlug: 'no-such-template', input: {} } });
    expect(unknownTemplate.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(unknownTemplate.errors?.[0].message).toContain('no-such-template');
    const badMax = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT, maxCostUsd: -1 } });
    expect(badMax.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(badMax.errors?.[0].message).toContain('maxCostUsd');
    expect(await count(`SELECT count(*) FROM "Job"`)).toBe(jobsBefore);
    expect(await count(`SELECT count(*) FROM graphile_worker._private_jobs`)).toBe(queueBefore);
  });

  it('a GraphQL type error (wrong variable type) is BAD_USER_INPUT naming the field, not a crash', async () => {
    const res = await t.gql(CREATE_JOB, { input: { templateSlug: 5, input: {} } });
    expect(res.errors?.map((e: any) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors?.[0].message).toContain('templateSlug');
    expect(res.data?.createJob).toBeUndefined();
  });

  it('lists jobs newest first, filtered by state and template, with cursor pagination', async () => {
    const page1 = await t.gql(`{ jobs(first: 2) { edges { cursor node { id createdAt } } pageInfo { hasNextPage endCursor } } }`);
    expect(page1.errors).toBeUndefined();
    const [a, b] = page1.data.jobs.edges.map((e: any) => e.node);
    expect(new Date(a.createdAt) >= new Date(b.createdAt)).toBe(true);
    expect(page1.data.jobs.pageInfo.hasNextPage).toBe(true);
    const page2 = await t.gql(`query($after: String) { jobs(first: 2, after: $after) { edges { node { id } } } }`, {
      after: page1.data.jobs.pageInfo.endCursor,
    });
    expect(page2.data.jobs.edges.map((e: any) => e.node.id)).not.toContain(a.id);
    const filtered = await t.gql(
      `{ jobs(filter: { states: [QUEUED], templateSlug: "implement-feature" }) { edges { node { state template { slug } } } } }`,
    );
    expect(filtered.data.jobs.edges.length).toBeGreaterThan(0);
    for (const e of filtered.data.jobs.edges) expect(e.node).toEqual({ state: 'QUEUED', template: { slug: 'implement-feature' } });
  });
});
