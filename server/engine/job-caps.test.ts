import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { createScriptedJob, SCRIPTED_RUNNER_COMMAND, scriptedTemplate, upsertTemplate, waitForJob } from '../test/scripted.ts';

const TERMINAL = ['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED', 'BUDGET_EXCEEDED'];
const MAX_ARTIFACTS = 3;
const MAX_EVENTS = 40;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    role: 'all',
    env: {
      AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND,
      AUTODEV_MAX_ARTIFACTS_PER_JOB: String(MAX_ARTIFACTS),
      AUTODEV_MAX_EVENTS_PER_JOB: String(MAX_EVENTS),
    },
  });
  // The scripted runner replays `input.events` and `input.lines`; three attempts allowed, to show none is retried.
  await upsertTemplate(
    t.gql,
    scriptedTemplate('replay', {
      inputSchema: {
        type: 'object',
        properties: { script: { type: 'string' }, events: { type: 'array' }, lines: { type: 'array', items: { type: 'string' } } },
        required: ['script'],
      },
    }),
  );
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const artifact = (i: number) => ({
  type: 'artifact',
  path: `out/file-${i}.md`,
  contentType: 'text/markdown',
  encoding: 'utf8',
  content: `# file ${i}\n`,
});
const result = { type: 'result', output: { text: 'done' } };
const stored = async (jobId: string, table: 'Artifact' | 'JobEvent') =>
  (await t.app.services.pool.query(`SELECT count(*)::int AS n FROM "${table}" WHERE "jobId" = $1`, [jobId])).rows[0].n;

describe('per-job caps on stored artifacts and events', () => {
  it(`a job under the caps runs as before (${MAX_ARTIFACTS} artifacts)`, async () => {
    const id = await createScriptedJob(t, 'replay', { events: [artifact(1), artifact(2), artifact(3), result] }, 'replay');
    const job = await waitForJob(t, id, TERMINAL);
    expect(job.state).toBe('SUCCEEDED');
    expect(job.attempts[0].artifacts).toHaveLength(MAX_ARTIFACTS);
  });

  it(`the artifact past ${MAX_ARTIFACTS} fails the attempt with ARTIFACT_LIMIT_REACHED (not retried) and is not stored`, async () => {
    const id = await createScriptedJob(t, 'replay', { events: [...Array.from({ length: 10 }, (_, i) => artifact(i)), result] }, 'replay');
    const job = await waitForJob(t, id, TERMINAL);
    expect(job.state).toBe('FAILED');
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts[0].errorCode).toBe('ARTIFACT_LIMIT_REACHED');
    expect(job.lastError).toContain(`${MAX_ARTIFACTS} artifacts`);
    expect(await stored(id, 'Artifact')).toBe(MAX_ARTIFACTS);
  });

  it(`runner output past ${MAX_EVENTS} events fails the attempt with EVENT_LIMIT_REACHED (not retried); the job's own state changes are still stored`, async () => {
    const id = await createScriptedJob(
      t,
      'replay',
      { lines: Array.from({ length: 200 }, (_, i) => `line ${i}`), events: [result] },
      'replay',
    );
    const job = await waitForJob(t, id, TERMINAL);
    expect(job.state).toBe('FAILED');
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts[0].errorCode).toBe('EVENT_LIMIT_REACHED');
    expect(job.lastError).toContain(`${MAX_EVENTS} events`);
    const events = await stored(id, 'JobEvent');
    // Filled up to the cap with the runner's lines, then only the job's own verdict (a transition, outside the cap): FAILED.
    expect(events).toBe(MAX_EVENTS + 1);
    expect(job.events.filter((e: any) => e.type === 'LOG').length).toBeGreaterThan(MAX_EVENTS - 5);
    expect(job.events.at(-1)).toMatchObject({ type: 'STATE_CHANGED', toState: 'FAILED' });
    console.log(
      `job caps: 10 artifacts offered → ${MAX_ARTIFACTS} stored, ARTIFACT_LIMIT_REACHED; 200 lines offered → ${events} events stored (cap ${MAX_EVENTS}), EVENT_LIMIT_REACHED`,
    );
  });

  // Events are stored a turn of the event loop after they arrive: the event that reaches the cap
  // may be stored only when a usage report or an artifact waits for the queue. Nothing after it counts.
  it.each([
    ['a usage report', { type: 'usage', model: 'claude-haiku-4-5', inputTokens: 1000, outputTokens: 200 }],
    ['an artifact', artifact(1)],
  ])('%s right after the events that reach the cap is neither charged nor stored', async (_, last) => {
    const logs = Array.from({ length: MAX_EVENTS + 5 }, (_, i) => ({ type: 'log', level: 'info', message: `log ${i}` }));
    const id = await createScriptedJob(t, 'replay', { events: [...logs, last, result] }, 'replay');
    const job = await waitForJob(t, id, TERMINAL);
    expect(job.state).toBe('FAILED');
    expect(job.attempts[0].errorCode).toBe('EVENT_LIMIT_REACHED');
    const usage = await t.app.services.pool.query(`SELECT count(*)::int AS n FROM "UsageRecord" WHERE "jobId" = $1`, [id]);
    expect(usage.rows[0].n).toBe(0);
    expect(await stored(id, 'Artifact')).toBe(0);
    expect(job.events.filter((e: any) => e.type === 'USAGE' || e.type === 'ARTIFACT')).toEqual([]);
    expect(await stored(id, 'JobEvent')).toBe(MAX_EVENTS + 1);
  });
});

describe('an event the job record cannot hold', () => {
  it('ends the attempt with PROTOCOL_VIOLATION (not retried) instead of leaving it RUNNING', async () => {
    // Valid JSON and a valid event, but PostgreSQL stores no NUL character in text or jsonb.
    const nul = JSON.stringify({ v: 1, type: 'log', level: 'info', message: 'a NUL \u0000 here' });
    const id = await createScriptedJob(t, 'replay', { lines: [nul], events: [result] }, 'replay');
    const job = await waitForJob(t, id, TERMINAL);
    expect(job.state).toBe('FAILED');
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts[0]).toMatchObject({ state: 'FAILED', errorCode: 'PROTOCOL_VIOLATION' });
    expect(job.lastError).toMatch(/Storing a runner event failed/);
  });
});
