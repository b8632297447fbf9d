import { generateSecret } from '../auth/tokens.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_REDIS_URL } from '../test/database.ts';
import { driveJob } from '../test/drive-job.ts';
import { CREATE_JOB, JOB_EVENTS, TRIAGE_INPUT } from '../test/fixtures.ts';
import { collect, startTestServer, untilLive, type TestServer } from '../test/harness.ts';

// Two API instances on one database and one Redis, as on a cluster.
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  // Instances of one deployment share AUTODEV_ADMIN_TOKEN (a different value revokes the old one).
  const adminToken = generateSecret();
  a = await startTestServer({ databaseUrl: db.url, redisUrl: TEST_REDIS_URL, adminToken });
  b = await startTestServer({ databaseUrl: db.url, redisUrl: TEST_REDIS_URL, adminToken });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await db?.drop();
});

describe('with REDIS_URL set', () => {
  it('an event published by one server instance reaches a subscriber connected to another', async () => {
    const created = await a.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
    const jobId = created.data.createJob.id;
    // Subscribe on B, live only after the creation event (afterSeq 1): everything must come through Redis.
    const sub = collect(b.ws(b.adminToken), JOB_EVENTS, { jobId, afterSeq: 1 }, (items) => items.length >= 2, 45_000);
    const ofJob = (items: any[]) => items.filter((d) => d.projectEvents.jobId === jobId);
    const project = collect(
      b.ws(a.adminToken),
      `subscription { projectEvents { jobId seq toState } }`,
      {},
      (items) => ofJob(items).length >= 2,
      45_000,
    );
    // projectEvents replays nothing: it is live on B once another job's creation on A reaches it.
    await untilLive(
      () => project.items.length > 0,
      async () => expect((await a.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).errors).toBeUndefined(),
    );
    await driveJob(a.app.services, jobId, 'SUCCEEDED'); // published by instance A
    expect((await sub.done).map((d: any) => [d.jobEvents.seq, d.jobEvents.toState])).toEqual([
      [2, 'RUNNING'],
      [3, 'SUCCEEDED'],
    ]);
    expect(ofJob(await project.done).map((d: any) => d.projectEvents.seq)).toEqual([2, 3]);
  }, 90_000);
});
