// The AI SDK model an agent's model name means for this attempt: the deterministic offline model,
// or the model of the provider the name picks among those the operator configured
// (AUTODEV_MODEL_PROVIDERS, passed in the spec by name only; the keys are in this process's
// environment; providersOf says which).
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { createOfflineModel } from './agents/offline-model.ts';
import { resolveModel } from './agents/resolve-model.ts';
import { providersOf } from '../runner-protocol/model-providers.ts';
import { wrapLanguageModel } from 'ai';
import type { RunnerSpec } from './spec.ts';

export function modelSelector(provider: RunnerSpec['provider'], env: NodeJS.ProcessEnv = process.env): (name: string) => LanguageModelV3 {
  if (provider.kind !== 'openai') return (name) => createOfflineModel(name, { delayMs: provider.delayMs });
  const config = providersOf(provider, Boolean(env.AUTODEV_MODEL_API_KEY));
  const timeoutMs = provider.timeoutMs;
  return (name) => {
    const model = resolveModel(name, config, env);
    return timeoutMs ? withTimeout(model, timeoutMs) : model;
  };
}

/** Each model request (a streamed one until its last chunk) is cut after `ms` (AUTODEV_MODEL_TIMEOUT_MS). */
function withTimeout(model: LanguageModelV3, ms: number): LanguageModelV3 {
  return wrapLanguageModel({
    model,
    middleware: {
      specificationVersion: 'v3',
      transformParams: ({ params }) => {
        // A controller held by its own timer, not AbortSignal.timeout + AbortSignal.any: Node may
        // collect such composite signals before they fire, and then the request is never cut (a
        // 20 s answer outlived a 300 ms limit in a full test run).
        const cut = new AbortController();
        setTimeout(() => cut.abort(new DOMException('The model request timed out.', 'TimeoutError')), ms).unref();
        params.abortSignal?.addEventListener('abort', () => cut.abort(params.abortSignal!.reason), { once: true });
        if (params.abortSignal?.aborted) cut.abort(params.abortSignal.reason);
        return Promise.resolve({ ...params, abortSignal: cut.signal });
      },
    },
  });
}
