// The tool loop over each vendor protocol the runner speaks, against local servers that speak it
// (OpenAI chat completions with `tool_calls` through @ai-sdk/openai; Anthropic's Messages API with
// `tool_use` through @ai-sdk/anthropic), answered as one JSON body and as a stream.
import { afterEach, describe, expect, it } from 'vitest';
import { startAnthropicMockServer, type AnthropicMockServer } from '../../test/anthropic-mock-server.ts';
import { createFakeTools } from '../../test/fake-tools.ts';
import { startOpenAiMockServer, type OpenAiMockServer } from '../../test/openai-mock-server.ts';
import type { AgentEvent } from './agent-events.ts';
import { parseProvidersConfig, resolveModel } from './resolve-model.ts';
import { runAgentTask } from './run-agent-task.ts';

const KEY = 'sk-test-vendor-key-7f3a9c2e51';
const README = 'The project README: run npm test.';
const script = [
  { toolCalls: [{ name: 'read_file', arguments: { path: 'README.md' } }], usage: { promptTokens: 50, completionTokens: 7 } },
  { text: 'It says: run npm test.', usage: { promptTokens: 80, completionTokens: 9 } },
];

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

async function loop(model: ReturnType<typeof resolveModel>, stream: boolean) {
  const events: AgentEvent[] = [];
  const outcome = await runAgentTask({
    agent: { id: 'dev', role: 'Engineer', goal: 'Read the README', backstory: 'B', model: 'vendor:model', tools: ['read_file'] },
    task: { id: 'read', description: 'What does the README say?', expectedOutput: 'One sentence.' },
    input: {},
    context: [],
    tools: createFakeTools(new Map([['README.md', README]])),
    toolContext: { workspaceDir: '/nowhere', sandbox: { timeoutMs: 1000, maxOutputBytes: 1000, network: false } },
    model,
    emit: (e) => void events.push(e),
    stream,
    maxRetries: 0,
  });
  return { outcome, events };
}

describe.each([false, true])('the tool loop over vendor protocols (stream: %s)', (stream) => {
  it('openai:… speaks chat completions: tools sent, tool_calls run, the tool message sent back, usage charged per step', async () => {
    const mock: OpenAiMockServer = await startOpenAiMockServer(script);
    closers.push(mock.close);
    const config = parseProvidersConfig(
      JSON.stringify({ providers: { openai: { kind: 'openai', baseUrl: mock.baseUrl, apiKeyEnv: 'CORP_OPENAI_KEY' } } }),
    );
    const { outcome, events } = await loop(resolveModel('openai:gpt-4o', config, { CORP_OPENAI_KEY: KEY }), stream);

    expect(outcome).toMatchObject({ status: 'completed', text: 'It says: run npm test.', steps: 2, inputTokens: 130, outputTokens: 16 });
    expect(mock.requests).toHaveLength(2);
    const [first, second] = mock.requests;
    expect(first).toMatchObject({ path: '/v1/chat/completions', authorization: `Bearer ${KEY}`, body: { model: 'gpt-4o' } });
    expect(Boolean(first.body.stream)).toBe(stream);
    expect(first.body.tools?.map((t) => t.function.name)).toEqual(['read_file']);
    expect(first.body.tools?.[0].function.parameters).toMatchObject({ properties: { path: { type: 'string' } }, required: ['path'] });
    const toolMessage = second.body.messages.find((m) => m.role === 'tool');
    expect(toolMessage).toMatchObject({ tool_call_id: 'call_1_1' });
    expect(String(toolMessage?.content)).toContain(README);
    expect(events.filter((e) => e.type === 'usage')).toMatchObject([
      { model: 'vendor:model', inputTokens: 50, outputTokens: 7 },
      { model: 'vendor:model', inputTokens: 80, outputTokens: 9 },
    ]);
    expect(events.filter((e) => e.type === 'tool_result')).toMatchObject([{ tool: 'read_file', ok: true, output: README }]);
  });

  it('anthropic:… speaks the Messages API: tools with input_schema, tool_use run, tool_result sent back, usage charged per step', async () => {
    const mock: AnthropicMockServer = await startAnthropicMockServer(script);
    closers.push(mock.close);
    // The built-in provider, its key from ANTHROPIC_API_KEY, pointed at the mock by the operator's base URL.
    const config = parseProvidersConfig(
      JSON.stringify({ providers: { anthropic: { kind: 'anthropic', baseUrl: mock.baseUrl, apiKeyEnv: 'ANTHROPIC_API_KEY' } } }),
    );
    const { outcome, events } = await loop(resolveModel('anthropic:claude-sonnet-4-5', config, { ANTHROPIC_API_KEY: KEY }), stream);

    expect(outcome).toMatchObject({ status: 'completed', text: 'It says: run npm test.', steps: 2, inputTokens: 130, outputTokens: 16 });
    expect(mock.requests).toHaveLength(2);
    const [first, second] = mock.requests;
    expect(first).toMatchObject({ path: '/v1/messages', apiKey: KEY, body: { model: 'claude-sonnet-4-5' } });
    expect(first.anthropicVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Boolean(first.body.stream)).toBe(stream);
    expect(first.body.max_tokens).toBeGreaterThan(0);
    expect(first.body.tools?.map((t) => t.name)).toEqual(['read_file']);
    expect(first.body.tools?.[0].input_schema).toMatchObject({ properties: { path: { type: 'string' } }, required: ['path'] });
    // The answer's tool_use block goes back as the assistant's turn, its result as the user's.
    const assistant = second.body.messages.find((m) => m.role === 'assistant');
    expect(assistant?.content).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'tool_use', id: 'toolu_1_1', name: 'read_file', input: { path: 'README.md' } }),
      ]),
    );
    const results = second.body.messages
      .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .filter((c) => c.type === 'tool_result');
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ tool_use_id: 'toolu_1_1' });
    expect(JSON.stringify(results[0].content)).toContain(README);
    expect(events.filter((e) => e.type === 'usage')).toMatchObject([
      { inputTokens: 50, outputTokens: 7 },
      { inputTokens: 80, outputTokens: 9 },
    ]);
    expect(events.filter((e) => e.type === 'tool_call')).toMatchObject([{ tool: 'read_file', args: '{"path":"README.md"}' }]);
  });
});

describe('structured output over the vendor protocols', () => {
  const schema = {
    type: 'object',
    properties: { verdict: { type: 'string' }, notes: { type: 'string' } },
    required: ['verdict'],
    additionalProperties: false,
  };
  const task = { id: 'judge', description: 'Judge', expectedOutput: 'A verdict', outputSchema: schema };

  it('openai:… sends the schema as json_schema, not strict unless the operator says so (strict mode would refuse an optional property)', async () => {
    const mock = await startOpenAiMockServer([{ text: '{"verdict":"ok"}' }, { text: '{"verdict":"ok"}' }]);
    closers.push(mock.close);
    for (const structuredOutputs of [false, true]) {
      const model = resolveModel(
        'openai:gpt-4o',
        { providers: { openai: { kind: 'openai', baseUrl: mock.baseUrl, apiKeyEnv: 'K', structuredOutputs } } },
        { K: KEY },
      );
      const outcome = await runAgentTask({
        agent: { role: 'R', goal: 'G', backstory: 'B', model: 'openai:gpt-4o', tools: [] },
        task,
        input: {},
        context: [],
        tools: [],
        toolContext: { workspaceDir: '/nowhere', sandbox: { timeoutMs: 1000, maxOutputBytes: 1000, network: false } },
        model,
        emit: () => {},
        maxRetries: 0,
      });
      expect(outcome).toMatchObject({ status: 'completed', output: { verdict: 'ok' } });
    }
    expect(mock.requests.map((r) => r.body.response_format)).toEqual([
      { type: 'json_schema', json_schema: { name: 'response', strict: false, schema } },
      { type: 'json_schema', json_schema: { name: 'response', strict: true, schema } },
    ]);
  });
});
