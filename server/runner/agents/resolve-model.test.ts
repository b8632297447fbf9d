import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFakeTools } from '../../test/fake-tools.ts';
import { startOpenAiMockServer, type OpenAiMockServer } from '../../test/openai-mock-server.ts';
import { ModelConfigError, parseModelName, parseProvidersConfig, resolveModel } from './resolve-model.ts';
import { runAgentTask } from './run-agent-task.ts';

let mock: OpenAiMockServer | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

const configError = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelConfigError);
    return { code: (err as ModelConfigError).code, message: (err as Error).message };
  }
  throw new Error('expected a ModelConfigError');
};

async function ask(model: ReturnType<typeof resolveModel>) {
  return runAgentTask({
    agent: { role: 'R', goal: 'G', backstory: 'B', model: 'any', tools: [] },
    task: { description: 'Say hi', expectedOutput: 'hi' },
    input: {},
    context: [],
    tools: createFakeTools(new Map()),
    toolContext: { workspaceDir: '/nowhere', sandbox: { timeoutMs: 1000, maxOutputBytes: 1000, network: false } },
    model,
    emit: () => {},
    maxRetries: 0,
  });
}

describe('choosing a model by name', () => {
  it('a named OpenAI-compatible endpoint gets its requests, with the key read from the environment variable the configuration names', async () => {
    mock = await startOpenAiMockServer([{ text: 'hi' }]);
    const config = parseProvidersConfig(JSON.stringify({ providers: { 'local-qwen': { baseUrl: mock.baseUrl, apiKeyEnv: 'QWEN_KEY' } } }));
    const outcome = await ask(resolveModel('local-qwen:qwen2.5-coder:32b', config, { QWEN_KEY: 'sk-qwen' }));
    expect(outcome).toMatchObject({ status: 'completed', text: 'hi' });
    expect(mock.requests[0]).toMatchObject({
      path: '/v1/chat/completions',
      authorization: 'Bearer sk-qwen',
      body: { model: 'qwen2.5-coder:32b' },
    });
  });

  it('an endpoint without json_schema support gets json_object (the schema is in the prompt), one with it gets json_schema; no warning on stderr', async () => {
    const warn = vi.spyOn(console, 'warn');
    try {
      mock = await startOpenAiMockServer([{ text: '{"a":"x"}' }, { text: '{"a":"x"}' }]);
      const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false };
      for (const structuredOutputs of [false, true]) {
        const outcome = await runAgentTask({
          agent: { role: 'R', goal: 'G', backstory: 'B', model: 'any', tools: [] },
          task: { description: 'Answer', expectedOutput: 'JSON', outputSchema: schema },
          input: {},
          context: [],
          tools: [],
          toolContext: { workspaceDir: '/nowhere', sandbox: { timeoutMs: 1000, maxOutputBytes: 1000, network: false } },
          model: resolveModel('p:m', { providers: { p: { baseUrl: mock.baseUrl, structuredOutputs } } }, {}),
          emit: () => {},
          maxRetries: 0,
        });
        expect(outcome).toMatchObject({ status: 'completed', output: { a: 'x' } });
      }
      expect(mock.requests[0].body.response_format).toEqual({ type: 'json_object' });
      expect(mock.requests[1].body.response_format).toEqual({
        type: 'json_schema',
        json_schema: { name: 'response', strict: true, schema },
      });
      expect(warn.mock.calls.filter((c) => String(c[0]).includes('AI SDK Warning'))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });

  it('an endpoint without a key sends no Authorization header', async () => {
    mock = await startOpenAiMockServer([{ text: 'hi' }]);
    await ask(resolveModel('local:m', { providers: { local: { baseUrl: mock.baseUrl } } }, {}));
    expect(mock.requests[0].authorization).toBeUndefined();
  });

  it('a bare model name goes to the default provider when one is configured, and is refused otherwise', async () => {
    mock = await startOpenAiMockServer([{ text: 'hi' }]);
    await ask(resolveModel('gpt-4o-mini', { providers: { corp: { baseUrl: mock.baseUrl } }, defaultProvider: 'corp' }, {}));
    expect(mock.requests[0].body.model).toBe('gpt-4o-mini');
    expect(configError(() => resolveModel('gpt-4o-mini', { providers: {} }, {}))).toEqual({
      code: 'UNKNOWN_MODEL_PROVIDER',
      message: 'The model "gpt-4o-mini" names no provider: write it as provider:model, e.g. openai:gpt-4o.',
    });
  });

  it('an unknown provider is a clear error naming the configured ones', () => {
    expect(configError(() => resolveModel('mistral:codestral', { providers: { corp: { baseUrl: 'http://127.0.0.1:1/v1' } } }, {}))).toEqual(
      {
        code: 'UNKNOWN_MODEL_PROVIDER',
        message:
          'The model "mistral:codestral" names the provider "mistral", which is not configured. Configured providers: anthropic, corp, offline, openai.',
      },
    );
  });

  it('openai:… and anthropic:… are built in, with keys from OPENAI_API_KEY and ANTHROPIC_API_KEY; unset, the error names the variable', () => {
    expect(configError(() => resolveModel('openai:gpt-4o', { providers: {} }, {}))).toEqual({
      code: 'MODEL_KEY_MISSING',
      message: 'The provider "openai" takes its key from the environment variable OPENAI_API_KEY, which is not set.',
    });
    expect(resolveModel('openai:gpt-4o', { providers: {} }, { OPENAI_API_KEY: 'sk-x' })).toMatchObject({ modelId: 'gpt-4o' });
    expect(configError(() => resolveModel('anthropic:claude-sonnet-4-5', { providers: {} }, {})).message).toBe(
      'The provider "anthropic" takes its key from the environment variable ANTHROPIC_API_KEY, which is not set.',
    );
  });

  it('an operator entry replaces a built-in provider of the same name', async () => {
    mock = await startOpenAiMockServer([{ text: 'hi' }]);
    await ask(
      resolveModel(
        'openai:gpt-4o',
        { providers: { openai: { baseUrl: mock.baseUrl, apiKeyEnv: 'CORP_OPENAI_KEY' } } },
        { CORP_OPENAI_KEY: 'sk-corp' },
      ),
    );
    expect(mock.requests[0]).toMatchObject({ authorization: 'Bearer sk-corp', body: { model: 'gpt-4o' } });
  });

  it('offline needs no configuration', () => {
    expect(resolveModel('offline')).toMatchObject({ provider: 'offline', modelId: 'offline' });
    expect(resolveModel('offline:fast')).toMatchObject({ provider: 'offline', modelId: 'fast' });
  });

  it('names split at the first colon; empty parts are refused', () => {
    expect(parseModelName('ollama:qwen2.5-coder:32b')).toEqual({ provider: 'ollama', modelId: 'qwen2.5-coder:32b' });
    for (const bad of ['', ':gpt-4o', 'openai:']) expect(configError(() => parseModelName(bad)).code).toBe('UNKNOWN_MODEL_PROVIDER');
  });
});

describe('the operator’s provider configuration', () => {
  it('refuses a key written inline, saying how to pass it by reference', () => {
    expect(
      configError(() =>
        parseProvidersConfig(JSON.stringify({ providers: { corp: { baseUrl: 'https://llm.corp/v1', apiKey: 'sk-secret' } } })),
      ),
    ).toEqual({
      code: 'INVALID_MODEL_PROVIDERS',
      message: 'Provider "corp" has an inline apiKey: name the environment variable that holds the key in apiKeyEnv instead.',
    });
  });

  it('refuses invalid JSON, a base URL that is not http(s), and a key variable that is not a variable name', () => {
    expect(configError(() => parseProvidersConfig('{')).message).toBe('The model provider configuration is not valid JSON.');
    expect(
      configError(() => parseProvidersConfig(JSON.stringify({ providers: { corp: { baseUrl: 'file:///etc/passwd' } } }))).message,
    ).toMatch(/^The model provider configuration is invalid at providers\.corp\.baseUrl: /);
    expect(
      configError(() => parseProvidersConfig(JSON.stringify({ providers: { corp: { baseUrl: 'https://x/v1', apiKeyEnv: 'sk-123 abc' } } })))
        .message,
    ).toBe('The model provider configuration is invalid at providers.corp.apiKeyEnv: must be an environment variable name.');
  });

  it('refuses an openai-compatible provider without a base URL, and a kind it does not know', () => {
    expect(configError(() => parseProvidersConfig(JSON.stringify({ providers: { corp: { apiKeyEnv: 'K' } } }))).message).toBe(
      'The model provider configuration is invalid at providers.corp.baseUrl: an openai-compatible provider needs a baseUrl.',
    );
    expect(
      configError(() => parseProvidersConfig(JSON.stringify({ providers: { corp: { kind: 'gemini', baseUrl: 'https://x/v1' } } }))).message,
    ).toMatch(/^The model provider configuration is invalid at providers\.corp\.kind: /);
    expect(
      parseProvidersConfig(JSON.stringify({ providers: { claude: { kind: 'anthropic', apiKeyEnv: 'TEAM_ANTHROPIC_KEY' } } })).providers
        .claude,
    ).toEqual({ kind: 'anthropic', apiKeyEnv: 'TEAM_ANTHROPIC_KEY' });
  });

  it('an empty configuration is no providers', () => {
    expect(parseProvidersConfig(undefined)).toEqual({ providers: {} });
    expect(parseProvidersConfig('  ')).toEqual({ providers: {} });
  });
});
