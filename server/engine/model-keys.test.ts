import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { modelKeyVariables } from './model-keys.ts';

const PROVIDERS = JSON.stringify({
  providers: {
    'local-qwen': { baseUrl: 'http://127.0.0.1:8000/v1', apiKeyEnv: 'QWEN_KEY' },
    claude: { kind: 'anthropic', apiKeyEnv: 'TEAM_ANTHROPIC_KEY' },
    ollama: { baseUrl: 'http://127.0.0.1:11434/v1' },
  },
  defaultProvider: 'local-qwen',
});

describe('AUTODEV_MODEL_PROVIDERS', () => {
  it('is read at start: real models by default, every key variable it names is a redacted secret', () => {
    const config = loadConfig({
      AUTODEV_MODEL_PROVIDERS: PROVIDERS,
      QWEN_KEY: 'sk-qwen-0123456789abcdef',
      TEAM_ANTHROPIC_KEY: 'sk-ant-0123456789abcdef',
    });
    expect(config.model.provider).toBe('openai');
    expect(config.model.providers?.providers.claude).toEqual({ kind: 'anthropic', apiKeyEnv: 'TEAM_ANTHROPIC_KEY' });
    expect(config.secretEnv.map((s) => s.name).sort()).toEqual(['QWEN_KEY', 'TEAM_ANTHROPIC_KEY']);
    expect(loadConfig({}).model.provider).toBe('offline');
  });

  it('stops the start on a key written inline, a worker credential as key variable, or an unknown default provider', () => {
    expect(() =>
      loadConfig({ AUTODEV_MODEL_PROVIDERS: JSON.stringify({ providers: { corp: { baseUrl: 'https://x/v1', apiKey: 'sk-1' } } }) }),
    ).toThrow(
      'AUTODEV_MODEL_PROVIDERS: Provider "corp" has an inline apiKey: name the environment variable that holds the key in apiKeyEnv instead.',
    );
    expect(() =>
      loadConfig({
        AUTODEV_MODEL_PROVIDERS: JSON.stringify({ providers: { corp: { baseUrl: 'https://x/v1', apiKeyEnv: 'DATABASE_URL' } } }),
      }),
    ).toThrow(/provider "corp" takes its key from DATABASE_URL, one of the worker's own variables/);
    expect(() => loadConfig({ AUTODEV_MODEL_PROVIDERS: JSON.stringify({ providers: {}, defaultProvider: 'nope' }) })).toThrow(
      /defaultProvider "nope" is not one of the providers/,
    );
  });
});

describe('the key variables a runner gets', () => {
  const config = loadConfig({ AUTODEV_MODEL_PROVIDERS: PROVIDERS });

  it('are those of the providers its agents name, by name, built-ins included', () => {
    expect(modelKeyVariables(config.model, ['local-qwen:qwen2.5-coder', 'claude:claude-sonnet-4-5', 'ollama:llama3'])).toEqual([
      'QWEN_KEY',
      'TEAM_ANTHROPIC_KEY',
    ]);
    expect(modelKeyVariables(config.model, ['openai:gpt-4o', 'anthropic:claude-haiku-4-5', 'gpt-4o-mini'])).toEqual([
      'OPENAI_API_KEY',
      'ANTHROPIC_API_KEY',
      'QWEN_KEY',
    ]);
    expect(modelKeyVariables(config.model, ['nowhere:x'])).toEqual([]);
  });

  it('follow the operator’s AUTODEV_MODEL override, and are none offline or for the single legacy endpoint (its key travels apart)', () => {
    expect(
      modelKeyVariables(loadConfig({ AUTODEV_MODEL_PROVIDERS: PROVIDERS, AUTODEV_MODEL: 'claude:claude-opus-4-1' }).model, [
        'openai:gpt-4o',
      ]),
    ).toEqual(['TEAM_ANTHROPIC_KEY']);
    expect(modelKeyVariables(loadConfig({}).model, ['openai:gpt-4o'])).toEqual([]);
    expect(
      modelKeyVariables(
        loadConfig({ AUTODEV_MODEL_BASE_URL: 'http://127.0.0.1:1/v1', AUTODEV_MODEL_API_KEY: 'sk-legacy-0123456789' }).model,
        ['gpt-4o', 'openai:gpt-4o'],
      ),
    ).toEqual([]);
  });
});
