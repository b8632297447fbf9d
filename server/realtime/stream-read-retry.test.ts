// A stream's read of stored events (a job's replay, a project's gap fill) whose connection is cut
// while it runs (a restart, a failover, an operator's pg_terminate_backend) is read again: the
// subscriber gets every event in order and its subscription stays open. Before, the read's failure
// ended the subscription with an error, and a project's subscriber, who has no afterSeq to resume
// from, lost whatever came meanwhile.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJobEvents } from '../jobs/job-event.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { publishUntilLive } from '../test/publish-log-events.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.close();
});

/** What a subscriber received: the seqs of one job's events, and how the subscription ended (null: open). */
function subscriber(query: string, variables: Record<string, unknown>, jobId: string) {
  const seqs: number[] = [];
  let ended: string | null = null;
  t.ws().subscribe(
    { query, variables },
    {
      next: (m: any) => {
        if (m.errors) ended = `errors: ${JSON.stringify(m.errors)}`;
        const e = m.data?.projectEvents ?? m.data?.jobEvents;
        if (e?.jobId === jobId) seqs.push(e.seq);
      },
      error: (err) => (ended = `failed: ${JSON.stringify(err)}`),
      complete: () => (ended ??= 'completed'),
    },
  );
  return { seqs, ended: () => ended };
}

/**
 * Holds an exclusive lock on the events table until the next read of it waits, cuts that read's
 * connection, then lets go: the read fails as a cut connection does (57P01). The waiting read is
 * looked for from a connection of its own (pg_stat_activity is a snapshot within a transaction).
 */
async function cutTheNextRead(): Promise<{ cut: Promise<number> }> {
  const locker = new pg.Client({ connectionString: t.databaseUrl });
  const watcher = new pg.Client({ connectionString: t.databaseUrl });
  await Promise.all([locker.connect(), watcher.connect()]);
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE "JobEvent" IN ACCESS EXCLUSIVE MODE');
  const cut = (async () => {
    try {
      for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
        const { rows } = await watcher.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity
           WHERE datname = current_database() AND state = 'active' AND wait_event_type = 'Lock' AND query LIKE '%FROM "JobEvent" WHERE "jobId" = $1 AND seq > $2 ORDER BY seq LIMIT%'`,
        );
        if (rows.length === 0) continue;
        await watcher.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid', [rows.map((r) => r.pid)]);
        return rows.length;
      }
      return 0;
    } finally {
      await locker.query('COMMIT');
      await Promise.all([locker.end(), watcher.end()]);
    }
  })();
  return { cut };
}

async function jobWithStoredEvents(n: number) {
  const jobId = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id as string;
  const stored = await appendJobEvents(
    t.app.services.pool,
    jobId,
    Array.from({ length: n }, (_, k) => ({ type: 'LOG' as const, message: `stored ${k}`, actor: 'test' })),
  );
  return { jobId, stored };
}

describe("a stream's read of stored events whose connection is cut", () => {
  it("a project's gap fill is read again: every event arrives in order and the subscription stays open", async () => {
    const jobId = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id as string;
    const s = subscriber('subscription { projectEvents { jobId seq } }', {}, jobId);
    await publishUntilLive(t.app.services, jobId, () => s.seqs.length > 0);
    const before = s.seqs.length;
    // Stored only, then the last one published: the stream reads the ones before it from the table.
    const stored = await appendJobEvents(
      t.app.services.pool,
      jobId,
      Array.from({ length: 5 }, (_, k) => ({ type: 'LOG' as const, message: `stored ${k}`, actor: 'test' })),
    );
    const { cut } = await cutTheNextRead();
    await t.app.services.events.publish(stored.slice(-1));
    expect(await cut, 'the gap fill was waiting and its connection was cut').toBeGreaterThan(0);
    await expect
      .poll(() => ({ seqs: s.seqs.slice(before), ended: s.ended() }), { timeout: 20_000 })
      .toEqual({ seqs: stored.map((e) => e.seq), ended: null });
  }, 40_000);

  it("a job's replay is read again: every stored event arrives in order, then live ones", async () => {
    const { jobId, stored } = await jobWithStoredEvents(5);
    const { cut } = await cutTheNextRead();
    const s = subscriber('subscription($id: ID!) { jobEvents(jobId: $id) { jobId seq } }', { id: jobId }, jobId);
    expect(await cut, 'the replay was waiting and its connection was cut').toBeGreaterThan(0);
    // Every event of the job from its first (the job's creation, then the stored ones), in order.
    const upTo = (seq: number) => Array.from({ length: seq }, (_, k) => k + 1);
    await expect
      .poll(() => ({ seqs: s.seqs, ended: s.ended() }), { timeout: 20_000 })
      .toEqual({ seqs: upTo(stored[stored.length - 1].seq), ended: null });
    const live = await appendJobEvents(t.app.services.pool, jobId, [{ type: 'LOG', message: 'live', actor: 'test' }]);
    await t.app.services.events.publish(live);
    await expect.poll(() => ({ seqs: s.seqs, ended: s.ended() }), { timeout: 10_000 }).toEqual({ seqs: upTo(live[0].seq), ended: null });
  }, 40_000);
});
