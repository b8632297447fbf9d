import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { addOneCompletionFeature, FEATURE_INPUT, TRIAGE_INPUT } from '../test/fixtures.ts';
import { waitForJob } from '../test/scripted.ts';

// A local HTTP server speaking the OpenAI chat-completions protocol stands in for the model
// provider (no provider is reachable from these machines).
interface Seen {
  auth: string | undefined;
  body: { model: string; messages: { role: string; content: string }[]; response_format?: unknown };
}
const requests: Seen[] = [];
const logLines: string[] = [];
let model: http.Server;
let t: TestServer;

const TRIAGE_OUTPUT = {
  severity: 'high',
  category: 'checkout',
  summary: 'Paying with an empty cart crashes the checkout page.',
  likelyCause: 'total() is called on an undefined cart.',
  reproductionSteps: ['Empty the cart', 'Click Pay'],
  suggestedOwner: 'payments-team',
  labels: ['bug', 'checkout'],
};
const FEATURE_OUTPUT = {
  summary: 'Adds CSV export.',
  plan: ['Add an export button', 'Serialize rows'],
  files: [
    { path: 'src/orders/export.ts', content: 'export const toCsv = (rows: string[][]) => rows.map((r) => r.join(",")).join("\\n");\n' },
  ],
  tests: [{ name: 'toCsv joins rows', description: 'two rows become two lines' }],
};

beforeAll(async () => {
  model = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const body = JSON.parse(raw);
      requests.push({ auth: req.headers.authorization, body });
      const user = body.messages[1].content as string;
      const content = body.response_format
        ? JSON.stringify(user.includes('"severity"') ? TRIAGE_OUTPUT : FEATURE_OUTPUT)
        : `Notes from ${body.model} on request ${requests.length}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${requests.length}`,
          object: 'chat.completion',
          model: body.model,
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
          usage: { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 },
        }),
      );
    });
  });
  await new Promise<void>((r) => model.listen(0, '127.0.0.1', () => r()));
  const port = (model.address() as AddressInfo).port;
  t = await startTestServer({
    role: 'all',
    env: {
      AUTODEV_MODEL_PROVIDER: 'openai',
      AUTODEV_MODEL_BASE_URL: `http://127.0.0.1:${port}/v1`,
      AUTODEV_MODEL_API_KEY: 'sk-test-model-key',
    },
    logLines,
  });
  // The bundled implement-feature runs on the agent runtime (tools, workspace): this file is about
  // the one-completion path, so its feature crew is the fixture that kept it.
  await addOneCompletionFeature(t);
});
afterAll(async () => {
  await t?.close();
  await new Promise((r) => model?.close(r));
});

describe('the openai provider against an OpenAI-compatible endpoint', () => {
  it('sends each agent’s role, goal and backstory and earlier outputs; charges the reported usage at the model price', async () => {
    requests.length = 0;
    const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
      input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT },
    });
    const job = await waitForJob(t, created.data.createJob.id, ['SUCCEEDED', 'FAILED'], 30_000);
    expect(job.state).toBe('SUCCEEDED');
    expect(job.output).toEqual(TRIAGE_OUTPUT);
    expect(requests).toHaveLength(2);
    const [first, second] = requests;
    expect(first.auth).toBe('Bearer sk-test-model-key');
    expect(first.body.model).toBe('gpt-4o-mini');
    expect(first.body.messages[0].content).toContain('You are Support engineer.');
    expect(first.body.messages[0].content).toContain('Your personal goal is: Understand the report');
    expect(first.body.messages[1].content).toContain(TRIAGE_INPUT.title);
    expect(second.body.model).toBe('claude-haiku-4-5');
    expect(second.body.messages[0].content).toContain('You are Engineering manager.');
    expect(second.body.messages[1].content).toContain('Notes from gpt-4o-mini on request 1');
    expect(second.body.response_format).toEqual({ type: 'json_object' });
    // gpt-4o-mini: 1000 × 0.15/M + 500 × 0.60/M = 0.00045; claude-haiku-4-5: 1000 × 1/M + 500 × 5/M = 0.0035
    expect(job.costUsd).toBeCloseTo(0.00395, 8);
    const usage = job.events
      .filter((e: any) => e.type === 'USAGE')
      .map((e: any) => [e.data.model, e.data.inputTokens, e.data.outputTokens]);
    expect(usage).toEqual([
      ['gpt-4o-mini', 1000, 500],
      ['claude-haiku-4-5', 1000, 500],
    ]);
  });

  it('request changes from the first task: every prompt of the next attempt carries the reviewer’s feedback and the previous output', async () => {
    const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
      input: { templateSlug: 'feature-one-completion', input: FEATURE_INPUT },
    });
    const id = created.data.createJob.id;
    const waiting = await waitForJob(t, id, ['AWAITING_REVIEW'], 30_000);
    requests.length = 0;
    // fromTask: 'plan' re-runs the whole crew (the default, the last task only, is covered by request-changes-from-task.test.ts).
    await t.gql(
      `mutation($id: ID!) { requestChanges(id: $id, feedback: "Quote fields that contain commas", fromTask: "plan") { status } }`,
      { id: waiting.review.id },
    );
    await expect
      .poll(async () => (await waitForJob(t, id, ['QUEUED', 'RUNNING', 'AWAITING_REVIEW'])).attempts.length, { timeout: 20_000 })
      .toBe(2);
    await waitForJob(t, id, ['AWAITING_REVIEW'], 30_000);
    expect(requests).toHaveLength(3);
    for (const r of requests) {
      expect(r.body.messages[1].content).toContain('Reviewer feedback on the previous attempt:\nQuote fields that contain commas');
      expect(r.body.messages[1].content).toContain('src/orders/export.ts');
    }
  });

  it('the model key reaches the runner but never the API: no job event or output contains it', async () => {
    // A run of its own, so the check does not depend on the tests before it having run one.
    requests.length = 0;
    const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
      input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT },
    });
    const job = await waitForJob(t, created.data.createJob.id, ['SUCCEEDED', 'FAILED'], 30_000);
    expect(job.state).toBe('SUCCEEDED');
    expect(requests.map((r) => r.auth)).toEqual(['Bearer sk-test-model-key', 'Bearer sk-test-model-key']);
    const { rows } = await t.app.services.pool.query(
      `SELECT count(*)::int AS n FROM "JobEvent" WHERE data::text LIKE '%sk-test-model-key%' OR message LIKE '%sk-test-model-key%'`,
    );
    expect(rows[0].n).toBe(0);
    const outputs = await t.app.services.pool.query(
      `SELECT count(*)::int AS n FROM "JobAttempt" WHERE output::text LIKE '%sk-test-model-key%' OR "exitReason" LIKE '%sk-test-model-key%'`,
    );
    expect(outputs.rows[0].n).toBe(0);
    expect(JSON.stringify(job)).not.toContain('sk-test-model-key');
  });

  it('no secret appears in the logs of the whole run: not the model key, not the admin token, not a created token', async () => {
    // A run of its own (the model key in use), so the check does not depend on earlier tests.
    const run = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
      input: { templateSlug: 'triage-bug', input: TRIAGE_INPUT },
    });
    expect((await waitForJob(t, run.data.createJob.id, ['SUCCEEDED', 'FAILED'], 30_000)).state).toBe('SUCCEEDED');
    // Some more traffic that handles secrets: a token created (its secret returned once), used, a wrong one tried.
    const created = await t.gql(`mutation { createApiToken(input: { name: "ci", role: OPERATOR }) { secret } }`);
    const secret = created.data.createApiToken.secret as string;
    expect((await t.gql(`{ viewer { role } }`, {}, secret)).data.viewer.role).toBe('OPERATOR');
    expect((await t.gql(`{ viewer { role } }`, {}, `${secret}x`)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const failing = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: '{"query":"{ nope }"}',
    });
    expect(failing.status).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 200));
    const all = logLines.join('');
    // The capture works: this test's run was logged, to its end.
    await expect.poll(() => logLines.some((l) => l.includes('attempt finished') && l.includes(run.data.createJob.id))).toBe(true);
    expect(all).toContain('attempt finished');
    for (const needle of ['sk-test-model-key', t.adminToken, secret, secret.slice(4, 24)])
      expect(all.includes(needle), `a log line contains ${needle.slice(0, 8)}…`).toBe(false);
  });
});
