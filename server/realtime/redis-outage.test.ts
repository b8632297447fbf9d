import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../auth/tokens.ts';
import { appendJobEvents } from '../jobs/job-event.ts';
import { createTestDatabase } from '../test/database.ts';
import { CREATE_JOB, JOB_EVENTS, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, untilLive, type TestServer } from '../test/harness.ts';
import { startRedisProcess } from '../test/redis-process.ts';

// Two API instances on one database and a Redis of this test's own, which it stops and restarts.
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let redis: Awaited<ReturnType<typeof startRedisProcess>>;
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  redis = await startRedisProcess();
  const adminToken = generateSecret();
  a = await startTestServer({ databaseUrl: db.url, redisUrl: redis.url, adminToken });
  b = await startTestServer({ databaseUrl: db.url, redisUrl: redis.url, adminToken });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await redis?.stop();
  await db?.drop();
});

async function logs(jobId: string, n: number, label: string) {
  const { pool, events } = a.app.services;
  await events.publish(
    await appendJobEvents(
      pool,
      jobId,
      Array.from({ length: n }, (_, i) => ({ type: 'LOG' as const, message: `${label} ${i}`, actor: 'test' })),
    ),
  );
}

describe('Redis stops while subscribers are connected', () => {
  it('the API keeps serving; when Redis is back, subscriptions on another instance catch up from PostgreSQL: nothing lost, nothing doubled', async () => {
    const jobId = (await a.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
    const jobSeqs: number[] = [];
    const projectSeqs: number[] = [];
    let projectAny = 0;
    b.ws().subscribe(
      { query: JOB_EVENTS, variables: { jobId } },
      { next: ({ data }: any) => jobSeqs.push(data.jobEvents.seq), error: () => {}, complete: () => {} },
    );
    b.ws().subscribe(
      { query: `subscription { projectEvents { jobId seq } }` },
      {
        next: ({ data }: any) => {
          projectAny++;
          if (data.projectEvents.jobId === jobId) projectSeqs.push(data.projectEvents.seq);
        },
        error: () => {},
        complete: () => {},
      },
    );
    await expect.poll(() => jobSeqs.length).toBe(1); // the creation event, replayed
    // projectEvents replays nothing: it is live on B once another job's creation on A reaches it.
    await untilLive(
      () => projectAny > 0,
      async () => expect((await a.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).errors).toBeUndefined(),
    );
    await logs(jobId, 5, 'before');
    await expect.poll(() => jobSeqs.length).toBe(6);
    await expect.poll(() => projectSeqs.length).toBe(5);

    await redis.stop();
    // Both instances keep answering, promptly.
    const started = Date.now();
    expect((await b.gql(`{ viewer { role } }`)).data.viewer.role).toBe('ADMIN');
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
    const during = await a.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
    expect(during.errors).toBeUndefined();
    await logs(jobId, 10, 'during');
    // A subscription opened during the outage: the replay comes from PostgreSQL; live events follow once Redis is back.
    const lateSeqs: number[] = [];
    b.ws().subscribe(
      { query: JOB_EVENTS, variables: { jobId } },
      { next: ({ data }: any) => lateSeqs.push(data.jobEvents.seq), error: () => {}, complete: () => {} },
    );
    await expect.poll(() => lateSeqs.length, { timeout: 5000 }).toBe(16);
    const outageOpsMs = Date.now() - started;
    expect(outageOpsMs).toBeLessThan(3000);
    await new Promise((r) => setTimeout(r, 2500)); // long enough for queued Redis commands to give up
    await new Promise((r) => setTimeout(r, 500));
    const heldDuring = jobSeqs.length;

    await redis.start();
    // No new event is needed: the reconnect alone brings the missed ones, in order, once each.
    await expect.poll(() => jobSeqs.length, { timeout: 15_000 }).toBe(16);
    expect(jobSeqs).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    await expect.poll(() => projectSeqs.length, { timeout: 15_000 }).toBe(15);
    expect(projectSeqs).toEqual(Array.from({ length: 15 }, (_, i) => i + 2));
    // And live delivery works again.
    await logs(jobId, 2, 'after');
    await expect.poll(() => jobSeqs.length, { timeout: 5000 }).toBe(18);
    expect(new Set(jobSeqs).size).toBe(18);
    await expect.poll(() => lateSeqs.length, { timeout: 5000 }).toBe(18);
    expect(lateSeqs).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    console.log(
      `redis outage: ${outageOpsMs} ms for a query, a health check, a createJob, 10 events and a new subscription's replay while Redis was down; subscriber held ${heldDuring} events during the outage and had all 18 after it came back`,
    );
  }, 90_000);
});
