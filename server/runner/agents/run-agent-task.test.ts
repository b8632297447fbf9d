import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compile, sharedAjv } from '../../json-schema/ajv.ts';
import { createFakeTools } from '../../test/fake-tools.ts';
import { startOpenAiMockServer, type MockReply, type OpenAiMockServer } from '../../test/openai-mock-server.ts';
import type { AgentEvent } from './agent-events.ts';
import { resolveModel } from './resolve-model.ts';
import { runAgentTask, type RunAgentTaskOptions } from './run-agent-task.ts';

// The agent loop against a local server that speaks OpenAI's chat-completions protocol over real
// HTTP, once answering with JSON bodies and once with server-sent events.
// The protocol's own validator (the project's Ajv, as the engine's parser uses).
const validRunnerEvent = sharedAjv().compile(
  JSON.parse(readFileSync(new URL('../../../schemas/runner-event.schema.json', import.meta.url), 'utf8')),
);
let mock: OpenAiMockServer | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

const WORKSPACE = () =>
  new Map([
    ['README.md', '# Shop\n'],
    ['src/cart.ts', 'export const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);\n'],
  ]);

async function setup(
  replies: MockReply[] | ((req: any, n: number) => MockReply | undefined),
  over: Partial<RunAgentTaskOptions> = {},
  opts: { commandDelayMs?: number } = {},
) {
  mock = await startOpenAiMockServer(replies);
  const files = WORKSPACE();
  const events: AgentEvent[] = [];
  const model = resolveModel(
    'mock:gpt-test',
    { providers: { mock: { baseUrl: mock.baseUrl, apiKeyEnv: 'MOCK_KEY' } } },
    { MOCK_KEY: 'sk-mock-key' },
  );
  const options: RunAgentTaskOptions = {
    agent: {
      id: 'dev',
      role: 'Developer',
      goal: 'Ship {title}',
      backstory: 'Careful.',
      model: 'mock:gpt-test',
      tools: ['read_file', 'write_file'],
    },
    task: { id: 'implement', description: 'Implement {title} in {repo.path}', expectedOutput: 'A summary' },
    input: { title: 'cart totals', repo: { path: 'src/cart.ts' } },
    context: [],
    tools: createFakeTools(files, opts),
    toolContext: { workspaceDir: '/nowhere', sandbox: { timeoutMs: 1000, maxOutputBytes: 1000, network: false } },
    model,
    emit: (e) => void events.push(e),
    maxRetries: 0,
    ...over,
  };
  return { files, events, options, mock };
}

for (const stream of [false, true]) {
  describe(`the agent loop against an OpenAI-compatible endpoint (${stream ? 'streaming' : 'non-streaming'})`, () => {
    it('sends exactly the granted tools with their JSON schemas and the filled prompt', async () => {
      const { options, mock } = await setup([{ text: 'Nothing to do.' }]);
      const outcome = await runAgentTask({ ...options, stream });
      expect(outcome).toMatchObject({ status: 'completed', text: 'Nothing to do.', steps: 1 });
      expect(mock.requests).toHaveLength(1);
      const body = mock.requests[0].body;
      expect(mock.requests[0].authorization).toBe('Bearer sk-mock-key');
      expect(body.model).toBe('gpt-test');
      expect(Boolean(body.stream)).toBe(stream);
      if (stream) expect(body.stream_options).toEqual({ include_usage: true });
      expect(body.tools?.map((t) => t.function.name)).toEqual(['read_file', 'write_file']);
      const readFile = createFakeTools(new Map()).find((t) => t.name === 'read_file')!;
      expect(body.tools?.[0]).toMatchObject({
        type: 'function',
        function: { name: 'read_file', description: readFile.description, parameters: readFile.inputSchema },
      });
      expect(body.messages[0]).toMatchObject({
        role: 'system',
        content: expect.stringContaining('Your personal goal is: Ship cart totals'),
      });
      expect(body.messages[1].content).toContain('Current task: Implement cart totals in src/cart.ts');
      expect(body.messages[1].content).not.toMatch(/\{title\}|\{repo\.path\}/);
    });

    it('runs a tool the model calls and sends its result back as a tool message with the matching tool_call_id', async () => {
      const { options, mock, events, files } = await setup([
        {
          toolCalls: [{ id: 'call_read', name: 'read_file', arguments: { path: 'src/cart.ts' } }],
          usage: { promptTokens: 120, completionTokens: 15 },
        },
        {
          toolCalls: [{ id: 'call_write', name: 'write_file', arguments: { path: 'src/cart.ts', content: 'export const total = 0;\n' } }],
          usage: { promptTokens: 300, completionTokens: 30 },
        },
        { text: 'Rewrote total.', usage: { promptTokens: 400, completionTokens: 5 } },
      ]);
      const deltas: string[] = [];
      const outcome = await runAgentTask({ ...options, stream, onTextDelta: (d) => deltas.push(d) });
      expect(outcome).toMatchObject({ status: 'completed', text: 'Rewrote total.', steps: 3, inputTokens: 820, outputTokens: 50 });
      expect(deltas.join('')).toBe('Rewrote total.');
      if (stream) expect(deltas.length).toBeGreaterThan(1);
      expect(files.get('src/cart.ts')).toBe('export const total = 0;\n');
      expect(mock.requests).toHaveLength(3);
      const second = mock.requests[1].body.messages;
      const call = second.find((m) => m.role === 'assistant')!;
      expect(call.tool_calls).toEqual([
        { id: 'call_read', type: 'function', function: { name: 'read_file', arguments: '{"path":"src/cart.ts"}' } },
      ]);
      expect(second.at(-1)).toEqual({
        role: 'tool',
        tool_call_id: 'call_read',
        content: 'export const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);\n',
      });
      expect(mock.requests[2].body.messages.at(-1)).toMatchObject({
        role: 'tool',
        tool_call_id: 'call_write',
        content: 'Wrote 24 characters to src/cart.ts.',
      });

      // Usage of each model call is reported before the tools it asked for run.
      expect(events.map((e) => e.type)).toEqual(['usage', 'tool_call', 'tool_result', 'usage', 'tool_call', 'tool_result', 'usage']);
      expect(events.filter((e) => e.type === 'usage')).toEqual([
        { v: 1, type: 'usage', model: 'mock:gpt-test', inputTokens: 120, outputTokens: 15, task: 'implement' },
        { v: 1, type: 'usage', model: 'mock:gpt-test', inputTokens: 300, outputTokens: 30, task: 'implement' },
        { v: 1, type: 'usage', model: 'mock:gpt-test', inputTokens: 400, outputTokens: 5, task: 'implement' },
      ]);
      expect(events[1]).toEqual({
        v: 1,
        type: 'tool_call',
        callId: 'call_read',
        tool: 'read_file',
        args: '{"path":"src/cart.ts"}',
        task: 'implement',
        agent: 'dev',
      });
      expect(events[2]).toMatchObject({
        type: 'tool_result',
        callId: 'call_read',
        tool: 'read_file',
        ok: true,
        output: expect.stringContaining('export const total'),
        task: 'implement',
        agent: 'dev',
      });
      expect((events[2] as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(0);
      for (const e of events) expect(validRunnerEvent(e), JSON.stringify(validRunnerEvent.errors)).toBe(true);
    });

    it('sends a failed tool result back as such and keeps going', async () => {
      const { options, mock, events } = await setup([
        { toolCalls: [{ id: 'c1', name: 'read_file', arguments: { path: 'nope.ts' } }] },
        { text: 'The file is missing.' },
      ]);
      const outcome = await runAgentTask({ ...options, stream });
      expect(outcome).toMatchObject({ status: 'completed', text: 'The file is missing.' });
      expect(events.find((e) => e.type === 'tool_result')).toMatchObject({ ok: false, output: 'No file nope.ts.' });
      expect(mock.requests[1].body.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'c1', content: 'No file nope.ts.' });
    });

    it('ends a loop that keeps calling tools at the task’s step limit, with STEP_LIMIT_REACHED', async () => {
      const { options, mock, events } = await setup((_req, n) => ({
        toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }],
        usage: { promptTokens: 10 + n, completionTokens: 1 },
      }));
      const outcome = await runAgentTask({ ...options, stream, task: { ...options.task, maxSteps: 3 } });
      expect(outcome).toMatchObject({ status: 'step_limit', code: 'STEP_LIMIT_REACHED', retryable: true, steps: 3 });
      expect(outcome.status === 'step_limit' && outcome.message).toBe(
        'Task implement used its 3 steps and the model was still calling tools, so it gave no final answer.',
      );
      expect(mock.requests).toHaveLength(3);
      // The last request asked for an answer without tools; only a model that ignores it hits the limit.
      expect(mock.requests.map((r) => r.body.tool_choice)).toEqual(['auto', 'auto', 'none']);
      expect(events.filter((e) => e.type === 'usage')).toHaveLength(3);
    });

    it('stops at a refused usage charge: the tools that answer asked for never run and no request follows', async () => {
      const { options, mock, events, files } = await setup([
        // Streamed, the tool call is complete well before the usage arrives.
        { toolCalls: [{ id: 'c1', name: 'write_file', arguments: { path: 'x.ts', content: 'x' } }], pauseBeforeFinishMs: 200 },
        { text: 'never asked' },
      ]);
      const outcome = await runAgentTask({ ...options, stream, emit: (e) => (events.push(e), e.type === 'usage' ? 'stop' : undefined) });
      expect(outcome).toMatchObject({
        status: 'stopped',
        message: 'Task implement was stopped: its usage event was refused (budget).',
        steps: 1,
      });
      expect(events.map((e) => e.type)).toEqual(['usage']);
      expect(files.has('x.ts')).toBe(false);
      expect(mock.requests).toHaveLength(1);
    });

    it('stops when reporting an event throws, like a refused charge', async () => {
      const { options, mock } = await setup([
        { toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }] },
        { text: 'never asked' },
      ]);
      const outcome = await runAgentTask({
        ...options,
        stream,
        emit: (e) => {
          if (e.type === 'usage') throw new Error('charge refused');
        },
      });
      expect(outcome).toMatchObject({ status: 'stopped', message: 'Task implement was stopped: reporting usage failed (charge refused).' });
      expect(mock.requests).toHaveLength(1);
    });

    it('an abort during a tool that hangs ends the task within 500 ms of the abort, with no further request', async () => {
      const controller = new AbortController();
      const { options, mock, events } = await setup(
        [{ toolCalls: [{ name: 'run_command', arguments: { command: 'sleep 30' } }] }, { text: 'never asked' }],
        { agent: { id: 'dev', role: 'Developer', goal: 'g', backstory: 'b', model: 'mock:gpt-test', tools: ['run_command'] } },
        { commandDelayMs: 30_000 },
      );
      // Timed from the abort: what comes before it (the model's first answer, the tool's start) is not the point.
      let abortedAt = Infinity;
      const running = runAgentTask({
        ...options,
        stream,
        signal: controller.signal,
        emit: (e) => {
          events.push(e);
          if (e.type === 'tool_call')
            setTimeout(() => {
              abortedAt = performance.now();
              controller.abort();
            }, 50);
        },
      });
      const outcome = await running;
      expect(Number.isFinite(abortedAt)).toBe(true);
      const elapsed = performance.now() - abortedAt;
      expect(outcome).toMatchObject({ status: 'stopped', message: 'Task implement was cancelled.' });
      expect(elapsed).toBeLessThan(500);
      expect(events.map((e) => e.type)).toEqual(['usage', 'tool_call', 'tool_result']);
      expect(events.at(-1)).toMatchObject({ ok: false, output: 'The task was stopped while the tool ran.' });
      expect(mock.requests).toHaveLength(1);
    });

    it('an abort while the model is answering cuts the request and ends the task within 500 ms of the abort', async () => {
      const controller = new AbortController();
      const { options, mock } = await setup([{ text: 'slow', delayMs: 30_000 }]);
      let abortedAt = Infinity;
      setTimeout(() => {
        abortedAt = performance.now();
        controller.abort();
      }, 100);
      const outcome = await runAgentTask({ ...options, stream, signal: controller.signal });
      expect(outcome).toMatchObject({ status: 'stopped' });
      expect(Number.isFinite(abortedAt)).toBe(true);
      expect(performance.now() - abortedAt).toBeLessThan(500);
      await expect.poll(() => mock.abortedRequests, { timeout: 2000 }).toBe(1);
    });

    it('answers with an object valid against the task’s output schema', async () => {
      const schema = {
        type: 'object',
        required: ['summary', 'files'],
        properties: { summary: { type: 'string' }, files: { type: 'array', items: { type: 'string' } } },
      };
      const answer = { summary: 'Done', files: ['src/cart.ts'] };
      const { options, mock } = await setup([
        { toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }] },
        { text: JSON.stringify(answer) },
      ]);
      const outcome = await runAgentTask({ ...options, stream, task: { ...options.task, outputSchema: schema } });
      expect(outcome).toMatchObject({ status: 'completed', output: answer });
      expect(mock.requests[0].body.response_format).toEqual({ type: 'json_object' });
      expect(mock.requests[0].body.messages[1].content).toContain(JSON.stringify(schema));
    });

    it('an answer that does not match the output schema, or is not JSON, fails the task retryably with INVALID_MODEL_OUTPUT', async () => {
      const schema = { type: 'object', required: ['summary'], properties: { summary: { type: 'string' } } };
      const { options } = await setup([{ text: JSON.stringify({ sumary: 'typo' }) }, { text: 'Here you go: {"summary": ' }]);
      const outcome = await runAgentTask({ ...options, stream, task: { ...options.task, outputSchema: schema } });
      expect(outcome).toMatchObject({
        status: 'failed',
        code: 'INVALID_MODEL_OUTPUT',
        retryable: true,
        message: 'Task implement: The answer does not match the output schema: `summary` is required.',
      });
      const notJson = await runAgentTask({ ...options, stream, task: { ...options.task, outputSchema: schema } });
      expect(notJson).toMatchObject({
        status: 'failed',
        code: 'INVALID_MODEL_OUTPUT',
        message: expect.stringMatching(/^Task implement: The model's answer is not the JSON object the task asks for \(.+\)\.$/),
      });
    });

    it('a 500 from the endpoint fails the task retryably with MODEL_ERROR; a 400 not retryably', async () => {
      const { options } = await setup([{ status: 500 }, { status: 400 }]);
      expect(await runAgentTask({ ...options, stream })).toMatchObject({
        status: 'failed',
        code: 'MODEL_ERROR',
        retryable: true,
        message: expect.stringContaining('answered 500'),
      });
      expect(await runAgentTask({ ...options, stream })).toMatchObject({
        status: 'failed',
        code: 'MODEL_ERROR',
        retryable: false,
        message: expect.stringContaining('answered 400'),
      });
    });

    it('the endpoint’s words (which may quote the key) stay out of the message: status and reason phrase only, the body in the operator-only detail', async () => {
      const { options } = await setup([{ status: 401 }]);
      const outcome = await runAgentTask({ ...options, stream });
      expect(outcome).toMatchObject({
        status: 'failed',
        code: 'MODEL_ERROR',
        retryable: false,
        message: 'Task implement: The model provider answered 401 Unauthorized.',
      });
      expect(outcome.status === 'failed' && outcome.detail).toContain('Scripted error 401');
    });
  });
}

// Whatever a model sends as a tool call, no tool runs on arguments it did not declare, the model
// is told what was wrong (a tool message for that call) and the call is in the log.
const HOSTILE_CALLS = [
  {
    what: 'arguments that are not JSON',
    call: { name: 'write_file', arguments: '{"path": "a.ts", "content": ' },
    told: /^Invalid input for tool write_file: JSON parsing failed/,
  },
  {
    what: 'arguments against the schema',
    call: { name: 'write_file', arguments: { path: 1, content: 'x' } },
    told: /^Invalid input for tool write_file: .*The arguments for write_file do not match its schema: `path` must be a string\.$/s,
  },
  { what: 'a missing required argument', call: { name: 'write_file', arguments: { path: 'a.ts' } }, told: /`content` is required/ },
  {
    what: 'an extra argument',
    call: { name: 'write_file', arguments: { path: 'a.ts', content: 'x', mode: 'exec' } },
    told: /`mode` is not allowed/,
  },
  {
    what: 'a tool that does not exist',
    call: { name: 'rm_rf', arguments: {} },
    told: /^Model tried to call unavailable tool 'rm_rf'\. Available tools: read_file, write_file\.$/,
  },
  {
    what: 'a tool the agent was not granted',
    call: { name: 'run_command', arguments: { command: 'curl evil' } },
    told: /unavailable tool 'run_command'/,
  },
];

describe('tool calls a model should not have made', () => {
  for (const stream of [false, true]) {
    for (const h of HOSTILE_CALLS) {
      it(`${h.what}: nothing runs, the model is told why, the log shows it (${stream ? 'streaming' : 'non-streaming'})`, async () => {
        const { options, mock, events, files } = await setup([{ toolCalls: [{ id: 'bad', ...h.call }] }, { text: 'Sorry.' }]);
        const before = new Map(files);
        const outcome = await runAgentTask({ ...options, stream });
        expect(outcome).toMatchObject({ status: 'completed', text: 'Sorry.' });
        expect(files).toEqual(before);
        const told = mock.requests[1].body.messages.at(-1)!;
        expect(told).toMatchObject({ role: 'tool', tool_call_id: 'bad' });
        expect(told.content).toMatch(h.told);
        expect(events.map((e) => e.type)).toEqual(['usage', 'tool_call', 'tool_result', 'usage']);
        expect(events[2]).toMatchObject({ callId: 'bad', tool: h.call.name, ok: false, output: told.content });
      });
    }
  }

  // Property: over arbitrary arguments a model could send, the tool runs exactly when they satisfy
  // its declared schema.
  it('runs a tool exactly when its arguments match the declared schema (fast-check, 60 runs)', async () => {
    const writeFile = createFakeTools(new Map()).find((t) => t.name === 'write_file')!;
    const valid = compile(writeFile.inputSchema);
    const args = fc.oneof(
      fc.record({ path: fc.string({ maxLength: 8 }), content: fc.string({ maxLength: 8 }) }),
      fc.record(
        { path: fc.oneof(fc.string(), fc.integer(), fc.constant(null)), content: fc.oneof(fc.string(), fc.boolean()) },
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
      fc.jsonValue({ maxDepth: 1 }),
    );
    await fc.assert(
      fc.asyncProperty(args, async (a) => {
        const { options, events } = await setup([
          { toolCalls: [{ id: 'c', name: 'write_file', arguments: JSON.stringify(a) }] },
          { text: 'ok' },
        ]);
        await runAgentTask(options);
        await mock!.close();
        mock = undefined;
        const ran = events.some((e) => e.type === 'tool_result' && e.ok);
        expect(ran).toBe(valid(a));
      }),
      { numRuns: 60 },
    );
  });
});

describe('granting tools', () => {
  it('refuses an agent granted a tool the runner does not have, before any request', async () => {
    const { options, mock } = await setup([{ text: 'x' }]);
    const outcome = await runAgentTask({ ...options, agent: { ...options.agent, tools: ['read_file', 'deploy'] } });
    expect(outcome).toMatchObject({
      status: 'failed',
      code: 'UNKNOWN_TOOL',
      retryable: false,
      message: 'Task implement: the agent is granted tools that do not exist: deploy.',
    });
    expect(mock.requests).toHaveLength(0);
  });

  it('caps long tool arguments and outputs in events, which stay valid runner protocol events', async () => {
    const big = 'x'.repeat(50_000);
    const { options, events } = await setup([
      { toolCalls: [{ name: 'write_file', arguments: { path: 'big.txt', content: big } }] },
      { toolCalls: [{ name: 'read_file', arguments: { path: 'big.txt' } }] },
      { text: 'ok' },
    ]);
    await runAgentTask(options);
    const call = events.find((e) => e.type === 'tool_call');
    expect(call).toMatchObject({ tool: 'write_file', argsTruncated: true });
    expect(call?.type === 'tool_call' && call.args).toMatch(/^\{"path":"big\.txt","content":"xxx/);
    expect(call?.type === 'tool_call' && call.args.length).toBe(16_384);
    const read = events.filter((e) => e.type === 'tool_result')[1];
    expect(read).toMatchObject({ tool: 'read_file', ok: true, outputTruncated: true });
    expect(read?.type === 'tool_result' && read.output.length).toBe(16_384);
    for (const e of events) expect(validRunnerEvent(e), JSON.stringify(validRunnerEvent.errors)).toBe(true);
  });
});
