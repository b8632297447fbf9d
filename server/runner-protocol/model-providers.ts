// The operator's model providers (AUTODEV_MODEL_PROVIDERS): which protocol each speaks, its base
// URL, and the NAME of the environment variable holding its key (never the key). Read by the
// server at start (server/config.ts), by the engine (which key variables a runner gets) and by the
// runner (server/runner/agents/resolve-model.ts); no SDK is loaded here.
import { z } from 'zod';

/** Which protocol an endpoint speaks. */
export const PROVIDER_KINDS = ['openai-compatible', 'openai', 'anthropic'] as const;

const endpointSchema = z.strictObject({
  /** `openai-compatible` (the default): chat completions at any base URL; `openai`: OpenAI's API; `anthropic`: Anthropic's Messages API. */
  kind: z.enum(PROVIDER_KINDS).optional(),
  /** Required for `openai-compatible`; for `openai` and `anthropic` it replaces the vendor's URL (a proxy, a gateway). */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** The environment variable holding the API key; absent for endpoints without auth. */
  apiKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .optional(),
  /** Send the output schema as `response_format: json_schema` (else `json_object` + the schema in the prompt). */
  structuredOutputs: z.boolean().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

const providersSchema = z.strictObject({
  providers: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a provider name is lowercase letters, digits and dashes'),
      endpointSchema.refine((e) => (e.kind ?? 'openai-compatible') !== 'openai-compatible' || e.baseUrl, {
        error: 'an openai-compatible provider needs a baseUrl',
        path: ['baseUrl'],
      }),
    )
    .default({}),
  /** The provider of a bare model name (`gpt-4o-mini`), as templates written before providers use. */
  defaultProvider: z.string().optional(),
});

export type ModelEndpoint = z.infer<typeof endpointSchema>;
export type ProvidersConfig = z.infer<typeof providersSchema>;

/** Endpoints known without configuration; the operator's entries of the same name replace them. */
export const BUILT_IN_PROVIDERS: Record<string, ModelEndpoint> = {
  openai: { kind: 'openai', apiKeyEnv: 'OPENAI_API_KEY' },
  anthropic: { kind: 'anthropic', apiKeyEnv: 'ANTHROPIC_API_KEY' },
};

/** The endpoint a provider name means: the operator's entry, else the built-in one. */
export function endpointOf(provider: string, config: ProvidersConfig): ModelEndpoint | undefined {
  return config.providers[provider] ?? BUILT_IN_PROVIDERS[provider];
}

/**
 * The environment variables holding the keys of the providers these model names use (unknown
 * providers and `offline` contribute none): what the worker hands a runner, by reference.
 */
export function keyVariablesFor(modelNames: readonly string[], config: ProvidersConfig): string[] {
  const names = new Set<string>();
  for (const name of modelNames) {
    let provider: string;
    try {
      provider = parseModelName(name, config).provider;
    } catch {
      continue;
    }
    const env = provider === 'offline' ? undefined : endpointOf(provider, config)?.apiKeyEnv;
    if (env) names.add(env);
  }
  return [...names];
}

/** Every key variable the configuration names (built-ins included): their values are secrets. */
export function allKeyVariables(config: ProvidersConfig): string[] {
  return [
    ...new Set(
      [...Object.values(BUILT_IN_PROVIDERS), ...Object.values(config.providers)].flatMap((e) => (e.apiKeyEnv ? [e.apiKeyEnv] : [])),
    ),
  ];
}

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
  const providers: unknown = raw !== null && typeof raw === 'object' && 'providers' in raw ? raw.providers : undefined;
  const entries: [string, unknown][] = providers !== null && typeof providers === 'object' ? Object.entries(providers) : [];
  const inline = entries.find(([, p]) => p !== null && typeof p === 'object' && 'apiKey' in p);
  if (inline) {
    throw new ModelConfigError(
      'INVALID_MODEL_PROVIDERS',
      `Provider "${inline[0]}" has an inline apiKey: name the environment variable that holds the key in apiKeyEnv instead.`,
    );
  }
  const parsed = providersSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelConfigError(
      'INVALID_MODEL_PROVIDERS',
      `The model provider configuration is invalid at ${issue.path.join('.') || 'the top level'}: ${issue.message}.`,
    );
  }
  return parsed.data;
}

/** `provider:model` split at the first colon (model ids may contain colons, e.g. `qwen2.5:32b`). */
export function parseModelName(name: string, config: ProvidersConfig = { providers: {} }): { provider: string; modelId: string } {
  if (name === 'offline') return { provider: 'offline', modelId: 'offline' };
  const colon = name.indexOf(':');
  if (colon > 0 && colon < name.length - 1) return { provider: name.slice(0, colon), modelId: name.slice(colon + 1) };
  if (colon === -1 && name.length > 0 && config.defaultProvider) return { provider: config.defaultProvider, modelId: name };
  throw new ModelConfigError(
    'UNKNOWN_MODEL_PROVIDER',
    `The model "${name}" names no provider: write it as provider:model, e.g. openai:gpt-4o.`,
  );
}

/**
 * The providers of an attempt: the operator's (AUTODEV_MODEL_PROVIDERS). The single endpoint of
 * AUTODEV_MODEL_BASE_URL (key in AUTODEV_MODEL_API_KEY) is the `openai` provider unless the
 * operator configured one of that name, and takes bare model names unless a default is set; with
 * neither, `openai` is OpenAI's own API with AUTODEV_MODEL_API_KEY, as before providers.
 */
export function providersOf(provider: { baseUrl?: string; providers?: ProvidersConfig }, legacyKey = true): ProvidersConfig {
  const configured = provider.providers ?? { providers: {} };
  if (configured.providers.openai || (!provider.baseUrl && provider.providers)) return configured;
  // An endpoint without auth (a local server) needs no key: AUTODEV_MODEL_API_KEY only when set.
  const key = legacyKey ? { apiKeyEnv: 'AUTODEV_MODEL_API_KEY' } : {};
  const legacy = provider.baseUrl
    ? { kind: 'openai-compatible' as const, baseUrl: provider.baseUrl, ...key }
    : { kind: 'openai' as const, ...key };
  return { providers: { ...configured.providers, openai: legacy }, defaultProvider: configured.defaultProvider ?? 'openai' };
}
