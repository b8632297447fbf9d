// The agent runtime end to end: real worker, real PostgreSQL, a real git clone of the sample
// repository, real tools, checks under real bubblewrap; only the model is a local
// OpenAI-compatible mock that answers with real tool_calls (JSON and, in the second run, SSE).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSampleRepository, SAMPLE_TEST_COMMAND } from '../examples/sample-repository.ts';
import { applyPatchAndRun, runtimeTemplate, upsertRuntimeTemplate, waitForRuntimeJob } from '../test/agent-runtime-fixtures.ts';
import { startTestServer, type TestServer } from '../test/harness.ts';
import { startOpenAiMockServer, type MockReply, type OpenAiMockServer, type ReceivedRequest } from '../test/openai-mock-server.ts';

const BUGGY = "return title.toLowerCase().replace(/ /g, '-');";
const FIXED = "return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');";

type Behaviour = 'fixes' | 'changes nothing' | 'lists files forever';
/** A model that reads the code, fixes it, runs the tests and answers; or only answers; or never stops calling tools, each answer costing $0.015. */
function scriptedModel(behaviour: Behaviour) {
  return (req: ReceivedRequest): MockReply => {
    const toolTurns = req.body.messages.filter((m) => m.role === 'tool').length;
    if (behaviour === 'changes nothing') return { text: 'I looked and changed nothing.' };
    if (behaviour === 'lists files forever')
      return { toolCalls: [{ name: 'list_files', arguments: {} }], usage: { promptTokens: 100_000, completionTokens: 0 } };
    const script: MockReply[] = [
      { toolCalls: [{ name: 'read_file', arguments: { path: 'slugify.js' } }] },
      { toolCalls: [{ name: 'edit_file', arguments: { path: 'slugify.js', oldText: BUGGY, newText: FIXED } }] },
      { toolCalls: [{ name: 'run_command', arguments: { command: 'node --test' } }] },
      { text: 'slugify only replaced single spaces; it now collapses every run of other characters into one dash.' },
    ];
    return script[Math.min(toolTurns, script.length - 1)];
  };
}

for (const stream of [false, true]) {
  describe(`a crew fixing a failing test through tool calls (${stream ? 'streamed' : 'plain JSON'} answers)`, () => {
    let t: TestServer;
    let mock: OpenAiMockServer;
    let roots: string;
    let repository: string;
    let baseSha: string;
    let behaviour: Behaviour = 'fixes';

    beforeAll(async () => {
      roots = await mkdtemp(path.join(tmpdir(), 'autodev-repos-'));
      repository = await prepareSampleRepository(path.join(roots, 'sample'));
      baseSha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repository }).toString().trim();
      mock = await startOpenAiMockServer((req) => scriptedModel(behaviour)(req));
      t = await startTestServer({
        role: 'all',
        env: {
          AUTODEV_MODEL_PROVIDER: 'openai',
          AUTODEV_MODEL_BASE_URL: mock.baseUrl,
          AUTODEV_MODEL_API_KEY: 'sk-test-runtime-key',
          AUTODEV_MODEL_STREAM: stream ? '1' : '0',
          AUTODEV_REPOSITORY_ROOTS: roots,
          AUTODEV_RETRY_BASE_MS: '50',
        },
      });
      await upsertRuntimeTemplate(
        t,
        runtimeTemplate({
          slug: 'fix-tests',
          tools: ['list_files', 'read_file', 'edit_file', 'run_command'],
          checks: [{ name: 'test', command: SAMPLE_TEST_COMMAND, timeoutSeconds: 60 }],
        }),
      );
      await upsertRuntimeTemplate(
        t,
        runtimeTemplate({
          slug: 'fix-tests-twice',
          tools: ['read_file', 'edit_file'],
          checks: [{ name: 'test', command: SAMPLE_TEST_COMMAND, timeoutSeconds: 60 }],
          maxAttempts: 2,
        }),
      );
      await upsertRuntimeTemplate(t, runtimeTemplate({ slug: 'list-forever', tools: ['list_files'], checks: [] }));
    }, 60_000);
    afterAll(async () => {
      await t?.close();
      await mock?.close();
      await rm(roots, { recursive: true, force: true });
    });

    it('ends with a patch that applies on the recorded base commit and a passing check; the model was sent the tools', async () => {
      behaviour = 'fixes';
      mock.requests.length = 0;
      const started = Date.now();
      const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
        input: { templateSlug: 'fix-tests', input: { repository } },
      });
      expect(created.errors).toBeUndefined();
      const job = await waitForRuntimeJob(t, created.data.createJob.id, ['SUCCEEDED', 'FAILED']);
      const ran = (name: string) => job.events.find((e: any) => e.type === 'TOOL_RESULT' && e.data.tool === name)?.data.durationMs;
      console.log(
        `[agent runtime, ${stream ? 'SSE' : 'JSON'}] job created → SUCCEEDED in ${Date.now() - started} ms; ${mock.requests.length} model requests; read_file ${ran('read_file')} ms, edit_file ${ran('edit_file')} ms, run_command (node --test, sandboxed) ${ran('run_command')} ms; check ${job.attempts[0].guardrailResults.find((g: any) => g.name === 'check:test').details.durationMs} ms`,
      );
      expect(job.lastError).toBeNull();
      expect(job.state).toBe('SUCCEEDED');

      const [attempt] = job.attempts;
      expect(attempt.baseCommit).toBe(baseSha);
      expect(attempt.guardrailResults).toContainEqual(expect.objectContaining({ name: 'check:test', passed: true }));
      expect(job.output.checks).toEqual([expect.objectContaining({ name: 'test', passed: true, exitCode: 0 })]);
      expect(job.output.diffstat).toContain('slugify.js');

      const artifact = attempt.artifacts.find((a: any) => a.path === 'changes.patch');
      expect(artifact).toBeDefined();
      const patch = Buffer.from(await (await fetch(artifact.downloadUrl)).arrayBuffer());
      const applied = await applyPatchAndRun(repository, attempt.baseCommit, patch, ['node', '--test']);
      expect(applied.status).toBe(0);
      // The base itself still fails: the patch is what fixed it.
      expect((await applyPatchAndRun(repository, attempt.baseCommit, Buffer.alloc(0), ['node', '--test'])).status).not.toBe(0);

      expect(mock.requests.length).toBe(4);
      for (const r of mock.requests) {
        expect(r.body.stream ?? false).toBe(stream);
        expect(r.authorization).toBe('Bearer sk-test-runtime-key');
        expect(r.body.tools?.map((tool) => tool.function.name).sort()).toEqual(['edit_file', 'list_files', 'read_file', 'run_command']);
      }
      // The placeholders reached the model filled in.
      expect(mock.requests[0].body.messages.map((m) => m.content).join('\n')).toContain(`Make the tests of ${repository} pass.`);
      const tools = job.events.filter((e: any) => e.type === 'TOOL_CALL').map((e: any) => e.data.tool);
      expect(tools).toEqual(['read_file', 'edit_file', 'run_command']);
      const command = job.events.find((e: any) => e.type === 'TOOL_RESULT' && e.data.tool === 'run_command');
      expect(command.data).toMatchObject({ ok: true });
      expect(command.data.output).toMatch(/pass 2/);
    }, 90_000);

    it('a check that keeps failing fails the job after maxAttempts, with the check output on each attempt and fed to the next', async () => {
      behaviour = 'changes nothing';
      mock.requests.length = 0;
      const started = Date.now();
      const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
        input: { templateSlug: 'fix-tests-twice', input: { repository } },
      });
      const job = await waitForRuntimeJob(t, created.data.createJob.id, ['SUCCEEDED', 'FAILED']);
      console.log(
        `[agent runtime, ${stream ? 'SSE' : 'JSON'}] failing check: FAILED after ${job.attempts.length} attempts in ${Date.now() - started} ms (retry base 50 ms)`,
      );
      expect(job.state).toBe('FAILED');
      expect(job.attempts).toHaveLength(2);
      for (const a of job.attempts) {
        expect(a.errorCode).toBe('CHECK_FAILED');
        expect(a.baseCommit).toBe(baseSha);
        const check = a.guardrailResults.find((g: any) => g.name === 'check:test');
        expect(check).toMatchObject({ passed: false, details: { exitCode: 1 } });
        expect(check.message).toContain('collapses runs of spaces and punctuation into one dash');
      }
      expect(mock.requests).toHaveLength(2);
      const firstPrompt = mock.requests[0].body.messages.map((m) => m.content).join('\n');
      const secondPrompt = mock.requests[1].body.messages.map((m) => m.content).join('\n');
      expect(firstPrompt).not.toContain('check:test');
      expect(secondPrompt).toContain('Check "check:test" failed');
      expect(secondPrompt).toContain('collapses runs of spaces and punctuation into one dash');
    }, 90_000);

    it('a tool loop that would overspend stops at the refused charge: BUDGET_EXCEEDED, spend within the job budget, one request past the last accepted charge', async () => {
      behaviour = 'lists files forever';
      mock.requests.length = 0;
      // Room for three answers at $0.015 (100,000 input tokens of gpt-4o-mini at $0.15 per million).
      const created = await t.gql(`mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`, {
        input: { templateSlug: 'list-forever', input: { repository }, maxCostUsd: 0.05 },
      });
      expect(created.errors).toBeUndefined();
      const job = await waitForRuntimeJob(t, created.data.createJob.id, ['SUCCEEDED', 'FAILED', 'BUDGET_EXCEEDED']);
      expect(job.state).toBe('BUDGET_EXCEEDED');
      expect(job.costUsd).toBeCloseTo(0.045, 8);
      expect(job.events.filter((e: any) => e.type === 'USAGE')).toHaveLength(3);
      // Nothing the runner did after the refused charge was recorded.
      expect(job.events.filter((e: any) => e.type === 'TOOL_CALL').length).toBeLessThanOrEqual(3);
      console.log(
        `[agent runtime, ${stream ? 'SSE' : 'JSON'}] budget: ${mock.requests.length} model requests reached the mock for 3 accepted charges`,
      );
      // The runner knows its bound ($0.05) and the price: after the 4th answer its cost ($0.06) has
      // reached it, so it sends nothing more, however slowly the engine's refusal reaches it. At
      // most one request per agent (one here) after the last accepted charge, and exactly that one.
      expect(mock.requests.length).toBe(3 + 1);
    }, 60_000);
  });
}
