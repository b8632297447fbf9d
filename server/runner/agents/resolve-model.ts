// Which model an agent's `model` name means. Names are `provider:model` (`openai:gpt-4o`,
// `local-qwen:qwen2.5-coder-32b`); the providers are OpenAI-compatible endpoints the operator
// configures, each with its base URL and its key BY REFERENCE (the name of an environment
// variable, never the key itself). `offline` is the deterministic model that needs no network.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { wrapLanguageModel } from 'ai';
import { z } from 'zod';
import { createOfflineModel } from './offline-model.ts';

const endpointSchema = z.strictObject({
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** The environment variable holding the API key; absent for endpoints without auth. */
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
  /** Send the output schema as `response_format: json_schema` (else `json_object` + the schema in the prompt). */
  structuredOutputs: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

const providersSchema = z.strictObject({
  providers: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a provider name is lowercase letters, digits and dashes'), endpointSchema).default({}),
  /** The provider of a bare model name (`gpt-4o-mini`), as templates written before providers use. */
  defaultProvider: z.string().optional(),
});

export type ModelEndpoint = z.infer<typeof endpointSchema>;
export type ProvidersConfig = z.infer<typeof providersSchema>;

/** Endpoints known without configuration; the operator's entries of the same name replace them. */
export const BUILT_IN_PROVIDERS: Record<string, ModelEndpoint> = {
  openai: { baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' },
  // Anthropic's OpenAI-compatible layer (it ignores `strict` on tools: arguments are checked here).
  anthropic: { baseUrl: 'https://api.anthropic.com/v1', apiKeyEnv: 'ANTHROPIC_API_KEY' },
};

export class ModelConfigError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: 'UNKNOWN_MODEL_PROVIDER' | 'MODEL_KEY_MISSING' | 'INVALID_MODEL_PROVIDERS',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The operator's provider configuration (JSON text, e.g. from an environment variable), checked:
 * an inline `apiKey` is refused with the way to pass it instead.
 */
export function parseProvidersConfig(json: string | undefined): ProvidersConfig {
  if (!json?.trim()) return { providers: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ModelConfigError('INVALID_MODEL_PROVIDERS', 'The model provider configuration is not valid JSON.');
  }
  const inline = Object.entries((raw as any)?.providers ?? {}).find(([, p]) => p && typeof p === 'object' && 'apiKey' in (p as object));
  if (inline) {
    throw new ModelConfigError('INVALID_MODEL_PROVIDERS', `Provider "${inline[0]}" has an inline apiKey: name the environment variable that holds the key in apiKeyEnv instead.`);
  }
  const parsed = providersSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelConfigError('INVALID_MODEL_PROVIDERS', `The model provider configuration is invalid at ${issue.path.join('.') || 'the top level'}: ${issue.message}.`);
  }
  return parsed.data;
}

/** `provider:model` split at the first colon (model ids may contain colons, e.g. `qwen2.5:32b`). */
export function parseModelName(name: string, config: ProvidersConfig = { providers: {} }): { provider: string; modelId: string } {
  if (name === 'offline') return { provider: 'offline', modelId: 'offline' };
  const colon = name.indexOf(':');
  if (colon > 0 && colon < name.length - 1) return { provider: name.slice(0, colon), modelId: name.slice(colon + 1) };
  if (colon === -1 && name.length > 0 && config.defaultProvider) return { provider: config.defaultProvider, modelId: name };
  throw new ModelConfigError('UNKNOWN_MODEL_PROVIDER', `The model "${name}" names no provider: write it as provider:model, e.g. openai:gpt-4o.`);
}

/**
 * The language model for an agent's `model` name. Unknown provider → UNKNOWN_MODEL_PROVIDER naming
 * the configured ones; a configured key variable that is unset → MODEL_KEY_MISSING naming the
 * variable (never a value).
 */
export function resolveModel(name: string, config: ProvidersConfig = { providers: {} }, env: NodeJS.ProcessEnv = process.env): LanguageModelV3 {
  const { provider, modelId } = parseModelName(name, config);
  if (provider === 'offline') return createOfflineModel(modelId);
  const endpoint = config.providers[provider] ?? BUILT_IN_PROVIDERS[provider];
  if (!endpoint) {
    const known = ['offline', ...new Set([...Object.keys(BUILT_IN_PROVIDERS), ...Object.keys(config.providers)])].sort();
    throw new ModelConfigError('UNKNOWN_MODEL_PROVIDER', `The model "${name}" names the provider "${provider}", which is not configured. Configured providers: ${known.join(', ')}.`);
  }
  let apiKey: string | undefined;
  if (endpoint.apiKeyEnv) {
    apiKey = env[endpoint.apiKeyEnv];
    if (!apiKey) throw new ModelConfigError('MODEL_KEY_MISSING', `The provider "${provider}" takes its key from the environment variable ${endpoint.apiKeyEnv}, which is not set.`);
  }
  const model = createOpenAICompatible({
    name: provider,
    baseURL: endpoint.baseUrl.replace(/\/+$/, ''),
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
      transformParams: async ({ params }) => (params.responseFormat?.type === 'json' ? { ...params, responseFormat: { type: 'json' as const } } : params),
    },
  });
}
