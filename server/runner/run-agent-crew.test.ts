// The runner's agent-runtime path on its own (real git, real tools, the offline model): what it
// refuses before touching anything, and the checkpoint commit each task leaves.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerEvent } from '../runner-protocol/parse-runner-output.ts';
import { prepareSampleRepository } from '../examples/sample-repository.ts';
import { createOfflineModel } from './agents/offline-model.ts';
import { runAgentCrew } from './run-agent-crew.ts';
import { modelSelector } from './select-model.ts';
import { startOpenAiMockServer } from '../test/openai-mock-server.ts';
import type { RunnerSpec } from './spec.ts';

let root: string;
let repository: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'autodev-crew-'));
  repository = await prepareSampleRepository(path.join(root, 'sample'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

function spec(over: Partial<RunnerSpec> & { tools?: string[] } = {}): RunnerSpec {
  const { tools = ['list_files', 'read_file', 'write_file', 'edit_file'], ...rest } = over;
  return {
    jobId: 'j',
    attempt: 1,
    template: { slug: 't', version: 1 },
    crew: {
      process: 'sequential',
      agents: [{ id: 'dev', role: 'Engineer', goal: 'g', backstory: 'b', model: 'offline', tools }],
      tasks: [
        { id: 'first', description: 'Look around', expectedOutput: 'notes', agent: 'dev' },
        { id: 'second', description: 'Look again', expectedOutput: 'notes', agent: 'dev' },
      ],
    },
    input: {},
    outputSchema: {},
    feedback: null,
    provider: { kind: 'offline' },
    workspace: { repository, localRoots: [root] },
    ...rest,
  };
}

async function run(s: RunnerSpec, probe?: () => Promise<any>) {
  const events: RunnerEvent[] = [];
  let probed = 0;
  const dir = await mkdtemp(path.join(root, 'attempt-'));
  const workspaceDir = path.join(dir, 'workspace');
  const outcome = await runAgentCrew(
    s,
    { workspaceDir, modelFor: (name) => createOfflineModel(name), sandboxProbe: probe && (() => (probed++, probe())) },
    (e) => void events.push(e),
  );
  return { outcome, events, workspaceDir, probed: () => probed };
}

const unavailable = () => Promise.resolve({ ok: false as const, reason: 'bubblewrap is not installed (/usr/bin/bwrap is missing).' });

describe('runAgentCrew', () => {
  it('refuses a crew granted run_command with SANDBOX_UNAVAILABLE when the sandbox does not work, before cloning or calling a model', async () => {
    const r = await run(spec({ tools: ['read_file', 'run_command'] }), unavailable);
    expect(r.outcome).toBe('error');
    expect(r.events).toEqual([
      expect.objectContaining({
        type: 'error',
        code: 'SANDBOX_UNAVAILABLE',
        retryable: false,
        message: expect.stringContaining('bubblewrap is not installed'),
      }),
    ]);
    expect(existsSync(r.workspaceDir)).toBe(false);
  });

  it('refuses a crew with checks the same way, even when no agent runs commands', async () => {
    const r = await run(spec({ checks: [{ name: 'test', command: 'true' }] }), unavailable);
    expect(r.events.map((e) => (e.type === 'error' ? e.code : e.type))).toEqual(['SANDBOX_UNAVAILABLE']);
  });

  it('runs a crew without commands where the sandbox is missing, and leaves one checkpoint commit per task that changed something', async () => {
    const r = await run(spec(), unavailable);
    expect(r.outcome).toBe('result');
    expect(r.probed()).toBe(0);
    const base = (r.events.find((e) => e.type === 'workspace') as any).baseCommit;
    const log = execFileSync('git', ['log', '--format=%s', `${base}..HEAD`], { cwd: r.workspaceDir })
      .toString()
      .trim()
      .split('\n');
    expect(log).toEqual(['second: Engineer', 'first: Engineer']);
    expect(base).toBe(execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repository }).toString().trim());
    const result = r.events.find((e) => e.type === 'result') as any;
    expect(result.output).toMatchObject({ baseCommit: base, files: [{ path: 'AUTODEV_NOTES.md' }], checks: [] });
    expect(r.events.findIndex((e) => e.type === 'artifact')).toBeLessThan(r.events.findIndex((e) => e.type === 'result'));
  });

  describe('stops itself before a model request its budget could not pay ($0.015 a request: 100,000 input tokens at $0.15 per million)', () => {
    const budget = (remainingUsd: string) => ({
      remainingUsd,
      prices: { 'gpt-4o-mini': { inputUsdPerMillion: '0.15', outputUsdPerMillion: '0.6' } },
    });
    async function runAgainst(reply: any, s: Partial<RunnerSpec> & { tools?: string[] }) {
      const mock = await startOpenAiMockServer(() => ({ ...reply, usage: { promptTokens: 100_000, completionTokens: 0 } }));
      try {
        const events: RunnerEvent[] = [];
        const full = spec({ provider: { kind: 'openai', baseUrl: mock.baseUrl, model: 'gpt-4o-mini' }, ...s });
        const outcome = await runAgentCrew(
          full,
          { workspaceDir: path.join(await mkdtemp(path.join(root, 'attempt-')), 'workspace'), modelFor: modelSelector(full.provider, {}) },
          (e) => void events.push(e),
        );
        return { outcome, events, requests: mock.requests.length };
      } finally {
        await mock.close();
      }
    }

    it('a tool loop with $0.045 left sends exactly three requests, then ends with BUDGET_EXCEEDED (not retryable)', async () => {
      const r = await runAgainst({ toolCalls: [{ name: 'list_files', arguments: {} }] }, { budget: budget('0.045') });
      expect(r.requests).toBe(3);
      expect(r.events.filter((e) => e.type === 'usage')).toHaveLength(3);
      expect(r.outcome).toBe('error');
      expect(r.events.at(-1)).toMatchObject({
        type: 'error',
        code: 'BUDGET_EXCEEDED',
        retryable: false,
        message: expect.stringContaining('budget left for this attempt was $0.045'),
      });
    }, 15_000);

    it('the running cost is shared by the tasks: a second task that could not be paid sends nothing', async () => {
      const r = await runAgainst({ text: 'Done.' }, { budget: budget('0.02'), tools: [] });
      expect(r.requests).toBe(2); // the first task's answer ($0.015 < $0.02), the second's ($0.03): both charged by the engine, which refuses the second
      const r2 = await runAgainst({ text: 'Done.' }, { budget: budget('0.015'), tools: [] });
      expect(r2.requests).toBe(1);
      expect(r2.events.filter((e) => e.type === 'task_completed').map((e: any) => e.task)).toEqual(['first']);
      expect(r2.events.at(-1)).toMatchObject({ type: 'error', code: 'BUDGET_EXCEEDED' });
    }, 15_000);

    it('without a limit (remainingUsd null) or without a budget it never stops itself', async () => {
      for (const b of [{ budget: { remainingUsd: null, prices: budget('0').prices } }, {}]) {
        const r = await runAgainst({ text: 'Done.' }, { ...b, tools: [] });
        expect(r.outcome).toBe('result');
        expect(r.requests).toBe(2);
      }
    }, 15_000);
  });

  it('cuts a model request that outlasts the configured timeout and ends the attempt with a retryable MODEL_ERROR', async () => {
    const mock = await startOpenAiMockServer(() => ({ text: 'late', delayMs: 20_000 }));
    try {
      const events: RunnerEvent[] = [];
      const started = Date.now();
      const s = spec({ provider: { kind: 'openai', baseUrl: mock.baseUrl, model: 'gpt-4o-mini', timeoutMs: 300 } });
      const outcome = await runAgentCrew(
        s,
        { workspaceDir: path.join(await mkdtemp(path.join(root, 'attempt-')), 'workspace'), modelFor: modelSelector(s.provider, {}) },
        (e) => void events.push(e),
      );
      const took = Date.now() - started;
      expect(outcome).toBe('error');
      expect(events.at(-1)).toMatchObject({
        type: 'error',
        code: 'MODEL_ERROR',
        retryable: true,
        message: expect.stringContaining('did not answer within the time allowed'),
      });
      // Cut at the limit, not retried (the SDK does not retry an aborted request): no 20 s wait.
      expect(took).toBeLessThan(3000);
      expect(mock.requests).toHaveLength(1);
    } finally {
      await mock.close();
    }
  }, 15_000);

  it('reports a patch too large for one runner event instead of sending it, and still ends with a result and every event under the 1 MiB line limit', async () => {
    const big = (c: string) => `${c.repeat(99)}\n`.repeat(7_000); // 700 KB of text per file
    const mock = await startOpenAiMockServer((req) => {
      const done = req.body.messages.filter((m) => m.role === 'tool').length;
      if (done === 0)
        return {
          toolCalls: [
            { name: 'write_file', arguments: { path: 'big-a.txt', content: big('a') } },
            { name: 'write_file', arguments: { path: 'big-b.txt', content: big('b') } },
          ],
        };
      return { text: 'Wrote two large files.' };
    });
    try {
      const events: RunnerEvent[] = [];
      const s = spec({ tools: ['write_file'], provider: { kind: 'openai', baseUrl: mock.baseUrl, model: 'gpt-4o-mini' } });
      s.crew.tasks = [s.crew.tasks[0]];
      const outcome = await runAgentCrew(
        s,
        { workspaceDir: path.join(await mkdtemp(path.join(root, 'attempt-')), 'workspace'), modelFor: modelSelector(s.provider, {}) },
        (e) => void events.push(e),
      );
      expect(outcome).toBe('result');
      expect(events.some((e) => e.type === 'artifact')).toBe(false);
      expect(events).toContainEqual(
        expect.objectContaining({
          type: 'log',
          level: 'warn',
          message: expect.stringMatching(/^changes\.patch is \d+ bytes, .* not stored/),
        }),
      );
      expect((events.find((e) => e.type === 'result') as any).output.files.map((f: any) => f.path)).toEqual(['big-a.txt', 'big-b.txt']);
      for (const e of events) expect(Buffer.byteLength(JSON.stringify(e))).toBeLessThan(1024 * 1024);
    } finally {
      await mock.close();
    }
  }, 30_000);

  describe('template task fields', () => {
    async function runWith(reply: Parameters<typeof startOpenAiMockServer>[0], edit: (s: RunnerSpec) => void) {
      const mock = await startOpenAiMockServer(reply);
      try {
        const events: RunnerEvent[] = [];
        const s = spec({ provider: { kind: 'openai', baseUrl: mock.baseUrl, model: 'gpt-4o-mini' } });
        edit(s);
        const outcome = await runAgentCrew(
          s,
          { workspaceDir: path.join(await mkdtemp(path.join(root, 'attempt-')), 'workspace'), modelFor: modelSelector(s.provider, {}) },
          (e) => void events.push(e),
        );
        return { outcome, events, requests: mock.requests };
      } finally {
        await mock.close();
      }
    }

    it("maxSteps bounds a task's model calls: the last one forbids tools, and a model still calling them ends STEP_LIMIT_REACHED (retryable)", async () => {
      const r = await runWith(
        () => ({ toolCalls: [{ name: 'list_files', arguments: {} }] }),
        (s) => {
          s.crew.tasks = [{ ...s.crew.tasks[0], maxSteps: 3 }];
        },
      );
      expect(r.requests).toHaveLength(3);
      expect(r.requests.map((q) => q.body.tool_choice)).toEqual(['auto', 'auto', 'none']);
      expect(r.outcome).toBe('error');
      expect(r.events.at(-1)).toMatchObject({
        type: 'error',
        code: 'STEP_LIMIT_REACHED',
        retryable: true,
        message: 'Task first used its 3 steps and the model was still calling tools, so it gave no final answer.',
      });
    }, 15_000);

    it('a task with an output schema answers a JSON object valid against it: later tasks see it, the result carries it under taskOutputs', async () => {
      const plan = { summary: 'Fix slugify', steps: ['Read the test', 'Collapse runs of separators'] };
      const schema = {
        type: 'object',
        required: ['summary', 'steps'],
        properties: { summary: { type: 'string' }, steps: { type: 'array', items: { type: 'string' } } },
      };
      const r = await runWith(
        (req, n) => (n === 0 ? { text: JSON.stringify(plan) } : { text: 'Done as planned.' }),
        (s) => {
          s.crew.agents[0].tools = [];
          s.crew.tasks[0] = { ...s.crew.tasks[0], outputSchema: schema };
        },
      );
      expect(r.outcome).toBe('result');
      expect(r.requests[0].body.response_format).toEqual({ type: 'json_object' });
      expect(r.requests[0].body.messages.map((m) => m.content).join('\n')).toContain(JSON.stringify(schema));
      // The second task reads the first one's answer as JSON, and is itself free text.
      expect(r.requests[1].body.messages.map((m) => m.content).join('\n')).toContain('"Collapse runs of separators"');
      expect(r.requests[1].body.response_format).toBeUndefined();
      expect(r.events.find((e) => e.type === 'task_completed' && e.task === 'first')).toMatchObject({
        output: JSON.stringify(plan, null, 2),
      });
      expect((r.events.find((e) => e.type === 'result') as any).output).toMatchObject({
        summary: 'Done as planned.',
        taskOutputs: { first: plan },
      });
    }, 15_000);

    it("an answer that does not match the task's output schema ends INVALID_MODEL_OUTPUT (retryable), naming the field", async () => {
      const r = await runWith(
        () => ({ text: '{"summary": 3}' }),
        (s) => {
          s.crew.agents[0].tools = [];
          s.crew.tasks = [
            { ...s.crew.tasks[0], outputSchema: { type: 'object', required: ['summary'], properties: { summary: { type: 'string' } } } },
          ];
        },
      );
      expect(r.events.at(-1)).toMatchObject({
        type: 'error',
        code: 'INVALID_MODEL_OUTPUT',
        retryable: true,
        message: expect.stringContaining('summary'),
      });
    }, 15_000);
  });
});
