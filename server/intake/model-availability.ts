// Whether the runner could call a crew's models, decided before anything runs: a model must name a
// provider the operator configured (AUTODEV_MODEL_PROVIDERS, the built-in `openai` and `anthropic`,
// or AUTODEV_MODEL_BASE_URL's endpoint), and, where the runner takes its keys from this server's
// environment (the local executor copies them from the worker's, which the bundled deployments
// share with the API), that provider's key variable must be set. On the offline provider every
// agent runs the offline model, so nothing is refused. Keys are only ever named, never shown.
import type { Config } from '../config.ts';
import { badInput } from '../errors.ts';
import { BUILT_IN_PROVIDERS, endpointOf, parseModelName, providersOf } from '../runner-protocol/model-providers.ts';

interface Use {
  model: string;
  /** Who uses it, as the sentence names them. */
  who: string;
  field: string;
}

/**
 * Throws BAD_USER_INPUT (naming the agent, the model and the variable to set) for the first model
 * the runner could not call. `keysFrom` is where the runner's keys come from; absent (a template
 * being saved, or a Kubernetes runner whose keys are in its own Secret), keys are not checked.
 */
export function refuseUnconfiguredModels(
  model: Config['model'],
  agents: readonly { id?: string; model: string }[],
  opts: { keysFrom?: NodeJS.ProcessEnv; templateSlug?: string } = {},
): void {
  if (model.provider !== 'openai') return;
  const of = opts.templateSlug ? `Template \`${opts.templateSlug}\`: ` : '';
  const config = providersOf({ baseUrl: model.baseUrl, providers: model.providers }, Boolean(model.apiKey));
  const uses: Use[] = model.model
    ? [{ model: model.model, who: "The operator's AUTODEV_MODEL, which every agent uses,", field: 'AUTODEV_MODEL' }]
    : agents.map((a, i) => ({
        model: a.model,
        who: `Agent \`${a.id ?? i}\` (\`crew.agents[${i}].model\`)`,
        field: `crew.agents[${i}].model`,
      }));
  for (const use of uses) {
    const details = { field: use.field, model: use.model };
    let provider: string;
    try {
      provider = parseModelName(use.model, config).provider;
    } catch {
      throw badInput(
        `${of}${use.who} names model \`${use.model}\` without a provider, and no default provider is configured: write it as provider:model (e.g. openai:gpt-4o), or an operator sets defaultProvider in AUTODEV_MODEL_PROVIDERS.`,
        { ...details, reason: 'UNKNOWN_MODEL_PROVIDER' },
      );
    }
    if (provider === 'offline') continue;
    const endpoint = endpointOf(provider, config);
    if (!endpoint) {
      const known = ['offline', ...new Set([...Object.keys(BUILT_IN_PROVIDERS), ...Object.keys(config.providers)])].sort();
      throw badInput(
        `${of}${use.who} names model \`${use.model}\` of provider \`${provider}\`, which is not configured (configured: ${known.join(', ')}): an operator adds it to AUTODEV_MODEL_PROVIDERS, or the template names another model.`,
        { ...details, provider, reason: 'UNKNOWN_MODEL_PROVIDER' },
      );
    }
    const variable = endpoint.apiKeyEnv;
    if (!opts.keysFrom || !variable) continue;
    // The legacy endpoint's key travels by value from the worker's configuration (AUTODEV_MODEL_API_KEY).
    const set = variable === 'AUTODEV_MODEL_API_KEY' ? Boolean(model.apiKey) : Boolean(opts.keysFrom[variable]);
    if (!set) {
      throw badInput(
        `${of}${use.who} names model \`${use.model}\` of provider \`${provider}\`, whose API key is read from the environment variable ${variable}, which is not set on this server: an operator sets ${variable}, or the template names a model of a provider that has its key.`,
        { ...details, provider, variable, reason: 'MODEL_KEY_MISSING' },
      );
    }
  }
}
