import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestServer, type TestServer } from '../test/harness.ts';
import { FEATURE_INPUT, JOB_EVENTS, TRIAGE_INPUT } from '../test/fixtures.ts';
import { JOB_DETAIL, waitForJob } from '../test/scripted.ts';
import { jobWithLists } from '../test/job-lists.ts';

// The real reference runner, in a child process per attempt, with the offline model provider.
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ role: 'all' });
});
afterAll(async () => {
  await t?.close();
});

const UNIT_TESTS_INPUT = {
  modulePath: 'src/cart/total.ts',
  sourceCode: 'export function total(items: { price: number; qty: number }[]) {\n  return items.reduce((s, i) => s + i.price * i.qty, 0);\n}\n',
  framework: 'vitest',
};

const CASES = [
  { slug: 'implement-feature', input: FEATURE_INPUT, review: true, tasks: 3, files: true },
  { slug: 'write-unit-tests', input: UNIT_TESTS_INPUT, review: true, tasks: 2, files: true },
  { slug: 'triage-bug', input: TRIAGE_INPUT, review: false, tasks: 2, files: false },
];

describe('every seeded template runs end to end with the offline provider', () => {
  for (const c of CASES) {
    it(`${c.slug}: QUEUED → RUNNING → tasks → usage → ${c.review ? 'AWAITING_REVIEW → approve → ' : ''}SUCCEEDED, live over graphql-ws`, async () => {
      const ws = t.ws();
      const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
        input: { templateSlug: c.slug, input: c.input, idempotencyKey: `e2e-${c.slug}` },
      });
      expect(created.errors).toBeUndefined();
      const jobId = created.data.createJob.id;
      const sub = collect(ws, JOB_EVENTS, { jobId, afterSeq: 0 }, (items) => items.some((i: any) => i.jobEvents.toState === 'SUCCEEDED'), 60_000);

      if (c.review) {
        const waiting = await waitForJob(t, jobId, ['AWAITING_REVIEW'], 60_000);
        const approved = await t.gql(`mutation($id: ID!) { approveReview(id: $id, comment: "Looks right") { status } }`, { id: waiting.review.id });
        expect(approved.data.approveReview.status).toBe('APPROVED');
      }
      const events = (await sub.done).map((d: any) => d.jobEvents);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const states = events.filter((e) => e.type === 'STATE_CHANGED').map((e) => e.toState);
      expect(states).toEqual(['QUEUED', 'RUNNING', ...(c.review ? ['AWAITING_REVIEW'] : []), 'SUCCEEDED']);
      expect(events.filter((e) => e.type === 'TASK_STARTED')).toHaveLength(c.tasks);
      expect(events.filter((e) => e.type === 'TASK_COMPLETED')).toHaveLength(c.tasks);
      expect(events.filter((e) => e.type === 'USAGE')).toHaveLength(c.tasks);
      const running = events.findIndex((e) => e.toState === 'RUNNING');
      const firstTask = events.findIndex((e) => e.type === 'TASK_STARTED');
      const firstUsage = events.findIndex((e) => e.type === 'USAGE');
      expect(running).toBeLessThan(firstTask);
      expect(firstTask).toBeLessThan(firstUsage);

      const job = jobWithLists((await t.gql(JOB_DETAIL, { id: jobId })).data.job);
      expect(job.state).toBe('SUCCEEDED');
      expect(job.output).toBeTruthy();
      expect(job.costUsd).toBeGreaterThan(0);
      expect(job.attempts[0].guardrailResults.every((g: any) => g.passed)).toBe(true);
      if (c.files) {
        expect(job.attempts[0].artifacts.length).toBe(job.output.files.length);
        const first = job.attempts[0].artifacts[0];
        const body = await (await fetch(first.downloadUrl)).text();
        expect(body).toBe(job.output.files[0].content);
      }
    });
  }
});

/**
 * The case's job, run to SUCCEEDED: the one the test above made (same idempotency key), or made
 * here when this file runs only the test below, so that test needs no other to run first.
 */
async function succeededJob(c: (typeof CASES)[number]): Promise<void> {
  const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
    input: { templateSlug: c.slug, input: c.input, idempotencyKey: `e2e-${c.slug}` },
  });
  expect(created.errors).toBeUndefined();
  const jobId = created.data.createJob.id;
  let job = await waitForJob(t, jobId, ['AWAITING_REVIEW', 'SUCCEEDED', 'FAILED'], 60_000);
  if (job.state === 'AWAITING_REVIEW') {
    await t.gql(`mutation($id: ID!) { approveReview(id: $id, comment: "Looks right") { status } }`, { id: job.review.id });
    job = await waitForJob(t, jobId, ['SUCCEEDED', 'FAILED'], 60_000);
  }
  expect(job.state).toBe('SUCCEEDED');
}

describe('what the runs cost, as the web app reads it', () => {
  it('spend per day, model and template adds up to the jobs’ costs; typical cost per template is the mean of succeeded jobs', async () => {
    for (const c of CASES) await succeededJob(c);
    const jobs = (await t.gql(`{ jobs(first: 50) { edges { node { state costUsd template { slug } } } } }`)).data.jobs.edges.map((e: any) => e.node);
    expect(jobs.length).toBe(CASES.length);
    const spend = (await t.gql(`{ spend(days: 7) { day model templateSlug costUsd inputTokens outputTokens charges } }`)).data.spend;
    const recent = [0, 1].map((d) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10)); // today, or yesterday across midnight UTC
    expect(spend.every((b: any) => recent.includes(b.day) && b.charges > 0 && b.inputTokens > 0)).toBe(true);
    for (const c of CASES) {
      const job = jobs.find((j: any) => j.template.slug === c.slug);
      const total = spend.filter((b: any) => b.templateSlug === c.slug).reduce((s: number, b: any) => s + b.costUsd, 0);
      expect(total).toBeCloseTo(job.costUsd, 8);
      expect(spend.filter((b: any) => b.templateSlug === c.slug).reduce((s: number, b: any) => s + b.charges, 0)).toBe(c.tasks);
    }
    const templates = (await t.gql(`{ templates { edges { node { slug typicalCostUsd } } } }`)).data.templates.edges.map((e: any) => e.node);
    for (const tpl of templates) {
      const job = jobs.find((j: any) => j.template.slug === tpl.slug);
      // fix-failing-tests (agent runtime) has its own test in agent-runtime-offline.test.ts: no job here, no typical cost.
      if (job) expect(tpl.typicalCostUsd).toBeCloseTo(job.costUsd, 8);
      else expect([tpl.slug, tpl.typicalCostUsd]).toEqual(['fix-failing-tests', null]);
    }
    expect((await t.gql(`{ spend(days: 0) { day } }`)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
