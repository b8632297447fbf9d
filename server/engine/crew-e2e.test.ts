import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestServer, type TestServer } from '../test/harness.ts';
import { JOB_EVENTS, TRIAGE_INPUT } from '../test/fixtures.ts';
import { JOB_DETAIL, waitForJob } from '../test/scripted.ts';
import { jobWithLists } from '../test/job-lists.ts';
import { applyPatchAndRun } from '../test/agent-runtime-fixtures.ts';
import { prepareSampleRepository } from '../examples/sample-repository.ts';

// Each bundled template run by the real runner in a child process per attempt, with the offline
// model: triage-bug on the reference path (one completion per task), the three code crews on the
// agent runtime (a clone of the sample repository, the tools, npm test as the check).
let t: TestServer;
let sample: string;
/** The sample repository with its bug fixed (one more commit): its tests pass, as write-unit-tests' check needs. */
let passing: string;
beforeAll(async () => {
  const roots = await mkdtemp(path.join(tmpdir(), 'autodev-repos-'));
  passing = await prepareSampleRepository(path.join(roots, 'passing'));
  await writeFile(
    path.join(passing, 'slugify.js'),
    "export function slugify(title) {\n  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');\n}\n",
  );
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', 'commit', '-qam', 'Fix slugify'], { cwd: passing });
  t = await startTestServer({ role: 'all', env: { AUTODEV_REPOSITORY_ROOTS: roots } });
  sample = t.app.services.config.sampleRepository;
}, 60_000);
afterAll(async () => {
  await t?.close();
});

interface Case {
  slug: string;
  input: () => Record<string, unknown>;
  review: boolean;
  tasks: number;
  /** Model calls, each one charge: one per task on the reference path; one per tool step and one per answer on the tool loop. */
  charges: number;
  /** Agent runtime: the repository it clones, and the files its patch changes. */
  runtime?: { repository: () => string; files: string[] };
}

const CASES: Case[] = [
  {
    slug: 'implement-feature',
    input: () => ({
      repository: sample,
      title: 'Collapse punctuation in slugs',
      specification: 'slugify turns every run of spaces and punctuation into one dash.',
      language: 'javascript',
    }),
    review: true,
    tasks: 3,
    // plan: list, read the playbook, read the README, answer; implement: 5 tool calls + answer; test: 4 + answer.
    charges: 4 + 6 + 5,
    runtime: { repository: () => sample, files: ['slugify.edge.test.js', 'slugify.js'] },
  },
  {
    slug: 'write-unit-tests',
    input: () => ({ repository: passing, modulePath: 'slugify.js' }),
    review: true,
    tasks: 2,
    charges: 4 + 6,
    runtime: { repository: () => passing, files: ['slugify.cases.test.js'] },
  },
  {
    slug: 'fix-failing-tests',
    input: () => ({ repository: sample }),
    review: true,
    tasks: 1,
    charges: 8,
    runtime: { repository: () => sample, files: ['slugify.js'] },
  },
  { slug: 'triage-bug', input: () => TRIAGE_INPUT, review: false, tasks: 2, charges: 2 },
];

describe('every seeded template runs end to end with the offline provider', () => {
  for (const c of CASES) {
    it(`${c.slug}: QUEUED → RUNNING → tasks → usage → ${c.review ? 'AWAITING_REVIEW → approve → ' : ''}SUCCEEDED, live over graphql-ws`, async () => {
      const ws = t.ws();
      const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
        input: { templateSlug: c.slug, input: c.input(), idempotencyKey: `e2e-${c.slug}` },
      });
      expect(created.errors).toBeUndefined();
      const jobId = created.data.createJob.id;
      const sub = collect(
        ws,
        JOB_EVENTS,
        { jobId, afterSeq: 0 },
        (items) => items.some((i: any) => i.jobEvents.toState === 'SUCCEEDED'),
        60_000,
      );

      if (c.review) {
        const waiting = await waitForJob(t, jobId, ['AWAITING_REVIEW'], 60_000);
        const approved = await t.gql(`mutation($id: ID!) { approveReview(id: $id, comment: "Looks right") { status } }`, {
          id: waiting.review.id,
        });
        expect(approved.data.approveReview.status).toBe('APPROVED');
      }
      const events = (await sub.done).map((d: any) => d.jobEvents);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const states = events.filter((e) => e.type === 'STATE_CHANGED').map((e) => e.toState);
      expect(states).toEqual(['QUEUED', 'RUNNING', ...(c.review ? ['AWAITING_REVIEW'] : []), 'SUCCEEDED']);
      expect(events.filter((e) => e.type === 'TASK_STARTED')).toHaveLength(c.tasks);
      expect(events.filter((e) => e.type === 'TASK_COMPLETED')).toHaveLength(c.tasks);
      expect(events.filter((e) => e.type === 'USAGE')).toHaveLength(c.charges);
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
      if (c.runtime) {
        // The result is the patch: it applies on the base commit and the repository's tests pass with it.
        expect(job.attempts[0].guardrailResults.map((g: any) => g.name)).toContain('check:test');
        expect(job.output.files.map((f: any) => f.path).sort()).toEqual(c.runtime.files);
        expect(job.attempts[0].artifacts.map((a: any) => a.path).sort()).toEqual(
          ['changes.patch', ...c.runtime.files.map((f) => `files/${f}`)].sort(),
        );
        const patch = job.attempts[0].artifacts.find((a: any) => a.path === 'changes.patch');
        const body = Buffer.from(await (await fetch(patch.downloadUrl)).arrayBuffer());
        expect((await applyPatchAndRun(c.runtime.repository(), job.output.baseCommit, body, ['node', '--test'])).status).toBe(0);
      } else {
        expect(job.attempts[0].artifacts).toEqual([]);
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
    input: { templateSlug: c.slug, input: c.input(), idempotencyKey: `e2e-${c.slug}` },
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
    const jobs = (await t.gql(`{ jobs(first: 50) { edges { node { state costUsd template { slug } } } } }`)).data.jobs.edges.map(
      (e: any) => e.node,
    );
    expect(jobs.length).toBe(CASES.length);
    const spend = (await t.gql(`{ spend(days: 7) { day model templateSlug costUsd inputTokens outputTokens charges } }`)).data.spend;
    const recent = [0, 1].map((d) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10)); // today, or yesterday across midnight UTC
    expect(spend.every((b: any) => recent.includes(b.day) && b.charges > 0 && b.inputTokens > 0)).toBe(true);
    for (const c of CASES) {
      const job = jobs.find((j: any) => j.template.slug === c.slug);
      const total = spend.filter((b: any) => b.templateSlug === c.slug).reduce((s: number, b: any) => s + b.costUsd, 0);
      expect(total).toBeCloseTo(job.costUsd, 8);
      expect(spend.filter((b: any) => b.templateSlug === c.slug).reduce((s: number, b: any) => s + b.charges, 0)).toBe(c.charges);
    }
    const templates = (await t.gql(`{ templates { edges { node { slug typicalCostUsd } } } }`)).data.templates.edges.map(
      (e: any) => e.node,
    );
    expect(templates).toHaveLength(CASES.length);
    for (const tpl of templates) expect(tpl.typicalCostUsd).toBeCloseTo(jobs.find((j: any) => j.template.slug === tpl.slug).costUsd, 8);
    expect((await t.gql(`{ spend(days: 0) { day } }`)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
