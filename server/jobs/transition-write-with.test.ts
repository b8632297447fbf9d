import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { transitionInTransaction } from '../jobs/transition-job.ts';
import { withTransaction } from '../db/transaction.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});
const q = (sql: string, p: unknown[] = []) => t.app.services.pool.query(sql, p).then((r) => r.rows);

it('writeWith with before events and every patch field: values land in the right columns', async () => {
  const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  const id = res.data.createJob.id as string;
  const r = await withTransaction(t.app.services.pool, (sql) =>
    transitionInTransaction(sql, {
      jobId: id,
      from: 'QUEUED',
      to: 'RUNNING',
      actor: 'tester',
      attemptNumber: 1,
      before: [
        { type: 'LOG', message: 'b1', actor: 'a1' },
        { type: 'LOG', message: 'b2', actor: 'a2', data: { k: 2 } },
      ],
      patch: { output: { o: 1 }, feedback: 'fb', lastError: 'le', countAttempt: true },
      writeWith: (params) => {
        params.push(1, 'exec-x', 'worker-y', 'attempt-feedback');
        const n = params.length;
        return `INSERT INTO "JobAttempt" (id, "jobId", number, state, executor, "workerId", feedback, "startedAt")
                SELECT gen_random_uuid(), $1::uuid, $${n - 3}::int, 'RUNNING', $${n - 2}, $${n - 1}, $${n}, clock_timestamp() FROM updated RETURNING id`;
      },
    }),
  );
  expect(r.writtenId).toBeTruthy();
  expect(r.events.map((e) => [e.seq, e.type, e.message, e.actor])).toEqual([
    [2, 'LOG', 'b1', 'a1'],
    [3, 'LOG', 'b2', 'a2'],
    [4, 'STATE_CHANGED', 'QUEUED → RUNNING', 'tester'],
  ]);
  const [job] = await q(`SELECT output, feedback, "lastError", "attemptCount", "lastSeq" FROM "Job" WHERE id = $1`, [id]);
  expect(job).toEqual({ output: { o: 1 }, feedback: 'fb', lastError: 'le', attemptCount: 1, lastSeq: 4 });
  const [a] = await q(`SELECT id::text, number, executor, "workerId", feedback FROM "JobAttempt" WHERE "jobId" = $1`, [id]);
  expect(a).toEqual({ id: r.writtenId, number: 1, executor: 'exec-x', workerId: 'worker-y', feedback: 'attempt-feedback' });
});
