// An attempt's end and the lost-attempt sweep racing for the same attempt (a worker finishing just
// as its lease ran out): both lock the job's row, then its project's (finish-attempt.ts ends the
// attempt in the job transition's statement, locking the project after the updated job), so they
// queue on the job and never deadlock, and exactly one of them decides the attempt.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startAttempt } from './start-attempt.ts';
import { finishAttempt } from './finish-attempt.ts';
import { recoverLostAttempts } from './recover-lost-attempts.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});
const deps = () => ({ pool: t.app.services.pool, events: t.app.services.events });
const q = (sql: string, p: unknown[] = []) => t.app.services.pool.query(sql, p).then((r) => r.rows);

it('20 finishes racing the sweep: no deadlock, one outcome each, seqs without gaps', async () => {
  const outcomes: string[] = [];
  for (let k = 0; k < 20; k++) {
    const res = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
    expect(res.errors).toBeUndefined();
    const id = res.data.createJob.id as string;
    const attempt = await startAttempt(deps(), { jobId: id, workerId: 'w', executor: 'inline', defaultMaxRunning: null });
    expect(attempt).not.toBeNull();
    // The attempt's heartbeat is older than any lease: the sweep takes it for lost.
    await q(`UPDATE "JobAttempt" SET "heartbeatAt" = now() - interval '1 hour' WHERE id = $1`, [attempt!.attemptId]);
    const [finished] = await Promise.all([
      finishAttempt(
        deps(),
        attempt!,
        { kind: 'succeeded', output: { summary: 'done' }, guardrails: [] },
        { retryBaseMs: 10, defaultMaxRunning: null },
      ),
      recoverLostAttempts(deps(), { leaseMs: 1000, retryBaseMs: 10, defaultMaxRunning: null }),
    ]);
    const [job] = await q(`SELECT state, "lastSeq" FROM "Job" WHERE id = $1`, [id]);
    const attempts = await q(`SELECT state FROM "JobAttempt" WHERE "jobId" = $1`, [id]);
    expect(attempts).toHaveLength(1);
    // Either the finish won (the attempt SUCCEEDED with the job) or the sweep did (LOST, the job
    // retried or failed), never a mix.
    if (attempts[0].state === 'SUCCEEDED') expect([job.state, finished]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    else {
      expect(attempts[0].state).toBe('LOST');
      expect(['QUEUED', 'FAILED']).toContain(job.state);
    }
    outcomes.push(attempts[0].state as string);
    const seqs = await q(`SELECT seq FROM "JobEvent" WHERE "jobId" = $1 ORDER BY seq`, [id]);
    expect(seqs.map((r) => r.seq)).toEqual(Array.from({ length: job.lastSeq }, (_, i) => i + 1));
  }
  console.log(
    `finish versus sweep: ${outcomes.filter((o) => o === 'SUCCEEDED').length} finished, ${outcomes.filter((o) => o === 'LOST').length} lost`,
  );
}, 120_000);
