import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import {
  addScriptedTemplates,
  createScriptedJob,
  processAlive,
  SCRIPTED_RUNNER_COMMAND,
  scriptedTemplate,
  upsertTemplate,
  waitForJob,
} from '../test/scripted.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    role: 'all',
    env: { AUTODEV_RUNNER_COMMAND: SCRIPTED_RUNNER_COMMAND, AUTODEV_WORKER_CONCURRENCY: '4', AUTODEV_RUNNER_ENV_ALLOW: 'SAFE_VAR' },
  });
  await addScriptedTemplates(t);
});
afterAll(async () => {
  await t?.close();
});

const TERMINAL = ['SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELLED', 'BUDGET_EXCEEDED'];

describe('the engine runs attempts through the runner protocol', () => {
  it('stores every event, charges usage, keeps artifacts and plain lines, checks guardrails, and succeeds', async () => {
    const id = await createScriptedJob(t, 'ok');
    const job = await waitForJob(t, id, TERMINAL);
    expect(job.state).toBe('SUCCEEDED');
    expect(job.output).toEqual({ text: 'all good' });
    const types = job.events.map((e: any) => e.type);
    for (const type of ['STATE_CHANGED', 'LOG', 'TASK_STARTED', 'USAGE', 'ARTIFACT', 'TASK_COMPLETED', 'GUARDRAIL'])
      expect(types).toContain(type);
    expect(job.events.map((e: any) => e.seq)).toEqual(job.events.map((_: any, i: number) => i + 1));
    expect(job.events.some((e: any) => e.type === 'LOG' && e.message === 'a plain line that is not JSON')).toBe(true);
    // claude-haiku-4-5: 1000 in × $1/M + 200 out × $5/M = $0.002
    expect(job.costUsd).toBeCloseTo(0.002, 8);
    const [attempt] = job.attempts;
    expect(attempt).toMatchObject({ number: 1, state: 'SUCCEEDED', costUsd: 0.002 });
    expect(attempt.guardrailResults.every((g: any) => g.passed)).toBe(true);
    const [artifact] = attempt.artifacts;
    expect(artifact).toMatchObject({ path: 'notes/result.md', sizeBytes: 9 });
    const download = await fetch(artifact.downloadUrl);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('# Result\n');
    const forged = await fetch(artifact.downloadUrl.replace(/sig=[^&]+/, 'sig=forged'));
    expect(forged.status).toBe(403);
  });

  it('a runner that fails twice then succeeds → 3 attempts, SUCCEEDED', async () => {
    const job = await waitForJob(t, await createScriptedJob(t, 'fail-twice'), TERMINAL);
    expect(job.state).toBe('SUCCEEDED');
    expect(job.attempts.map((a: any) => [a.number, a.state, a.errorCode])).toEqual([
      [1, 'FAILED', 'MODEL_ERROR'],
      [2, 'FAILED', 'MODEL_ERROR'],
      [3, 'SUCCEEDED', null],
    ]);
  });

  it('a runner that always fails → exactly maxAttempts attempts, FAILED with the last reason', async () => {
    const job = await waitForJob(t, await createScriptedJob(t, 'always-fail'), TERMINAL);
    expect(job.state).toBe('FAILED');
    expect(job.attempts).toHaveLength(3);
    expect(job.lastError).toBe('MODEL_ERROR: the provider is down');
  });

  it('invalid events, floods and hangs fail the attempt with the right reason while the worker keeps serving', async () => {
    const [invalid, flood, hang] = await Promise.all([
      createScriptedJob(t, 'invalid-event'),
      createScriptedJob(t, 'flood'),
      createScriptedJob(t, 'hang', {}, 'scripted-once'),
    ]);
    const inv = await waitForJob(t, invalid, TERMINAL);
    expect(inv.state).toBe('FAILED');
    expect(inv.attempts[0].errorCode).toBe('PROTOCOL_VIOLATION');
    expect(inv.attempts[0].exitReason).toMatch(/inputTokens/);
    expect(inv.costUsd).toBe(0);
    const fl = await waitForJob(t, flood, TERMINAL);
    expect(fl.state).toBe('FAILED');
    expect(fl.attempts[0].errorCode).toBe('TOO_MANY_EVENTS');
    const hg = await waitForJob(t, hang, TERMINAL);
    expect(hg.state).toBe('FAILED');
    expect(hg.attempts[0].errorCode).toBe('TIMEOUT');
    const grandchild = Number(/grandchild (\d+)/.exec(hg.events.map((e: any) => e.message).join('\n'))![1]);
    await expect.poll(() => processAlive(grandchild), { timeout: 3000 }).toBe(false);
    // …and the worker still runs other jobs.
    expect((await waitForJob(t, await createScriptedJob(t, 'ok'), TERMINAL)).state).toBe('SUCCEEDED');
  });

  it('a runner that crashes without a result is retried with the reason recorded', async () => {
    const job = await waitForJob(t, await createScriptedJob(t, 'crash', {}, 'scripted-once'), TERMINAL);
    expect(job.state).toBe('FAILED');
    expect(job.attempts[0].errorCode).toBe('RUNNER_CRASHED');
    expect(job.attempts[0].exitReason).toContain('Segmentation fault (pretend)');
  });

  it('cancel during RUNNING → CANCELLED within seconds, and the runner’s process group is gone', async () => {
    const id = await createScriptedJob(t, 'slow');
    await waitForJob(t, id, ['RUNNING']);
    await expect
      .poll(async () => (await waitForJob(t, id, ['RUNNING', ...TERMINAL])).events.some((e: any) => /grandchild/.test(e.message)))
      .toBe(true);
    const job = await waitForJob(t, id, ['RUNNING']);
    const grandchild = Number(/grandchild (\d+)/.exec(job.events.map((e: any) => e.message).join('\n'))![1]);
    const started = Date.now();
    const res = await t.gql(`mutation($id: ID!) { cancelJob(id: $id, reason: "changed my mind") { state } }`, { id });
    expect(res.data.cancelJob.state).toBe('CANCELLED');
    await expect.poll(async () => (await waitForJob(t, id, TERMINAL)).attempts[0].state, { timeout: 5000 }).toBe('CANCELLED');
    await expect.poll(() => processAlive(grandchild), { timeout: 5000 }).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
    const after = await waitForJob(t, id, TERMINAL);
    const ticks = after.events.filter((e: any) => /^tick/.test(e.message)).length;
    await new Promise((r) => setTimeout(r, 500));
    expect((await waitForJob(t, id, TERMINAL)).events.filter((e: any) => /^tick/.test(e.message)).length).toBe(ticks);
  });

  it('a budget that allows only part of a run → BUDGET_EXCEEDED; spend = the accepted charges; nothing after the refusal', async () => {
    const job = await waitForJob(t, await createScriptedJob(t, 'usage', { n: 10, maxCostUsd: 0.035 }), TERMINAL);
    expect(job.state).toBe('BUDGET_EXCEEDED');
    expect(job.costUsd).toBeCloseTo(0.03, 8);
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts[0]).toMatchObject({ state: 'BUDGET_EXCEEDED', costUsd: 0.03 });
    expect(job.events.filter((e: any) => e.type === 'USAGE')).toHaveLength(3);
    const usage = await t.app.services.pool.query(
      `SELECT count(*)::int AS n, sum("costUsd") AS total FROM "UsageRecord" WHERE "jobId" = $1`,
      [job.id],
    );
    expect(usage.rows[0]).toEqual({ n: 3, total: 0.03 });
  });

  it('a project budget that runs out stops every job that reaches it → BUDGET_EXCEEDED; spend = the limit', async () => {
    const spent = (await t.gql(`mutation { setBudget(input: { limitUsd: 1000, period: TOTAL }) { spentUsd } }`)).data.setBudget.spentUsd;
    // Room for exactly 4 charges of $0.01 between two jobs that each want 10.
    const limit = Math.round((spent + 0.04) * 1e8) / 1e8;
    await t.gql(`mutation($l: Float!) { setBudget(input: { limitUsd: $l, period: TOTAL }) { id } }`, { l: limit });
    try {
      // Paced charges (100 ms apart), so both jobs exist before the budget is spent (createJob
      // refuses new jobs on a spent budget).
      const ids = await Promise.all([createScriptedJob(t, 'paced-usage', { n: 10 }), createScriptedJob(t, 'paced-usage', { n: 10 })]);
      const jobs = await Promise.all(ids.map((id) => waitForJob(t, id, TERMINAL)));
      for (const job of jobs) {
        expect(job.state).toBe('BUDGET_EXCEEDED');
        expect(job.attempts.map((a: any) => a.state)).toEqual(['BUDGET_EXCEEDED']);
        expect(job.lastError).toContain("project's budget");
      }
      expect(jobs.reduce((sum, j) => sum + j.events.filter((e: any) => e.type === 'USAGE').length, 0)).toBe(4);
      expect((await t.gql(`{ budgets { spentUsd } }`)).data.budgets[0].spentUsd).toBeCloseTo(limit, 8);
    } finally {
      await t.gql(`mutation { setBudget(input: { limitUsd: 1000, period: TOTAL }) { id } }`);
    }
  });

  it('request changes → the next attempt receives the reviewer feedback and the previous output', async () => {
    const id = await createScriptedJob(t, 'echo-feedback', {}, 'scripted-review');
    const first = await waitForJob(t, id, ['AWAITING_REVIEW']);
    expect(first.review.status).toBe('PENDING');
    const res = await t.gql(`mutation($id: ID!) { requestChanges(id: $id, feedback: "Please also cover the empty cart") { status } }`, {
      id: first.review.id,
    });
    expect(res.errors).toBeUndefined();
    await expect
      .poll(async () => (await waitForJob(t, id, ['QUEUED', 'RUNNING', 'AWAITING_REVIEW', ...TERMINAL])).attempts.length, {
        timeout: 20_000,
      })
      .toBe(2);
    const job = await waitForJob(t, id, ['AWAITING_REVIEW']);
    const log = job.events.find((e: any) => e.type === 'LOG' && e.message.startsWith('feedback:') && e.message !== 'feedback: null');
    expect(log.message).toContain('Please also cover the empty cart');
    expect(log.message).toContain('"previousOutput":{"text":"attempt 1"}');
    expect(job.attempts[1].feedback).toBe('Please also cover the empty cart');
    const approved = await t.gql(`mutation($id: ID!) { approveReview(id: $id) { status job { state output } } }`, { id: job.review.id });
    expect(approved.data.approveReview).toEqual({ status: 'APPROVED', job: { state: 'SUCCEEDED', output: { text: 'attempt 2' } } });
  });

  it('a guardrail violation fails the attempt and is fed to the next one', async () => {
    const job = await waitForJob(t, await createScriptedJob(t, 'leak-secret'), TERMINAL);
    expect(job.state).toBe('SUCCEEDED');
    expect(job.attempts[0].state).toBe('FAILED');
    expect(job.attempts[0].errorCode).toBe('GUARDRAIL_VIOLATION');
    const secrets = job.attempts[0].guardrailResults.find((g: any) => g.name === 'no-secrets');
    expect(secrets.passed).toBe(false);
    expect(JSON.stringify(job.attempts[0].guardrailResults)).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(job.events.some((e: any) => e.type === 'GUARDRAIL' && /failed/.test(e.message))).toBe(true);
    // What each attempt's runner was given (the scripted runner logs its spec.feedback first).
    const given = job.events
      .filter((e: any) => e.type === 'LOG' && e.message.startsWith('feedback: '))
      .map((e: any) => JSON.parse(e.message.slice('feedback: '.length)));
    expect(given).toHaveLength(2);
    expect(given[0]).toBeNull();
    expect(given[1].guardrailViolations).toEqual([{ name: 'no-secrets', message: secrets.message }]);
    expect(JSON.stringify(given[1])).not.toContain('AKIAABCDEFGHIJKLMNOP');
    expect(job.attempts.map((a: any) => [a.number, a.state])).toEqual([
      [1, 'FAILED'],
      [2, 'SUCCEEDED'],
    ]);
  });

  it('the runner gets a scrubbed environment', async () => {
    process.env.AUTODEV_TEST_SECRET = 'must-not-reach-runners';
    const job = await waitForJob(t, await createScriptedJob(t, 'env'), TERMINAL);
    const line = job.events.find((e: any) => e.message?.startsWith('env: ')).message;
    expect(line).not.toMatch(/AUTODEV_TEST_SECRET|DATABASE_URL|AUTODEV_ADMIN_TOKEN|REDIS_URL/);
    expect(line).toContain('PATH');
  });

  it("a template's executor.env names only allowed variables: others are refused at upsertTemplate, naming each", async () => {
    const greedy = scriptedTemplate('scripted-greedy', {
      executor: { kind: 'local', env: ['DATABASE_URL', 'AUTODEV_TEST_SECRET', 'SAFE_VAR', 'GITHUB_TOKEN'] },
    });
    const res = await t.gql(`mutation($input: TemplateInput!) { upsertTemplate(input: $input) { slug } }`, { input: greedy });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const message = res.errors![0].message;
    for (const [i, name] of [
      [0, 'DATABASE_URL'],
      [1, 'AUTODEV_TEST_SECRET'],
      [3, 'GITHUB_TOKEN'],
    ] as const) {
      expect(message).toContain(`\`executor.env[${i}]\` names \`${name}\`, which runners may not receive`);
    }
    expect(message).not.toContain('executor.env[2]');
    expect(message).toContain('AUTODEV_RUNNER_ENV_ALLOW');
  });

  it('the runner gets the allowed names its template asks for, and never a name stored before the allow-list', async () => {
    process.env.DATABASE_URL = 'postgres://worker-secret@db/autodev';
    process.env.SAFE_VAR = 'fine';
    const ci = process.env.CI;
    process.env.CI = 'true';
    process.env.GITHUB_TOKEN = 'ghp_not_for_runners';
    await upsertTemplate(t.gql, scriptedTemplate('scripted-allowed', { executor: { kind: 'local', env: ['SAFE_VAR', 'CI'] } }));
    // A template stored before the allow-list existed: the run-time check still drops its names.
    await t.app.services.pool.query(
      `UPDATE "Template" SET executor = '{"kind":"local","env":["SAFE_VAR","CI","GITHUB_TOKEN","DATABASE_URL"]}' WHERE slug = 'scripted-allowed'`,
    );
    const job = await waitForJob(t, await createScriptedJob(t, 'env', {}, 'scripted-allowed'), TERMINAL);
    const names = job.events
      .find((e: any) => e.message?.startsWith('env: '))
      .message.slice(5)
      .split(',');
    expect(names).toEqual(expect.arrayContaining(['SAFE_VAR', 'CI']));
    for (const n of ['DATABASE_URL', 'GITHUB_TOKEN']) expect(names).not.toContain(n);
    delete process.env.DATABASE_URL;
    delete process.env.GITHUB_TOKEN;
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  });
});
