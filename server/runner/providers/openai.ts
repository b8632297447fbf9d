import { ProviderError, type ModelProvider } from '../spec.ts';

/** Any OpenAI-compatible `/chat/completions` endpoint; usage comes from the response. */
export function createOpenAiProvider(opts: { baseUrl?: string; apiKey?: string; timeoutMs?: number }): ModelProvider {
  const base = (opts.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
  return {
    async complete({ model, messages, json }) {
      let res: Response;
      try {
        res = await fetch(`${base}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
          body: JSON.stringify({ model, messages, temperature: 0, ...(json ? { response_format: { type: 'json_object' } } : {}) }),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
        });
      } catch (err) {
        throw new ProviderError(`The model endpoint could not be reached: ${(err as Error).message}`, true);
      }
      if (!res.ok) {
        const body = (await res.text().catch(() => '')).slice(0, 300);
        throw new ProviderError(`The model endpoint answered ${res.status}: ${body}`, res.status === 429 || res.status >= 500);
      }
      const data = (await res.json()) as any;
      const text = data?.choices?.[0]?.message?.content;
      if (typeof text !== 'string') throw new ProviderError('The model endpoint returned no message content.', true);
      return {
        text,
        // Charged at the requested model's price: responses name dated variants the price table lacks.
        model,
        inputTokens: Number(data.usage?.prompt_tokens ?? 0),
        outputTokens: Number(data.usage?.completion_tokens ?? 0),
      };
    },
  };
}
