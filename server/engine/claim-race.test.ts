import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startAttempt } from '../engine/start-attempt.ts';
import { appendJobEvents, EventLimitReached } from '../jobs/job-event.ts';
import { checkpointInsert } from '../checkpoints/checkpoints.ts';
import { transitionJob } from '../jobs/transition-job.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});
const q = (sql: string, p: unknown[] = []) => t.app.services.pool.query(sql, p).then((r) => r.rows);
const deps = () => ({ pool: t.app.services.pool, events: t.app.services.events });
async function newJob() {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  expect(res.errors).toBeUndefined();
  return res.data.createJob.id as string;
}
const seqsOk = async (id: string) => {
  const rows = await q(`SELECT seq FROM "JobEvent" WHERE "jobId" = $1 ORDER BY seq`, [id]);
  const [{ lastSeq }] = await q(`SELECT "lastSeq" FROM "Job" WHERE id = $1`, [id]);
  expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
};

describe('claim in one statement', () => {
  it('8 concurrent claims: one attempt, one winner, seqs without gaps', async () => {
    const id = await newJob();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        startAttempt(deps(), { jobId: id, workerId: `w${i}`, executor: 'inline', defaultMaxRunning: null }),
      ),
    );
    const winners = results.filter(Boolean);
    expect(winners).toHaveLength(1);
    const attempts = await q(`SELECT id::text, number FROM "JobAttempt" WHERE "jobId" = $1`, [id]);
    expect(attempts).toEqual([{ id: winners[0]!.attemptId, number: 1 }]);
    await seqsOk(id);
  });
  it('a cancel racing a claim: either the claim wins with its attempt or nothing is written', async () => {
    for (let k = 0; k < 10; k++) {
      const id = await newJob();
      const [claim] = await Promise.all([
        startAttempt(deps(), { jobId: id, workerId: 'w', executor: 'inline', defaultMaxRunning: null }),
        transitionJob(deps(), { jobId: id, from: 'QUEUED', to: 'CANCELLED', actor: 'test' }).catch(() => null),
      ]);
      const attempts = await q(`SELECT count(*)::int AS n FROM "JobAttempt" WHERE "jobId" = $1`, [id]);
      expect(attempts[0].n).toBe(claim ? 1 : 0);
      await seqsOk(id);
    }
  });
});

describe('checkpoint with TASK_COMPLETED', () => {
  it('is stored even when the event is over the cap; params numbered right after a batch', async () => {
    const id = await newJob();
    const s = await startAttempt(deps(), { jobId: id, workerId: 'w', executor: 'inline', defaultMaxRunning: null });
    const [{ lastSeq }] = await q(`SELECT "lastSeq" FROM "Job" WHERE id = $1`, [id]);
    const crew = { tasks: [{ id: 'a' }, { id: 'b' }] };
    const ev = (m: string) => ({ type: 'LOG' as const, message: m, actor: 'x', attemptNumber: 1 });
    // 3 events, cap leaves room for 2: the checkpoint must still be stored, the third event not.
    const err = await appendJobEvents(
      t.app.services.pool,
      id,
      [ev('1'), ev('2'), { type: 'TASK_COMPLETED', message: 'done', actor: 'x' }],
      {
        maxEvents: lastSeq + 2,
        writeWith: (p) =>
          checkpointInsert({ jobId: id, attemptId: s!.attemptId, attemptNumber: 1, crew, task: 'b', output: 'out', workspace: false }, p),
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventLimitReached);
    const cps = await q(`SELECT task, "taskIndex", output FROM "TaskCheckpoint" WHERE "jobId" = $1`, [id]);
    expect(cps).toEqual([{ task: 'b', taskIndex: 1, output: 'out' }]);
    await seqsOk(id);
  });
});
