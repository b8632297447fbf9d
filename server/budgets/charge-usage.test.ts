import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus } from '../realtime/event-bus.ts';
import { createMemoryPubSub } from '../realtime/pubsub.ts';
import { createRunningJob } from '../test/drive-job.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { nodesOf } from '../test/job-lists.ts';
import { chargeUsage } from './charge-usage.ts';
import { createPool } from '../db/pool.ts';
import { inLanes } from '../test/in-lanes.ts';
import { recordStatements } from '../test/count-statements.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

const runningJob = (maxCostUsd?: number) => createRunningJob(t, maxCostUsd);

describe('chargeUsage', () => {
  it('prices usage from the model price table', async () => {
    const jobId = await runningJob();
    // gpt-4o: $2.50 / M input, $10.00 / M output.
    const r = await chargeUsage(t.app.services, { jobId, model: 'gpt-4o', inputTokens: 1000, outputTokens: 500 });
    expect(r).toMatchObject({ ok: true, costUsd: 0.0075 });
    const job = await t.gql(`query($id: ID!) { job(id: $id) { costUsd events { edges { node { type data } } } } }`, { id: jobId });
    expect(job.data.job.costUsd).toBe(0.0075);
    expect(nodesOf(job.data.job.events).at(-1)).toMatchObject({
      type: 'USAGE',
      data: { model: 'gpt-4o', inputTokens: 1000, outputTokens: 500, costUsd: 0.0075 },
    });
    const unknown = await chargeUsage(t.app.services, { jobId, model: 'made-up-model', inputTokens: 1, outputTokens: 1 });
    expect(unknown).toMatchObject({ ok: false, code: 'UNKNOWN_MODEL' });
    const negative = await chargeUsage(t.app.services, { jobId, model: 'gpt-4o', inputTokens: -5, outputTokens: 1 });
    expect(negative).toMatchObject({ ok: false, code: 'INVALID_USAGE' });
  });

  it('100 concurrent charges never push spend past the project limit; refused ones surface as BUDGET_EXCEEDED', async () => {
    // A fresh limit for this test: spend so far + exactly 37 charges of $0.01.
    const before = await t.gql(`mutation { setBudget(input: { limitUsd: 1000, period: TOTAL }) { spentUsd } }`);
    const spentSoFar = before.data.setBudget.spentUsd;
    const limit = Math.round((spentSoFar + 0.37) * 1e8) / 1e8;
    const set = await t.gql(`mutation($l: Float!) { setBudget(input: { limitUsd: $l, period: TOTAL }) { limitUsd spentUsd period } }`, {
      l: limit,
    });
    expect(set.errors).toBeUndefined();

    const jobs = await Promise.all(Array.from({ length: 10 }, () => runningJob()));
    // claude-haiku-4-5 costs $1 per million input tokens: 10,000 input tokens = $0.01 exactly.
    const charges = jobs.flatMap((jobId) =>
      Array.from({ length: 10 }, () => ({ jobId, model: 'claude-haiku-4-5', inputTokens: 10_000, outputTokens: 0 })),
    );
    const results = await Promise.all(charges.map((c) => chargeUsage(t.app.services, c)));
    const accepted = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(accepted).toHaveLength(37);
    expect(refused).toHaveLength(63);
    for (const r of refused) expect(r).toMatchObject({ ok: false, code: 'BUDGET_EXCEEDED', scope: 'project' });

    const after = await t.gql(`{ budgets { limitUsd spentUsd remainingUsd percentUsed } }`);
    const budget = after.data.budgets[0];
    expect(budget.spentUsd).toBeLessThanOrEqual(budget.limitUsd);
    expect(budget.spentUsd).toBeCloseTo(limit, 8);
    expect(budget.remainingUsd).toBeCloseTo(0, 8);
    const usage = await t.app.services.pool.query(
      `SELECT count(*)::int AS n, sum("costUsd") AS total FROM "UsageRecord" WHERE "jobId" = ANY($1)`,
      [jobs],
    );
    expect(usage.rows[0].n).toBe(37);
    expect(usage.rows[0].total).toBeCloseTo(0.37, 8);
    // A refusal is an answer, not a transition: stopping the job is the engine's decision
    // (engine.test.ts: "a project budget that runs out…").
    const states = await t.app.services.pool.query(`SELECT DISTINCT state FROM "Job" WHERE id = ANY($1)`, [jobs]);
    expect(states.rows).toEqual([{ state: 'RUNNING' }]);
  });

  it('1,000 concurrent charges from 10 workers (each its own connection pool) never exceed the limit and are never counted twice', async () => {
    const before = await t.gql(`mutation { setBudget(input: { limitUsd: 100000, period: TOTAL }) { spentUsd } }`);
    const limit = Math.round((before.data.setBudget.spentUsd + 3.71) * 1e8) / 1e8; // room for exactly 371 charges of $0.01
    await t.gql(`mutation($l: Float!) { setBudget(input: { limitUsd: $l, period: TOTAL }) { id } }`, { l: limit });
    const jobs = await Promise.all(Array.from({ length: 20 }, () => runningJob()));
    const workers = Array.from({ length: 10 }, () => ({
      pool: createPool(t.databaseUrl, 3),
      events: createEventBus(createMemoryPubSub()),
    }));
    try {
      // Each worker charges through its 3 connections at once: 30 charges contend for the budget at any time.
      const perWorker = await Promise.all(
        workers.map((w, wi) =>
          inLanes(
            Array.from({ length: 100 }, (_, i) => jobs[(wi * 100 + i) % jobs.length]),
            3,
            (jobId) => chargeUsage(w, { jobId, model: 'claude-haiku-4-5', inputTokens: 10_000, outputTokens: 0 }),
          ),
        ),
      );
      const results = perWorker.flat();
      const accepted = results.filter((r) => r.ok).length;
      const refused = results.filter((r) => !r.ok);
      expect(accepted).toBe(371);
      expect(refused.every((r) => !r.ok && r.code === 'BUDGET_EXCEEDED')).toBe(true);
      const budget = (await t.gql(`{ budgets { limitUsd spentUsd } }`)).data.budgets[0];
      expect(budget.spentUsd).toBeLessThanOrEqual(budget.limitUsd);
      expect(budget.spentUsd).toBeCloseTo(limit, 8);
      const usage = await t.app.services.pool.query(
        `SELECT count(*)::int AS n, sum("costUsd")::float AS total FROM "UsageRecord" WHERE "jobId" = ANY($1)`,
        [jobs],
      );
      expect(usage.rows[0]).toEqual({ n: 371, total: expect.closeTo(3.71, 8) });
      // Each job's cost is the sum of its own accepted charges.
      const { rows } = await t.app.services.pool.query(
        `SELECT j.id FROM "Job" j WHERE j.id = ANY($1) AND j."costUsd" <> (SELECT coalesce(sum(u."costUsd"), 0) FROM "UsageRecord" u WHERE u."jobId" = j.id)`,
        [jobs],
      );
      expect(rows).toEqual([]);
      console.log(
        `budget race: 1000 charges from 10 pools, ${accepted} accepted (room for 371), ${refused.length} BUDGET_EXCEEDED, spend = limit, 0 double counts`,
      );
    } finally {
      await Promise.all(workers.map((w) => w.pool.end()));
    }
  });

  it("a job's own maxCostUsd refuses the charge that would cross it, and the project is not charged for it", async () => {
    await t.gql(`mutation { setBudget(input: { limitUsd: 1000, period: MONTHLY }) { id } }`);
    const jobId = await runningJob(0.025);
    const spent = async () => (await t.gql(`{ budgets { spentUsd } }`)).data.budgets[0].spentUsd;
    const start = await spent();
    const c = { jobId, model: 'claude-haiku-4-5', inputTokens: 10_000, outputTokens: 0 };
    expect((await chargeUsage(t.app.services, c)).ok).toBe(true);
    expect((await chargeUsage(t.app.services, c)).ok).toBe(true);
    expect(await chargeUsage(t.app.services, c)).toMatchObject({ ok: false, code: 'BUDGET_EXCEEDED', scope: 'job' });
    const job = await t.gql(`query($id: ID!) { job(id: $id) { costUsd maxCostUsd } }`, { id: jobId });
    expect(job.data.job).toEqual({ costUsd: 0.02, maxCostUsd: 0.025 });
    expect(await spent()).toBeCloseTo(start + 0.02, 8);
  });

  it('a charge is two round trips, COMMIT with its last statement; one for an attempt that no longer runs is refused whole', async () => {
    await t.gql(`mutation { setBudget(input: { limitUsd: 1000, period: MONTHLY }) { id } }`);
    const jobId = await runningJob();
    const pool = t.app.services.pool;
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO "JobAttempt" (id, "jobId", number, state, executor, "workerId", "startedAt")
       VALUES (gen_random_uuid(), $1, 1, 'RUNNING', 'inline', 'charge-test', now()) RETURNING id`,
      [jobId],
    );
    const c = { jobId, attemptId: rows[0].id, attemptNumber: 1, model: 'gpt-4o', inputTokens: 1000, outputTokens: 0 };
    const log = recordStatements();
    try {
      expect(await chargeUsage(t.app.services, c)).toMatchObject({ ok: true, costUsd: 0.0025 });
    } finally {
      log.stop();
    }
    expect(log.texts.filter((s) => /^(BEGIN|COMMIT|ROLLBACK)$/.test(s))).toEqual(['BEGIN', 'COMMIT']);
    expect(log.roundTrips()).toBe(2);

    // The attempt was declared lost: its late report charges nothing anywhere.
    await pool.query(`UPDATE "JobAttempt" SET state = 'LOST' WHERE id = $1`, [rows[0].id]);
    const state = async () =>
      (
        await pool.query(
          `SELECT j."costUsd"::text AS job, a."costUsd"::text AS attempt, a."inputTokens",
                  (SELECT "spentUsd"::text FROM "Budget" b WHERE b."projectId" = j."projectId") AS spent,
                  (SELECT count(*)::int FROM "UsageRecord" u WHERE u."jobId" = j.id) AS usage,
                  (SELECT count(*)::int FROM "JobEvent" e WHERE e."jobId" = j.id) AS events, j."lastSeq"
             FROM "Job" j JOIN "JobAttempt" a ON a."jobId" = j.id WHERE j.id = $1`,
          [jobId],
        )
      ).rows[0];
    const before = await state();
    expect(before).toMatchObject({ job: '0.00250000', attempt: '0.00250000', inputTokens: 1000, usage: 1 });
    expect(await chargeUsage(t.app.services, c)).toMatchObject({ ok: false, code: 'ATTEMPT_NOT_RUNNING' });
    expect(await state()).toEqual(before);
  });

  it('stores the events given as `before` in its statement, before USAGE; refused (job limit, event cap), it stores none of them', async () => {
    await t.gql(`mutation { setBudget(input: { limitUsd: 1000, period: MONTHLY }) { id } }`);
    const jobId = await runningJob(0.015);
    const pool = t.app.services.pool;
    const stored = async () =>
      (
        await pool.query(
          `SELECT j."costUsd"::text AS cost, j."lastSeq", (SELECT count(*)::int FROM "UsageRecord" u WHERE u."jobId" = j.id) AS usage,
                  (SELECT json_agg(json_build_object('seq', e.seq, 'type', e.type, 'message', e.message, 'data', e.data) ORDER BY e.seq)
                     FROM "JobEvent" e WHERE e."jobId" = j.id) AS events
             FROM "Job" j WHERE j.id = $1`,
          [jobId],
        )
      ).rows[0];
    const start = await stored();
    const before = [
      { type: 'LOG' as const, message: 'first', data: { level: 'info' }, actor: 'runner' },
      { type: 'MESSAGE' as const, message: 'second', data: { step: 1 }, actor: 'writer' },
    ];
    const c = { jobId, model: 'claude-haiku-4-5', inputTokens: 10_000, outputTokens: 0 };
    const log = recordStatements();
    let charged;
    try {
      charged = await chargeUsage(t.app.services, { ...c, before, maxEvents: start.lastSeq + 2 });
    } finally {
      log.stop();
    }
    expect(log.roundTrips()).toBe(2);
    expect(charged).toMatchObject({ ok: true, costUsd: 0.01 });
    const after = await stored();
    expect(after.events.slice(start.events.length)).toEqual([
      { seq: start.lastSeq + 1, type: 'LOG', message: 'first', data: { level: 'info' } },
      { seq: start.lastSeq + 2, type: 'MESSAGE', message: 'second', data: { step: 1 } },
      {
        seq: start.lastSeq + 3,
        type: 'USAGE',
        message: 'claude-haiku-4-5: 10000 in / 0 out tokens, $0.01',
        data: expect.objectContaining({ costUsd: 0.01, jobCostUsd: 0.01 }),
      },
    ]);
    expect(charged?.ok && charged.events.map((e) => e.seq)).toEqual([1, 2, 3].map((i) => start.lastSeq + i));

    // Past the event cap (the USAGE event does not count), then past the job's maxCostUsd: nothing stored or charged.
    const overCap = await chargeUsage(t.app.services, { ...c, inputTokens: 1000, before, maxEvents: after.lastSeq + 1 });
    expect(overCap).toMatchObject({ ok: false, code: 'EVENT_LIMIT_REACHED' });
    expect(await stored()).toEqual(after);
    const overLimit = await chargeUsage(t.app.services, { ...c, before, maxEvents: after.lastSeq + 2 });
    expect(overLimit).toMatchObject({ ok: false, code: 'BUDGET_EXCEEDED', scope: 'job' });
    expect(await stored()).toEqual(after);
  });

  it('announces the 80% and 100% spend thresholds once each, as job events', async () => {
    const jobId = await runningJob();
    const spent = (await t.gql(`{ budgets { spentUsd } }`)).data.budgets[0].spentUsd;
    await t.gql(`mutation($l: Float!) { setBudget(input: { limitUsd: $l, period: MONTHLY }) { id } }`, { l: spent + 0.05 });
    for (let i = 0; i < 5; i++)
      await chargeUsage(t.app.services, { jobId, model: 'claude-haiku-4-5', inputTokens: 10_000, outputTokens: 0 });
    const res = await t.gql(`query($id: ID!) { job(id: $id) { events { edges { node { type data } } } } }`, { id: jobId });
    const thresholds = nodesOf(res.data.job.events)
      .filter((e: any) => e.type === 'BUDGET_THRESHOLD')
      .map((e: any) => e.data.threshold);
    expect(thresholds).toEqual([80, 100]);
  });
});
