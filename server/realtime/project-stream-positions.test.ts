// What a project's stream remembers of each job, and what it reads for a job it first sees late.
//
// A project's stream took a job's first event to reach it as the job's start, and dropped the
// job's earlier events as duplicates when they came after it. A job's first publishes can come
// late (from another process, or a busy API's event loop, after the worker's next event) or not
// at all (Redis away): its first events were then lost to every project subscriber. Now a job
// first seen at a later event than its first has its events stored since the subscription started
// read from the table first.
//
// A project's stream lives as long as its subscribers (a dashboard open for weeks) and kept the
// position of every job it ever saw: one entry per job, for good. It now forgets a job's position
// ten minutes after the job ended, and keeps at most MAX_ENDED ended jobs; a job that has not
// ended is never forgotten. Within the window a late duplicate is still dropped; after it, a late
// event of the job is delivered as a new job's first event is.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createJob } from '../intake/create-job.ts';
import { appendJobEvents, type JobEventRecord } from '../jobs/job-event.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { publishUntilLive } from '../test/publish-log-events.ts';
import { FORGET_ENDED_MS, MAX_ENDED, projectEventStream } from './job-event-stream.ts';

let t: TestServer;
let projectId: string;
beforeAll(async () => {
  t = await startTestServer();
  const { rows } = await t.app.services.pool.query<{ id: string }>(`SELECT id FROM "Project" WHERE slug = 'default'`);
  projectId = rows[0].id;
});
afterEach(() => {
  vi.useRealTimers();
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

/** A project's stream read as a subscriber reads it, live once a job's first event came through. */
async function openStream() {
  const stream = projectEventStream(t.app.services, projectId, { maxPendingBytes: 1 << 30 });
  const received: JobEventRecord[] = [];
  void (async () => {
    for await (const e of stream) received.push(e);
  })();
  const probeJob = await createdJob();
  for (let seq = 100; !received.some((e) => e.jobId === probeJob); seq++) {
    await t.app.services.events.publish([event(probeJob, seq, false)]);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { stream, received };
}

/** An event as the bus carries it (the stream delivers a job's first event without reading the table). */
function event(jobId: string, seq: number, ends: boolean): JobEventRecord {
  return {
    id: seq,
    jobId,
    projectId,
    seq,
    type: ends ? 'STATE_CHANGED' : 'LOG',
    fromState: ends ? 'RUNNING' : null,
    toState: ends ? 'SUCCEEDED' : null,
    message: 'test',
    data: null,
    actor: 'test',
    attemptNumber: null,
    createdAt: new Date().toISOString(),
  };
}

it("forgets an ended job's position after ten minutes; a late duplicate before then is dropped, a late event after it delivered", async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  const { stream, received } = await openStream();
  const running = randomUUID();
  const ended = Array.from({ length: 20 }, () => randomUUID());
  await t.app.services.events.publish([event(running, 1, false)]);
  for (const jobId of ended) await t.app.services.events.publish([event(jobId, 1, false), event(jobId, 2, true)]);
  await vi.waitFor(() => expect(received.filter((e) => e.jobId === ended[19]).length).toBe(2), { timeout: 10_000 });
  expect(stream.followedJobs).toBe(22); // the probe job, the running one and the 20 that ended

  // A late duplicate within the window: dropped, as before.
  await t.app.services.events.publish([event(ended[0], 2, true)]);
  vi.setSystemTime(Date.now() + FORGET_ENDED_MS - 1000);
  const another = randomUUID();
  await t.app.services.events.publish([event(another, 1, true)]);
  await vi.waitFor(() => expect(received.some((e) => e.jobId === another)).toBe(true), { timeout: 10_000 });
  expect(received.filter((e) => e.jobId === ended[0]).map((e) => e.seq)).toEqual([1, 2]);
  expect(stream.followedJobs).toBe(23);

  // Past the window: the 20 are forgotten when the next job ends; the running job and the last one stay.
  vi.setSystemTime(Date.now() + 2000);
  const last = randomUUID();
  await t.app.services.events.publish([event(last, 1, true)]);
  await vi.waitFor(() => expect(received.some((e) => e.jobId === last)).toBe(true), { timeout: 10_000 });
  expect(stream.followedJobs).toBe(4); // the probe job, the running one, `another` (ended 2 s ago) and `last`

  // A late event of a forgotten job is delivered, as a new job's first event is.
  await t.app.services.events.publish([event(ended[0], 3, false)]);
  await vi.waitFor(() => expect(received.filter((e) => e.jobId === ended[0]).map((e) => e.seq)).toEqual([1, 2, 3]), { timeout: 10_000 });
  await stream.return?.();
});

it(`keeps at most ${MAX_ENDED} ended jobs' positions, the oldest forgotten first`, async () => {
  const { stream, received } = await openStream();
  const jobs = Array.from({ length: MAX_ENDED + 50 }, () => randomUUID());
  for (const jobId of jobs) await t.app.services.events.publish([event(jobId, 1, true)]);
  await vi.waitFor(() => expect(received.some((e) => e.jobId === jobs[jobs.length - 1])).toBe(true), { timeout: 10_000 });
  expect(stream.followedJobs).toBe(MAX_ENDED + 1); // and the probe job, which has not ended
  // The oldest were forgotten: a late event of the first is delivered; of the newest, a duplicate is dropped.
  await t.app.services.events.publish([event(jobs[0], 1, true), event(jobs[jobs.length - 1], 1, true)]);
  const marker = randomUUID();
  await t.app.services.events.publish([event(marker, 1, false)]);
  await vi.waitFor(() => expect(received.some((e) => e.jobId === marker)).toBe(true), { timeout: 10_000 });
  expect(received.filter((e) => e.jobId === jobs[0]).length).toBe(2);
  expect(received.filter((e) => e.jobId === jobs[jobs.length - 1]).length).toBe(1);
  await stream.return?.();
});
