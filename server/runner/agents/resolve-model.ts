// Which model an agent's `model` name means. Names are `provider:model` (`openai:gpt-4o`,
// `anthropic:claude-sonnet-4-5`, `local-qwen:qwen2.5-coder-32b`); the providers are OpenAI's API
// (@ai-sdk/openai, chat completions), Anthropic's Messages API (@ai-sdk/anthropic) and
// OpenAI-compatible endpoints the operator configures, each with its base URL and its key BY
// REFERENCE (the name of an environment variable, never the key itself). `offline` is the
// deterministic model that needs no network.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { wrapLanguageModel } from 'ai';
import { createOfflineModel } from './offline-model.ts';
import {
  BUILT_IN_PROVIDERS,
  endpointOf,
  ModelConfigError,
  parseModelName,
  type ProvidersConfig,
} from '../../runner-protocol/model-providers.ts';

export * from '../../runner-protocol/model-providers.ts';

/**
 * The language model for an agent's `model` name. Unknown provider → UNKNOWN_MODEL_PROVIDER naming
 * the configured ones; a configured key variable that is unset → MODEL_KEY_MISSING naming the
 * variable (never a value).
 */
export function resolveModel(
  name: string,
  config: ProvidersConfig = { providers: {} },
  env: NodeJS.ProcessEnv = process.env,
): LanguageModelV3 {
  const { provider, modelId } = parseModelName(name, config);
  if (provider === 'offline') return createOfflineModel(modelId);
  const endpoint = endpointOf(provider, config);
  if (!endpoint) {
    const known = ['offline', ...new Set([...Object.keys(BUILT_IN_PROVIDERS), ...Object.keys(config.providers)])].sort();
    throw new ModelConfigError(
      'UNKNOWN_MODEL_PROVIDER',
      `The model "${name}" names the provider "${provider}", which is not configured. Configured providers: ${known.join(', ')}.`,
    );
  }
  let apiKey: string | undefined;
  if (endpoint.apiKeyEnv) {
    apiKey = env[endpoint.apiKeyEnv];
    if (!apiKey)
      throw new ModelConfigError(
        'MODEL_KEY_MISSING',
        `The provider "${provider}" takes its key from the environment variable ${endpoint.apiKeyEnv}, which is not set.`,
      );
  }
  const baseURL = endpoint.baseUrl?.replace(/\/+$/, '');
  const kind = endpoint.kind ?? 'openai-compatible';
  if (kind === 'anthropic') {
    // The Messages API (tool_use blocks); usage comes with every answer, streamed or not.
    return createAnthropic({ ...(baseURL ? { baseURL } : {}), apiKey: apiKey ?? '', headers: endpoint.headers })(modelId);
  }
  if (kind === 'openai') {
    // Chat completions (tool_calls), not the Responses API: the protocol every OpenAI-compatible
    // server speaks too. An output schema goes as `json_schema`, strict only when the operator says
    // so (strict mode wants every property required and additionalProperties false).
    const model = createOpenAI({ ...(baseURL ? { baseURL } : {}), apiKey: apiKey ?? '', headers: endpoint.headers }).chat(modelId);
    const strict = endpoint.structuredOutputs ?? false;
    return wrapLanguageModel({
      model,
      middleware: {
        specificationVersion: 'v3',
        transformParams: ({ params }) =>
          Promise.resolve({
            ...params,
            providerOptions: { ...params.providerOptions, openai: { ...params.providerOptions?.openai, strictJsonSchema: strict } },
          }),
      },
    });
  }
  const model = createOpenAICompatible({
    name: provider,
    baseURL: baseURL!,
    apiKey,
    headers: endpoint.headers,
    // Usage in streamed answers too: every step is charged, streaming or not.
    includeUsage: true,
    supportsStructuredOutputs: endpoint.structuredOutputs ?? false,
  }).chatModel(modelId);
  if (endpoint.structuredOutputs) return model;
  // Without json_schema support the endpoint gets `json_object` and the schema is in the prompt;
  // passing the schema on anyway makes the AI SDK warn on stderr at every step.
  return wrapLanguageModel({
    model,
    middleware: {
      specificationVersion: 'v3',
      transformParams: ({ params }) =>
        Promise.resolve(params.responseFormat?.type === 'json' ? { ...params, responseFormat: { type: 'json' as const } } : params),
    },
  });
}
