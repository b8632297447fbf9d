// Which key variables a runner gets for its crew's models: those of the providers the agents (or
// the operator's AUTODEV_MODEL override) name, BY NAME. The local executor copies their values
// from the worker's environment; the Kubernetes executor refers to them in the runner Secret.
// The legacy AUTODEV_MODEL_API_KEY travels apart (it is a worker variable, passed by value).
import type { Config } from '../config.ts';
import { keyVariablesFor, providersOf } from '../runner-protocol/model-providers.ts';

export function modelKeyVariables(model: Config['model'], agentModels: readonly string[]): string[] {
  if (model.provider !== 'openai') return [];
  const config = providersOf({ baseUrl: model.baseUrl, providers: model.providers }, Boolean(model.apiKey));
  return keyVariablesFor(model.model ? [model.model] : agentModels, config).filter((name) => name !== 'AUTODEV_MODEL_API_KEY');
}
