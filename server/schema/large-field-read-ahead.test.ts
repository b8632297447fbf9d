// A page of jobs reads its rows' large fields ahead (large-field-read-ahead.ts), and may read more
// rows than it answers with (a connection's extra row, a field under @skip): the response budget
// still counts exactly what is sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../db/transaction.ts';
import { appendJobEvents } from '../jobs/job-event.ts';
import { CREATE_JOB, TRIAGE_INPUT } from '../test/fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';

const LIMIT = 1000;
// Read ahead: values up to what is left of the limit per row read (1000 / 4 for a page of three).
const SIZES = [100, 100, 100, 2000, 100];

const PAGE = `query($first: Int!, $afterSeq: Int!, $skip: Boolean!) {
  jobs(first: 1) { edges { node { events(first: $first, afterSeq: $afterSeq) { edges { node { seq message @skip(if: $skip) } } } } } }
}`;

let t: TestServer;
let afterSeq: number;
beforeAll(async () => {
  t = await startTestServer({ env: { AUTODEV_MAX_RESPONSE_BYTES: String(LIMIT) } });
  const created = await t.gql(CREATE_JOB, { input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT } });
  expect(created.errors).toBeUndefined();
  const jobId = created.data.createJob.id as string;
  const appended = await withTransaction(t.app.services.pool, (sql) =>
    appendJobEvents(
      sql,
      jobId,
      SIZES.map((bytes, i) => ({ type: 'LOG' as const, message: String(i).repeat(bytes), actor: 'test' })),
    ),
  );
  afterSeq = appended[0].seq - 1;
});
afterAll(async () => {
  await t?.close();
});

describe('large fields read ahead with a page of jobs', () => {
  it('count only the occurrences answered: three messages fit although the page read a fourth (2,000 bytes: it tells hasNextPage)', async () => {
    const res = await t.gql(PAGE, { first: 3, afterSeq, skip: false });
    expect(res.errors).toBeUndefined();
    const events = res.data.jobs.edges[0].node.events.edges.map((e: any) => e.node);
    expect(events.map((e: any) => e.message)).toEqual(['0', '1', '2'].map((c) => c.repeat(100)));
  });

  it('refuse 11 pages × 100 bytes over a 1,000-byte limit (read ahead until the kept values fill the limit, then by their resolvers), with QUERY_TOO_COMPLEX and no data', async () => {
    const page = (i: number) =>
      `p${i}: jobs(first: 1) { edges { node { events(first: 1, afterSeq: $afterSeq) { edges { node { message } } } } } }`;
    const res = await t.gql(`query($afterSeq: Int!) { ${Array.from({ length: 11 }, (_, i) => page(i)).join(' ')} }`, { afterSeq });
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    const ten = await t.gql(`query($afterSeq: Int!) { ${Array.from({ length: 10 }, (_, i) => page(i)).join(' ')} }`, { afterSeq });
    expect(ten.errors).toBeUndefined();
  });

  it('refuse a page whose answered messages exceed the limit (the fourth, 2,000 bytes, read by its resolver)', async () => {
    const res = await t.gql(PAGE, { first: 4, afterSeq, skip: false });
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('count nothing for a message under @skip', async () => {
    const res = await t.gql(PAGE, { first: 5, afterSeq, skip: true });
    expect(res.errors).toBeUndefined();
    expect(res.data.jobs.edges[0].node.events.edges.map((e: any) => e.node.seq)).toHaveLength(5);
  });
});
