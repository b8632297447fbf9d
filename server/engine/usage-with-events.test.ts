// The events a runner reports before a usage report are stored in the usage charge's statement
// (runner-event-recorder.ts, charge-usage.ts `before`): in the runner's order, before USAGE, with
// no statement of their own. A charge that is refused stores none of them itself; they are then
// stored on their own, as before, and nothing is lost.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { createScriptedJob, SCRIPTED_RUNNER_COMMAND, scriptedTemplate, upsertTemplate, waitForJob } from '../test/scripted.ts';

const TERMINAL = ['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED', 'BUDGET_EXCEEDED'];

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ role: 'all', env: { AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND } });
  // The scripted runner replays `input.events`.
  await upsertTemplate(
    t.gql,
    scriptedTemplate('replay', {
      maxAttempts: 1,
      inputSchema: { type: 'object', properties: { script: { type: 'string' }, events: { type: 'array' } }, required: ['script'] },
    }),
  );
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const log = (message: string) => ({ type: 'log', level: 'info', message });
// claude-haiku-4-5: $1 per million input tokens.
const usage = (inputTokens: number) => ({ type: 'usage', model: 'claude-haiku-4-5', inputTokens, outputTokens: 0 });
const result = { type: 'result', output: { text: 'done' } };

/** The job's events other than its transitions and the runner's first line, as `type message`, with the seqs of all checked to be 1, 2, 3… */
function runnerEvents(job: { events: { seq: number; type: string; message: string }[] }): string[] {
  expect(job.events.map((e) => e.seq)).toEqual(job.events.map((_, i) => i + 1));
  const [first, ...rest] = job.events.filter((e) => e.type !== 'STATE_CHANGED').map((e) => `${e.type} ${e.message}`);
  expect(first).toBe('LOG attempt 1 running replay');
  return rest;
}

it("the events before a usage are stored with its charge, before USAGE, in the runner's order", async () => {
  const id = await createScriptedJob(t, 'replay', { events: [log('a'), log('b'), usage(1000), log('c'), usage(2000), result] }, 'replay');
  const job = await waitForJob(t, id, TERMINAL);
  expect(job.state).toBe('SUCCEEDED');
  expect(runnerEvents(job)).toEqual([
    'LOG a',
    'LOG b',
    'USAGE claude-haiku-4-5: 1000 in / 0 out tokens, $0.001',
    'LOG c',
    'USAGE claude-haiku-4-5: 2000 in / 0 out tokens, $0.002',
    'GUARDRAIL Guardrails passed (3 checks)',
  ]);
  expect(job.costUsd).toBeCloseTo(0.003, 8);
});

it('a usage the job cannot pay for is refused; the events before it are stored all the same, in order', async () => {
  const id = await createScriptedJob(
    t,
    'replay',
    { events: [log('a'), usage(1000), log('b'), log('c'), usage(50_000), log('d'), result], maxCostUsd: 0.01 },
    'replay',
  );
  const job = await waitForJob(t, id, TERMINAL);
  expect(job.state).toBe('BUDGET_EXCEEDED');
  expect(runnerEvents(job)).toEqual(['LOG a', 'USAGE claude-haiku-4-5: 1000 in / 0 out tokens, $0.001', 'LOG b', 'LOG c']);
  const { rows } = await t.app.services.pool.query(`SELECT count(*)::int AS n FROM "UsageRecord" WHERE "jobId" = $1`, [id]);
  expect(rows[0].n).toBe(1);
  expect(job.costUsd).toBeCloseTo(0.001, 8);
});

it('a usage after a failed write of plain lines ends the attempt with PROTOCOL_VIOLATION, and the worker lives on', async () => {
  // PostgreSQL stores no NUL character: the periodic write of this plain line fails (a plain line
  // lost stops nothing by itself); the usage after the pause then finds the log's write failed.
  const id = await createScriptedJob(
    t,
    'replay',
    { lines: ['a NUL {{nul}} here'], events: [{ pause: 600 }, usage(1000), result] },
    'replay',
  );
  const job = await waitForJob(t, id, TERMINAL);
  expect(job.state).toBe('FAILED');
  expect(job.attempts[0]).toMatchObject({ state: 'FAILED', errorCode: 'PROTOCOL_VIOLATION' });
  const { rows } = await t.app.services.pool.query(`SELECT count(*)::int AS n FROM "UsageRecord" WHERE "jobId" = $1`, [id]);
  expect(rows[0].n).toBe(0);
  // The same worker process still runs jobs.
  const next = await createScriptedJob(t, 'replay', { events: [log('after'), usage(1000), result] }, 'replay');
  expect((await waitForJob(t, next, TERMINAL)).state).toBe('SUCCEEDED');
});
