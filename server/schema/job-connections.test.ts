import { randomUUID } from 'node:crypto';
import { formatPrismaCursor } from '@pothos/plugin-prisma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJobEvents } from '../jobs/job-event.ts';
import { withTransaction } from '../db/transaction.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { nodesOf } from '../test/job-lists.ts';

// A job's attempts and events are Relay connections: pages with cursors, in order, never mixing jobs.
let t: TestServer;
let jobId: string;
let otherJobId: string;

async function jobWith(events: number, attempts: number): Promise<string> {
  const id = (await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } })).data.createJob.id;
  await withTransaction(t.app.services.pool, (sql) =>
    appendJobEvents(
      sql,
      id,
      Array.from({ length: events }, (_, i) => ({ type: 'LOG' as const, message: `line ${i + 1}`, actor: 'test' })),
    ),
  );
  for (let n = 1; n <= attempts; n++) {
    await t.app.services.pool.query(
      `INSERT INTO "JobAttempt" (id, "jobId", number, state, executor) VALUES (gen_random_uuid(), $1, $2, 'FAILED', 'local')`,
      [id, n],
    );
  }
  return id;
}

const EVENTS = `query($id: ID!, $first: Int, $after: String, $afterSeq: Int) {
  job(id: $id) { events(first: $first, after: $after, afterSeq: $afterSeq) { pageInfo { hasNextPage endCursor } edges { cursor node { seq message } } } }
}`;
const ATTEMPTS = `query($id: ID!, $first: Int, $last: Int, $after: String, $before: String) {
  job(id: $id) { attempts(first: $first, last: $last, after: $after, before: $before) { pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { number } } } }
}`;

beforeAll(async () => {
  t = await startTestServer();
  jobId = await jobWith(7, 3);
  otherJobId = await jobWith(4, 2);
});
afterAll(async () => {
  await t?.close();
});

describe("a job's events", () => {
  it("page in seq order: `first` items, then `after` the page's endCursor, until hasNextPage is false", async () => {
    const seen: number[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: any = await t.gql(EVENTS, { id: jobId, first: 3, after });
      expect(res.errors).toBeUndefined();
      const events = res.data.job.events;
      seen.push(...nodesOf(events).map((e: any) => e.seq));
      if (!events.pageInfo.hasNextPage) break;
      after = events.pageInfo.endCursor;
    }
    const all = nodesOf((await t.gql(EVENTS, { id: jobId })).data.job.events).map((e: any) => e.seq);
    expect(all.length).toBeGreaterThanOrEqual(7);
    expect(seen).toEqual(all);
    expect([...all].sort((a, b) => a - b)).toEqual(all);
  });

  it('start after `afterSeq`, a seq the caller holds (e.g. from the jobEvents subscription)', async () => {
    const all = nodesOf((await t.gql(EVENTS, { id: jobId })).data.job.events).map((e: any) => e.seq);
    const later = nodesOf((await t.gql(EVENTS, { id: jobId, afterSeq: all[2] })).data.job.events).map((e: any) => e.seq);
    expect(later).toEqual(all.slice(3));
  });

  it("give an empty page for a cursor of another job's events, whether or not that event exists", async () => {
    const theirs = (await t.gql(EVENTS, { id: otherJobId, first: 1 })).data.job.events.pageInfo.endCursor;
    const res = await t.gql(EVENTS, { id: jobId, after: theirs });
    expect(res.errors).toBeUndefined();
    expect(res.data.job.events.edges).toEqual([]);
    const nobodys = await t.gql(EVENTS, { id: jobId, after: formatPrismaCursor({ jobId: randomUUID(), seq: 1 }, ['jobId', 'seq']) });
    expect(nobodys).toEqual(res);
  });
});

describe("a job's attempts", () => {
  it('are oldest first; `last: 1` is the latest and says there are earlier ones', async () => {
    const all = (await t.gql(ATTEMPTS, { id: jobId })).data.job.attempts;
    expect(nodesOf(all).map((a: any) => a.number)).toEqual([1, 2, 3]);
    const latest = (await t.gql(ATTEMPTS, { id: jobId, last: 1 })).data.job.attempts;
    expect(nodesOf(latest).map((a: any) => a.number)).toEqual([3]);
    expect(latest.pageInfo.hasPreviousPage).toBe(true);
  });

  it("give an empty page for a cursor of another job's attempts", async () => {
    const theirs = (await t.gql(ATTEMPTS, { id: otherJobId, first: 1 })).data.job.attempts.pageInfo.endCursor;
    const res = await t.gql(ATTEMPTS, { id: jobId, first: 5, after: theirs });
    expect(res.errors).toBeUndefined();
    expect(res.data.job.attempts.edges).toEqual([]);
  });
});
