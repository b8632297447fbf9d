// Usage is reported per model call, as soon as the answer is in and BEFORE any tool it asks for
// runs: a charge the budget refuses then stops the task with no further tool call or request.
import type { LanguageModelV3StreamPart, LanguageModelV3Usage } from '@ai-sdk/provider';
import type { LanguageModelMiddleware } from 'ai';

/** Called once per model call; throwing stops the call (and so the loop) there. */
export type ChargeStep = (usage: { inputTokens: number; outputTokens: number }) => Promise<void>;

const tokens = (u: LanguageModelV3Usage) => ({ inputTokens: u.inputTokens.total ?? 0, outputTokens: u.outputTokens.total ?? 0 });

export function reportUsage(charge: ChargeStep): LanguageModelMiddleware {
  return {
    specificationVersion: 'v3',
    async wrapGenerate({ doGenerate }) {
      const result = await doGenerate();
      await charge(tokens(result.usage));
      return result;
    },
    async wrapStream({ doStream }) {
      const result = await doStream();
      // The AI SDK runs a streamed step's tool calls once the step's finish part (which carries
      // its usage) has passed; that part passes on only after the charge.
      const stream = result.stream.pipeThrough(
        new TransformStream<LanguageModelV3StreamPart, LanguageModelV3StreamPart>({
          async transform(part, controller) {
            if (part.type === 'finish') await charge(tokens(part.usage));
            controller.enqueue(part);
          },
        }),
      );
      return { ...result, stream };
    },
  };
}
