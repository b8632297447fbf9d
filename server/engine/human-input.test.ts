// Human input mid-run, end to end: the reference runner in a child process per attempt, a local
// server speaking OpenAI's protocol as the model (it records every prompt), real PostgreSQL and
// graphile-worker. A task with a question pauses the job (AWAITING_INPUT) with nothing running;
// provideInput resumes it on a new attempt that reuses the asking task and shows the answer to
// the next task.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { jobWithLists } from '../test/job-lists.ts';
import { startOpenAiMockServer, type OpenAiMockServer, type ReceivedRequest } from '../test/openai-mock-server.ts';
import { upsertTemplate, waitForJob } from '../test/scripted.ts';

let t: TestServer;
let model: OpenAiMockServer;

const OUTPUT = { summary: 'Built it.' };
const template = (slug: string, ask: Record<string, unknown>) => ({
  slug,
  name: slug,
  description: 'Asks a person after planning',
  crew: {
    process: 'sequential',
    agents: [{ id: 'lead', role: 'Tech lead', goal: 'Plan and build', backstory: 'Careful.', model: 'claude-haiku-4-5' }],
    tasks: [
      { id: 'plan', description: 'Plan {title}', expectedOutput: 'A plan', agent: 'lead', ...ask },
      { id: 'build', description: 'Build {title} as planned', expectedOutput: 'A summary', agent: 'lead' },
    ],
  },
  inputSchema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
  outputSchema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] },
  maxAttempts: 2,
  timeoutSeconds: 60,
});

const taskOf = (r: ReceivedRequest) => /Current task: (\w+)/.exec(r.body.messages.map((m) => m.content).join('\n'))?.[1];
const promptOf = (r: ReceivedRequest) => r.body.messages.map((m) => m.content).join('\n');

beforeAll(async () => {
  model = await startOpenAiMockServer((req) => {
    const task = taskOf(req);
    if (task === 'Plan') return { text: 'Plan: two steps.', usage: { promptTokens: 1000, completionTokens: 100 } };
    return { text: JSON.stringify(OUTPUT), usage: { promptTokens: 2000, completionTokens: 200 } };
  });
  t = await startTestServer({
    role: 'all',
    env: { AUTODEV_MODEL_PROVIDER: 'openai', AUTODEV_MODEL_BASE_URL: model.baseUrl, AUTODEV_ATTEMPT_LEASE_MS: '3000' },
  });
  await upsertTemplate(t.gql, template('ask-then-build', { question: 'Which database should {title} use?' }));
  await upsertTemplate(t.gql, template('ask-or-continue', { humanInput: true, inputTimeoutSeconds: 1, onInputTimeout: 'continue' }));
  await upsertTemplate(t.gql, template('ask-or-fail', { humanInput: true, inputTimeoutSeconds: 1 }));
}, 60_000);
afterAll(async () => {
  await t?.close();
  await model?.close();
});

const DETAIL = /* GraphQL */ `
  query ($id: ID!) {
    job(id: $id) {
      id
      state
      lastError
      output
      costUsd
      inputRequest {
        task
        question
        askedAt
        expiresAt
        onTimeout
      }
      attempts {
        edges {
          node {
            number
            state
            exitReason
          }
        }
      }
      checkpoints {
        task
        attemptNumber
        output
        costUsd
        question
        answer
        answeredBy
        superseded
      }
      events {
        edges {
          node {
            type
            toState
            message
            data
          }
        }
      }
    }
  }
`;
const job = async (id: string) => jobWithLists((await t.gql(DETAIL, { id })).data.job);

async function create(slug: string, title: string): Promise<string> {
  const res = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
    input: { templateSlug: slug, input: { title } },
  });
  expect(res.errors).toBeUndefined();
  return res.data.createJob.id;
}

const PROVIDE = `mutation($jobId: ID!, $answer: String!) { provideInput(jobId: $jobId, answer: $answer) { id state inputRequest { task } } }`;

/** Processes whose command line names the job (the runner's spec path holds its id). */
function processesOf(jobId: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(jobId);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('a task that asks a person', () => {
  it('pauses the job with nothing running, and one provideInput resumes it after that task with the answer in the next prompt', async () => {
    const id = await create('ask-then-build', 'the orders service');
    await waitForJob(t, id, ['AWAITING_INPUT'], 60_000);
    const waiting = await job(id);
    expect(waiting.inputRequest).toMatchObject({
      task: 'plan',
      question: 'Which database should the orders service use?',
      expiresAt: null,
    });
    expect(waiting.attempts.map((a: any) => a.state)).toEqual(['PAUSED']);
    expect(waiting.checkpoints).toMatchObject([
      {
        task: 'plan',
        attemptNumber: 1,
        output: 'Plan: two steps.',
        question: 'Which database should the orders service use?',
        answer: null,
      },
    ]);
    // No runner process and no graphile-worker job (locked or not) for it: nothing holds a slot.
    expect(processesOf(id)).toEqual([]);
    const queue = await t.app.services.pool.query(`SELECT locked_by FROM graphile_worker._private_jobs WHERE payload->>'jobId' = $1`, [id]);
    expect(queue.rows).toEqual([]);
    expect(model.requests.filter((r) => promptOf(r).includes('the orders service')).map(taskOf)).toEqual(['Plan']);

    // Two people answer at once: exactly one wins, the other is told it lost.
    const operator = await t.token('OPERATOR');
    const [a, b] = await Promise.all([
      t.gql(PROVIDE, { jobId: id, answer: 'PostgreSQL, please.' }, operator),
      t.gql(PROVIDE, { jobId: id, answer: 'SQLite.' }),
    ]);
    const winners = [a, b].filter((r) => !r.errors);
    const losers = [a, b].filter((r) => r.errors);
    expect(winners).toHaveLength(1);
    expect(winners[0].data.provideInput).toMatchObject({ state: 'QUEUED', inputRequest: null });
    expect(losers[0].errors![0].extensions?.code).toBe('CONFLICT');
    expect(losers[0].errors![0].message).toMatch(/not AWAITING_INPUT|changed while/);
    const answer = winners[0] === a ? 'PostgreSQL, please.' : 'SQLite.';

    const done = await waitForJob(t, id, ['SUCCEEDED', 'FAILED'], 60_000);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.output).toEqual(OUTPUT);
    const final = await job(id);
    expect(final.attempts.map((x: any) => [x.number, x.state])).toEqual([
      [1, 'PAUSED'],
      [2, 'SUCCEEDED'],
    ]);
    expect(final.checkpoints.map((c: any) => [c.task, c.attemptNumber, c.answer])).toEqual([
      ['plan', 1, answer],
      ['build', 2, null],
    ]);
    // The plan ran once (attempt 1); the build's prompt carries the answer.
    const calls = model.requests.filter((r) => promptOf(r).includes('the orders service'));
    expect(calls.map(taskOf)).toEqual(['Plan', 'Build']);
    expect(promptOf(calls[1])).toContain(`Human input on task "plan":\n${answer}`);
    expect(promptOf(calls[1])).toContain('Plan: two steps.');
    // Charged once per model call: $0.0015 (plan, attempt 1) + $0.003 (build, attempt 2) at $1/$5 per million.
    const usage = await t.app.services.pool.query(
      `SELECT u.task, a.number FROM "UsageRecord" u JOIN "JobAttempt" a ON a.id = u."attemptId" WHERE u."jobId" = $1 ORDER BY u."createdAt"`,
      [id],
    );
    expect(usage.rows).toEqual([
      { task: 'plan', number: 1 },
      { task: 'build', number: 2 },
    ]);
    expect(final.events.filter((e: any) => e.type === 'STATE_CHANGED').map((e: any) => e.toState)).toEqual([
      'QUEUED',
      'RUNNING',
      'AWAITING_INPUT',
      'QUEUED',
      'RUNNING',
      'SUCCEEDED',
    ]);
    expect(final.events.find((e: any) => e.toState === 'AWAITING_INPUT').data).toMatchObject({
      task: 'plan',
      question: 'Which database should the orders service use?',
    });
    expect(final.events.some((e: any) => e.type === 'LOG' && /Resuming from checkpoints: plan reused/.test(e.message))).toBe(true);

    // The job no longer waits: another answer is a CONFLICT.
    const late = await t.gql(PROVIDE, { jobId: id, answer: 'too late' });
    expect(late.errors![0].extensions?.code).toBe('CONFLICT');
  }, 120_000);

  it('refuses an empty answer, a viewer, and another project; cancelJob ends the wait', async () => {
    const id = await create('ask-then-build', 'the cancel case');
    await waitForJob(t, id, ['AWAITING_INPUT'], 60_000);
    const empty = await t.gql(PROVIDE, { jobId: id, answer: '   ' });
    expect(empty.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'answer' });
    const viewer = await t.gql(PROVIDE, { jobId: id, answer: 'hi' }, await t.token('VIEWER'));
    expect(viewer.errors![0].extensions?.code).toBe('FORBIDDEN');
    const stranger = await t.gql(PROVIDE, { jobId: id, answer: 'hi' }, await t.token('ADMIN', 'other'));
    expect(stranger.errors![0].extensions?.code).toBe('NOT_FOUND');
    const cancelled = await t.gql(`mutation($id: ID!) { cancelJob(id: $id, reason: "not needed") { state inputRequest { task } } }`, {
      id,
    });
    expect(cancelled.data.cancelJob).toEqual({ state: 'CANCELLED', inputRequest: null });
    const after = await t.gql(PROVIDE, { jobId: id, answer: 'hi' });
    expect(after.errors![0].extensions?.code).toBe('CONFLICT');
  }, 120_000);

  it("ends a wait past inputTimeoutSeconds with the task's outcome: continue without an answer, or fail", async () => {
    const going = await create('ask-or-continue', 'the timeout case');
    const failing = await create('ask-or-fail', 'the failing case');
    const continued = await waitForJob(t, going, ['SUCCEEDED', 'FAILED'], 60_000);
    expect(continued.state).toBe('SUCCEEDED');
    const build = model.requests.filter((r) => promptOf(r).includes('the timeout case')).at(-1)!;
    expect(promptOf(build)).toContain('Human input on task "plan":\n(No answer was given within the time allowed');
    expect((await job(going)).checkpoints[0]).toMatchObject({ answer: null, answeredBy: 'timeout' });

    const failed = await waitForJob(t, failing, ['FAILED', 'SUCCEEDED'], 60_000);
    expect(failed.state).toBe('FAILED');
    expect(failed.lastError).toMatch(/^INPUT_TIMEOUT: No answer to task plan came in time/);
  }, 120_000);
});
