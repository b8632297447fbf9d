import { ProviderError, type ModelProvider } from '../spec.ts';
import { describeProviderFailure, PROVIDER_DETAIL_MAX as DETAIL_MAX } from './describe-provider-failure.ts';

/** The fields of a chat completion this reads. */
type ChatCompletion = {
  choices?: ({ message?: { content?: unknown } | null } | null)[] | null;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
} | null;

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
        const timedOut = (err as Error).name === 'TimeoutError';
        // fetch's own failure says only "fetch failed"; its cause (an Error) says why.
        const cause = (err as Error & { cause?: unknown }).cause;
        throw new ProviderError(
          timedOut ? 'The model provider did not answer in time.' : 'The model provider could not be reached.',
          true,
          timedOut ? 'MODEL_TIMEOUT' : 'MODEL_UNREACHABLE',
          cause instanceof Error || typeof cause === 'string' ? String(cause) : (err as Error).message,
        );
      }
      if (!res.ok) {
        const failure = describeProviderFailure(res.status);
        const body = await res.text().catch(() => '');
        throw new ProviderError(failure.message, failure.retryable, failure.code, body.slice(0, DETAIL_MAX));
      }
      // Parse errors quote the body they failed on: they stay in `detail` too.
      const raw = await res.text();
      // Any field may be missing or of another type in a broken answer: the checks below are the validation.
      let data: ChatCompletion;
      try {
        data = JSON.parse(raw) as ChatCompletion;
      } catch {
        throw new ProviderError(
          'The model provider answered with something that is not JSON.',
          true,
          'MODEL_BAD_RESPONSE',
          raw.slice(0, DETAIL_MAX),
        );
      }
      const text = data?.choices?.[0]?.message?.content;
      if (!data || typeof text !== 'string')
        throw new ProviderError('The model provider returned no message content.', true, 'MODEL_BAD_RESPONSE', raw.slice(0, DETAIL_MAX));
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
