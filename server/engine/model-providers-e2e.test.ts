// Models per agent from the operator's providers, end to end: a real worker runs a crew whose
// planner is `openai:gpt-4o` (OpenAI chat completions, via @ai-sdk/openai) and whose engineer is
// `anthropic:claude-sonnet-4-5` (Anthropic's Messages API, via @ai-sdk/anthropic), each against a
// local server speaking that protocol; the plan is a structured answer (a task output schema);
// the workspace is cloned from, and the result pushed to, a private smart-HTTP remote whose token
// the template names by reference. No key and no token may appear in an event, the output, an
// artifact or a log line.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { prepareSampleRepository } from '../examples/sample-repository.ts';
import { upsertRuntimeTemplate, waitForRuntimeJob } from '../test/agent-runtime-fixtures.ts';
import { startAnthropicMockServer, type AnthropicMockServer } from '../test/anthropic-mock-server.ts';
import { startGitHttpServer } from '../test/git-http-server.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { startOpenAiMockServer, type OpenAiMockServer } from '../test/openai-mock-server.ts';
import { leaks } from '../test/secret-forms.ts';

const OPENAI_KEY = 'sk-openai-e2e-4b9d2f7a1c8e6035';
const ANTHROPIC_KEY = 'sk-ant-e2e-8c1f3a9d7e2b5064';
const GIT_TOKEN = 'ghp_e2ePushToken_5d8a2c7f1e9b3064';
const SECRETS = { OPENAI_KEY, ANTHROPIC_KEY, GIT_TOKEN, GIT_BASIC: Buffer.from(`x-access-token:${GIT_TOKEN}`).toString('base64') };
const PLAN = { steps: ['Write NOTES.md saying the plan was followed'] };

let t: TestServer;
let openai: OpenAiMockServer;
let anthropic: AnthropicMockServer;
let git: Awaited<ReturnType<typeof startGitHttpServer>>;
let root: string;
let served: string;
const logLines: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'autodev-providers-'));
  served = path.join(root, 'served');
  const sample = await prepareSampleRepository(path.join(root, 'sample'));
  execFileSync('git', ['clone', '-q', '--bare', sample, path.join(served, 'shop.git')]);
  git = await startGitHttpServer(served, GIT_TOKEN);
  openai = await startOpenAiMockServer((req) =>
    req.body.messages.some((m) => m.role === 'tool')
      ? { text: JSON.stringify(PLAN) }
      : { toolCalls: [{ name: 'list_files', arguments: {} }] },
  );
  anthropic = await startAnthropicMockServer((req) =>
    req.body.messages.some((m) => Array.isArray(m.content) && m.content.some((c) => c.type === 'tool_result'))
      ? { text: 'Wrote NOTES.md as planned.' }
      : { toolCalls: [{ name: 'write_file', arguments: { path: 'NOTES.md', content: 'The plan was followed.\n' } }] },
  );
  // The local executor hands runners the named variables from the worker's own environment.
  const env = { OPENAI_API_KEY: OPENAI_KEY, ANTHROPIC_API_KEY: ANTHROPIC_KEY, SHOP_GIT_TOKEN: GIT_TOKEN };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  t = await startTestServer({
    role: 'all',
    logLines,
    env: {
      ...env,
      AUTODEV_MODEL_PROVIDERS: JSON.stringify({
        providers: {
          openai: { kind: 'openai', baseUrl: openai.baseUrl, apiKeyEnv: 'OPENAI_API_KEY' },
          anthropic: { kind: 'anthropic', baseUrl: anthropic.baseUrl, apiKeyEnv: 'ANTHROPIC_API_KEY' },
        },
      }),
      AUTODEV_RUNNER_ENV_ALLOW: 'SHOP_GIT_TOKEN',
      AUTODEV_MODEL_STREAM: '1',
    },
  });
  await upsertRuntimeTemplate(t, {
    slug: 'two-vendors',
    name: 'Two vendors',
    maxAttempts: 1,
    timeoutSeconds: 120,
    workspace: {
      repositoryField: 'repository',
      credentialsEnv: 'SHOP_GIT_TOKEN',
      push: { branch: 'autodev/{jobId}', credentialsEnv: 'SHOP_GIT_TOKEN' },
    },
    checks: [{ name: 'notes', command: 'grep -q "plan was followed" NOTES.md' }],
    crew: {
      process: 'sequential',
      agents: [
        { id: 'planner', role: 'Tech lead', goal: 'Plan', backstory: 'Plans.', model: 'openai:gpt-4o', tools: ['list_files'] },
        {
          id: 'engineer',
          role: 'Engineer',
          goal: 'Do it',
          backstory: 'Does.',
          model: 'anthropic:claude-sonnet-4-5',
          tools: ['write_file'],
        },
      ],
      tasks: [
        {
          id: 'plan',
          description: 'Plan the change.',
          expectedOutput: 'The steps.',
          agent: 'planner',
          maxSteps: 4,
          outputSchema: { type: 'object', required: ['steps'], properties: { steps: { type: 'array', items: { type: 'string' } } } },
        },
        { id: 'implement', description: 'Follow the plan.', expectedOutput: 'What you did.', agent: 'engineer', context: ['plan'] },
      ],
    },
    inputSchema: { type: 'object', required: ['repository'], properties: { repository: { type: 'string' } } },
    outputSchema: { type: 'object', required: ['summary', 'diffstat', 'push'] },
  });
}, 60_000);

afterAll(async () => {
  await t?.close();
  await Promise.all([openai?.close(), anthropic?.close(), git?.close()]);
  vi.unstubAllEnvs();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('models per agent from the operator’s providers, a private remote by reference', () => {
  it('each agent reaches its own vendor with its own key; the plan is structured; the result is pushed; no key or token is stored, shown or logged', async () => {
    const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
      input: { templateSlug: 'two-vendors', input: { repository: `${git.url}/shop.git` } },
    });
    expect(created.errors).toBeUndefined();
    const id = created.data.createJob.id;
    const job = await waitForRuntimeJob(t, id, ['SUCCEEDED', 'FAILED']);
    expect(job.state, JSON.stringify(job.attempts)).toBe('SUCCEEDED');

    // Each vendor got its agent's requests, in its own protocol, with its own key, tools included.
    expect(openai.requests.length).toBe(2);
    for (const r of openai.requests)
      expect(r).toMatchObject({ authorization: `Bearer ${OPENAI_KEY}`, body: { model: 'gpt-4o', stream: true } });
    expect(openai.requests[0].body.tools?.map((x) => x.function.name)).toEqual(['list_files']);
    expect(anthropic.requests.length).toBe(2);
    for (const r of anthropic.requests)
      expect(r).toMatchObject({ apiKey: ANTHROPIC_KEY, body: { model: 'claude-sonnet-4-5', stream: true } });
    expect(anthropic.requests[0].body.tools?.map((x) => x.name)).toEqual(['write_file']);
    // The engineer read the planner's structured answer.
    expect(JSON.stringify(anthropic.requests[0].body.messages)).toContain(PLAN.steps[0]);
    const usage = job.events.filter((e: any) => e.type === 'USAGE').map((e: any) => e.data.model);
    expect(usage).toEqual(['openai:gpt-4o', 'openai:gpt-4o', 'anthropic:claude-sonnet-4-5', 'anthropic:claude-sonnet-4-5']);
    expect(job.costUsd).toBeGreaterThan(0);

    // The output: summary, diffstat, the plan, and the push; the branch holds the change.
    expect(job.output).toMatchObject({
      summary: 'Wrote NOTES.md as planned.',
      taskOutputs: { plan: PLAN },
      push: { remote: `${git.url}/shop.git`, branch: `autodev/${id}` },
    });
    expect(job.output.diffstat).toContain('NOTES.md');
    const pushed = execFileSync('git', [
      '--git-dir',
      path.join(served, 'shop.git'),
      'show',
      `refs/heads/autodev/${id}:NOTES.md`,
    ]).toString();
    expect(pushed).toBe('The plan was followed.\n');
    const paths = job.attempts[0].artifacts.map((a: any) => a.path).sort();
    expect(paths).toEqual(['changes.patch', 'files/NOTES.md']);

    // Nothing carries a key or the token: not the job as the API shows it, not the stored rows,
    // not the artifacts' bytes, not a log line.
    const places: string[] = [];
    const artifacts = await Promise.all(job.attempts[0].artifacts.map(async (a: any) => (await fetch(a.downloadUrl)).text()));
    const { rows } = await t.app.services.pool.query(
      `SELECT coalesce(string_agg(coalesce(message, '') || data::text, ' '), '') AS text FROM "JobEvent" WHERE "jobId" = $1`,
      [id],
    );
    for (const [name, value] of Object.entries(SECRETS)) {
      for (const [where, text] of [
        ['job', JSON.stringify(job)],
        ['events', rows[0].text],
        ['artifacts', artifacts.join('\n')],
        ['log lines', logLines.join('\n')],
      ] as const) {
        for (const form of leaks(text, value)) places.push(`${name} in ${where}: ${form}`);
      }
    }
    expect(places).toEqual([]);
    expect(git.seenAuthorization.filter(Boolean).length).toBeGreaterThan(0);
  }, 120_000);
});
