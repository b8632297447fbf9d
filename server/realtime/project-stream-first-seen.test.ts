// A project's stream took a job's first event to reach it as the job's start, and dropped the
// job's earlier events as duplicates when they came after it. A job's first publishes can come
// late (from another process, or a busy API's event loop, after the worker's next event) or not
// at all (Redis away): its first events were then lost to every project subscriber. Now a job
// first seen at a later event than its first has its events stored since the subscription started
// read from the table first.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createJob } from '../intake/create-job.ts';
import { appendJobEvents } from '../jobs/job-event.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { publishUntilLive } from '../test/publish-log-events.ts';

let t: TestServer;
let projectId: string;
beforeAll(async () => {
  t = await startTestServer();
  const { rows } = await t.app.services.pool.query<{ id: string }>(`SELECT id FROM "Project" WHERE slug = 'default'`);
  projectId = rows[0].id;
});
afterAll(async () => {
  await t?.close();
});

const createdJob = async () =>
  (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id as string;

/** Stores `n` log events of `jobId` without publishing them (as if their publishes were lost or still on their way). */
const storedOnly = (jobId: string, n: number) =>
  appendJobEvents(
    t.app.services.pool,
    jobId,
    Array.from({ length: n }, (_, k) => ({ type: 'LOG' as const, message: `stored ${k}`, actor: 'test' })),
  );

it("delivers a job's events stored since the subscription started when its first publishes came late or never", async () => {
  const before = await createdJob(); // created (seq 1) before the subscription
  const seqs = new Map<string, number[]>();
  let ended: string | null = null;
  t.ws().subscribe(
    { query: 'subscription { projectEvents { jobId seq } }' },
    {
      next: (m: any) => {
        const e = m.data?.projectEvents;
        if (e) seqs.set(e.jobId, [...(seqs.get(e.jobId) ?? []), e.seq]);
      },
      error: (err) => (ended = `failed: ${JSON.stringify(err)}`),
      complete: () => (ended = 'completed'),
    },
  );
  const probe = await createdJob();
  await publishUntilLive(t.app.services, probe, () => seqs.has(probe));

  // A job created before the subscription: its events stored since, then only the last one published.
  const stored = await storedOnly(before, 3);
  await t.app.services.events.publish(stored.slice(-1));

  // A job created after it whose creation was never published (a bus that drops it), then its next event published.
  const lost = await createJob(
    { pool: t.app.services.pool, events: { ...t.app.services.events, publish: async () => {} } },
    { projectId, templateSlug: 'triage-bug', input: TRIAGE_INPUT, createdById: null, createdBy: 'test' },
  );
  await t.app.services.events.publish(await storedOnly(lost.jobId, 1));

  await expect
    .poll(() => ({ before: seqs.get(before), lost: seqs.get(lost.jobId), ended }), { timeout: 10_000 })
    .toEqual({ before: stored.map((e) => e.seq), lost: [1, 2], ended: null });
});
