// JobAttempt.diff / diffSince and Job.attempt through GraphQL, on a real run: real worker, git,
// bubblewrap and PostgreSQL; the model is the local OpenAI-compatible mock answering tool_calls.
// Attempt 1 makes a wrong fix (and a notes file), its check fails; attempt 2 makes the right one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSampleRepository, SAMPLE_TEST_COMMAND } from '../examples/sample-repository.ts';
import { runtimeTemplate, upsertRuntimeTemplate } from '../test/agent-runtime-fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { jobWithLists } from '../test/job-lists.ts';
import { startOpenAiMockServer, type MockReply, type OpenAiMockServer } from '../test/openai-mock-server.ts';

const BUGGY = "return title.toLowerCase().replace(/ /g, '-');";
const WRONG = "return title.toLowerCase().replace(/ +/g, '-');";
const FIXED = "return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');";

let t: TestServer;
let mock: OpenAiMockServer;
let roots: string;
let jobId: string;
// Small, so that the 20 aliases a document may hold can exceed it (attempt 2's notes are ~10 KB).
const MAX_RESPONSE_BYTES = 64 * 1024;
const DETAILS = Array.from({ length: 200 }, (_, i) => `Detail ${i + 1}: a run of spaces, commas or other punctuation becomes one dash.`);

beforeAll(async () => {
  roots = await mkdtemp(path.join(tmpdir(), 'autodev-diff-'));
  const repository = await prepareSampleRepository(path.join(roots, 'sample'));
  mock = await startOpenAiMockServer((req) => {
    const second = JSON.stringify(req.body.messages).includes('check:test');
    const turns = req.body.messages.filter((m) => m.role === 'tool').length;
    const script: MockReply[] = second
      ? [
          { toolCalls: [{ name: 'edit_file', arguments: { path: 'slugify.js', oldText: BUGGY, newText: FIXED } }] },
          {
            toolCalls: [
              {
                name: 'write_file',
                arguments: {
                  path: 'NOTES.md',
                  content: ['Second try: every run of other characters is one dash.', ...DETAILS, ''].join('\n'),
                },
              },
            ],
          },
          { text: 'Fixed for real.' },
        ]
      : [
          { toolCalls: [{ name: 'edit_file', arguments: { path: 'slugify.js', oldText: BUGGY, newText: WRONG } }] },
          { toolCalls: [{ name: 'write_file', arguments: { path: 'NOTES.md', content: 'First try: runs of spaces.\n' } }] },
          { toolCalls: [{ name: 'write_file', arguments: { path: 'SCRATCH.txt', content: 'only in attempt 1\n' } }] },
          { text: 'Fixed, I think.' },
        ];
    return script[Math.min(turns, script.length - 1)];
  });
  t = await startTestServer({
    role: 'all',
    env: {
      AUTODEV_MODEL_PROVIDER: 'openai',
      AUTODEV_MODEL_BASE_URL: mock.baseUrl,
      AUTODEV_MODEL_API_KEY: 'sk-test-diff-key',
      AUTODEV_REPOSITORY_ROOTS: roots,
      AUTODEV_RETRY_BASE_MS: '50',
      AUTODEV_MAX_RESPONSE_BYTES: String(MAX_RESPONSE_BYTES),
    },
  });
  await upsertRuntimeTemplate(
    t,
    runtimeTemplate({
      slug: 'fix-twice',
      tools: ['edit_file', 'write_file'],
      checks: [{ name: 'test', command: SAMPLE_TEST_COMMAND, timeoutSeconds: 60 }],
      maxAttempts: 2,
    }),
  );
  const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
    input: { templateSlug: 'fix-twice', input: { repository } },
  });
  expect(created.errors).toBeUndefined();
  jobId = created.data.createJob.id;
  // (Not waitForRuntimeJob: its events and check outputs would not fit in the small response budget.)
  let job: any;
  for (const started = Date.now(); Date.now() - started < 90_000; await new Promise((r) => setTimeout(r, 200))) {
    job = jobWithLists(
      (await t.gql(`query($id: ID!) { job(id: $id) { state attempts { edges { node { errorCode } } } } }`, { id: jobId })).data.job,
    );
    if (['SUCCEEDED', 'FAILED'].includes(job.state)) break;
  }
  expect(job.state, JSON.stringify(job.attempts)).toBe('SUCCEEDED');
  expect(job.attempts.map((a: any) => a.errorCode)).toEqual(['CHECK_FAILED', null]);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await mock?.close();
  await rm(roots, { recursive: true, force: true });
});

const DIFF = /* GraphQL */ `
  fragment D on AttemptDiff {
    fromAttempt
    toAttempt
    baseCommit
    additions
    deletions
    linesCut
    unavailableReason
    files {
      path
      status
      binary
      additions
      deletions
      note
      hunks {
        oldStart
        oldLines
        newStart
        newLines
        lines
      }
    }
  }
  query ($id: ID!, $n: Int!) {
    job(id: $id) {
      attempt(number: $n) {
        number
        baseCommit
        diff {
          ...D
        }
        diffSince {
          ...D
        }
      }
    }
  }
`;
const fileOf = (diff: any, p: string) => diff.files.find((f: any) => f.path === p);

describe('the diff of an attempt', () => {
  it('against the base commit: the files and hunks of its changes.patch', async () => {
    const res = await t.gql(DIFF, { id: jobId, n: 1 });
    expect(res.errors).toBeUndefined();
    const { attempt } = res.data.job;
    expect(attempt.diffSince).toBeNull(); // attempt 1 has no previous attempt
    const diff = attempt.diff;
    expect(diff).toMatchObject({
      fromAttempt: null,
      toAttempt: 1,
      baseCommit: attempt.baseCommit,
      linesCut: 0,
      unavailableReason: null,
      additions: 3,
      deletions: 1,
    });
    expect(diff.files.map((f: any) => [f.path, f.status, f.additions, f.deletions])).toEqual([
      ['NOTES.md', 'ADDED', 1, 0],
      ['SCRATCH.txt', 'ADDED', 1, 0],
      ['slugify.js', 'MODIFIED', 1, 1],
    ]);
    expect(fileOf(diff, 'slugify.js').hunks[0].lines).toEqual(expect.arrayContaining([`-  ${BUGGY}`, `+  ${WRONG}`]));
  });

  it('against the previous attempt: what attempt 2 changed from attempt 1’s result', async () => {
    const res = await t.gql(DIFF, { id: jobId, n: 2 });
    expect(res.errors).toBeUndefined();
    const since = res.data.job.attempt.diffSince;
    expect(since).toMatchObject({ fromAttempt: 1, toAttempt: 2, unavailableReason: null });
    expect(since.files.map((f: any) => [f.path, f.status, f.additions, f.deletions])).toEqual([
      ['NOTES.md', 'MODIFIED', 201, 1],
      ['SCRATCH.txt', 'DELETED', 0, 1],
      ['slugify.js', 'MODIFIED', 1, 1],
    ]);
    const slug = fileOf(since, 'slugify.js').hunks[0];
    expect(slug.lines.filter((l: string) => l[0] !== ' ')).toEqual([`-  ${WRONG}`, `+  ${FIXED}`]);
    expect(slug).toMatchObject({ oldStart: 1, newStart: 1 });
    expect(fileOf(since, 'NOTES.md').hunks[0].lines).toEqual([
      '-First try: runs of spaces.',
      '+Second try: every run of other characters is one dash.',
      ...DETAILS.map((l) => `+${l}`),
    ]);
    // An explicit attempt works the other way round too.
    const back = await t.gql(
      `query($id: ID!) { job(id: $id) { attempt(number: 1) { diffSince(attempt: 2) { fromAttempt files { path status } } } } }`,
      { id: jobId },
    );
    expect(back.data.job.attempt.diffSince).toEqual({
      fromAttempt: 2,
      files: [
        { path: 'NOTES.md', status: 'MODIFIED' },
        { path: 'SCRATCH.txt', status: 'ADDED' },
        { path: 'slugify.js', status: 'MODIFIED' },
      ],
    });
  });

  it('refuses an attempt that is not another one of the job, with a code and a sentence', async () => {
    const q = `query($id: ID!, $other: Int) { job(id: $id) { attempt(number: 2) { diffSince(attempt: $other) { toAttempt } } } }`;
    const self = await t.gql(q, { id: jobId, other: 2 });
    expect(self.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(self.errors?.[0].message).toMatch(/another attempt/);
    const missing = await t.gql(q, { id: jobId, other: 9 });
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(missing.errors?.[0].message).toBe('This job has no attempt 9.');
    expect((await t.gql(`query($id: ID!) { job(id: $id) { attempt(number: 3) { id } } }`, { id: jobId })).data.job.attempt).toBeNull();
    expect(
      (await t.gql(`query($id: ID!) { job(id: $id) { attempt(number: 0) { id } } }`, { id: jobId })).errors?.[0].extensions?.code,
    ).toBe('BAD_USER_INPUT');
  });

  it('a viewer of the project reads it; another project sees no job, so no diff', async () => {
    const viewer = await t.token('VIEWER');
    const mine = await t.gql(`query($id: ID!) { job(id: $id) { attempt(number: 2) { diff { files { path } } } } }`, { id: jobId }, viewer);
    expect(mine.errors).toBeUndefined();
    expect(mine.data.job.attempt.diff.files).toHaveLength(2);
    const other = await t.gql(
      `query($id: ID!) { job(id: $id) { attempt(number: 2) { diff { files { path } } } } }`,
      { id: jobId },
      await t.token('ADMIN', 'diff-other-project'),
    );
    expect(other.errors).toBeUndefined();
    expect(other.data.job).toBeNull();
  });

  it('counts against the response budget: copies of a diff past it in one request are QUERY_TOO_COMPLEX, before any is sent', async () => {
    const one = await t.gql(`query($id: ID!) { job(id: $id) { attempt(number: 2) { diffSince { files { hunks { lines } } } } } }`, {
      id: jobId,
    });
    const bytes = JSON.stringify(one.data).length;
    const copies = Math.ceil(MAX_RESPONSE_BYTES / bytes) + 5;
    expect(copies).toBeLessThanOrEqual(20); // the most aliases one document may hold
    const aliases = Array.from({ length: copies }, (_, i) => `d${i}: diffSince { ...F }`).join('\n');
    const res = await t.gql(
      `fragment F on AttemptDiff { files { hunks { lines } } } query($id: ID!) { job(id: $id) { attempt(number: 2) { ${aliases} } } }`,
      { id: jobId },
    );
    expect(res.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(res.errors?.[0].message).toMatch(/larger than the limit/);
    expect(res.data?.job?.attempt?.d0 ?? null).toBeNull();
  });
});
