// Usage is reported per model call, as soon as the answer is in and BEFORE any tool it asks for
// runs: a charge the budget refuses then stops the task with no further tool call or request.
import type { LanguageModelV3StreamPart, LanguageModelV3Usage } from '@ai-sdk/provider';
import type { LanguageModelMiddleware } from 'ai';
import { formatUnits, toUnits } from '../../budgets/money.ts';
import type { SpendingBound } from '../../budgets/spending-bound.ts';

/** Called once per model call; throwing stops the call (and so the loop) there. */
export type ChargeStep = (usage: { inputTokens: number; outputTokens: number }) => Promise<void>;

const tokens = (u: LanguageModelV3Usage) => ({ inputTokens: u.inputTokens.total ?? 0, outputTokens: u.outputTokens.total ?? 0 });

/**
 * The runner's own running cost against the bound the engine gave it, priced as the engine charges
 * (per call, rounded to 1e-8 USD). One per runner, shared by its tasks: once the cost so far has
 * reached the bound, the next request could not be paid, so it is not sent. The engine's charge
 * still decides; this only keeps a fast tool loop from calling the provider while the engine's
 * refusal travels back to it.
 */
export class RunningCost {
  private spent = 0n;
  private readonly bound: bigint | null;
  constructor(private readonly budget?: SpendingBound) {
    this.bound = budget?.remainingUsd != null ? toUnits(budget.remainingUsd) : null;
  }
  add(model: string, u: { inputTokens: number; outputTokens: number }): void {
    const price = this.budget?.prices[model];
    if (!price) return; // no price: the engine refuses the charge itself (UNKNOWN_MODEL)
    const perMillion =
      BigInt(u.inputTokens) * toUnits(price.inputUsdPerMillion) + BigInt(u.outputTokens) * toUnits(price.outputUsdPerMillion);
    this.spent += (perMillion + 500_000n) / 1_000_000n; // PostgreSQL's round(…, 8), half away from zero
  }
  /** The cost so far in units of 1e-8 USD. */
  spentUnits(): bigint {
    return this.spent;
  }
  /** Why the next request may not be sent, or null when it may. */
  refusal(): string | null {
    if (this.bound === null || this.spent < this.bound) return null;
    return `its model calls cost $${formatUnits(this.spent)} and the budget left for this attempt was $${formatUnits(this.bound)}, so no further request was sent`;
  }
}

/** `beforeRequest` runs before each model request and may throw to keep it from being sent. */
export function reportUsage(charge: ChargeStep, beforeRequest: () => void = () => {}): LanguageModelMiddleware {
  return {
    specificationVersion: 'v3',
    async wrapGenerate({ doGenerate }) {
      beforeRequest();
      const result = await doGenerate();
      await charge(tokens(result.usage));
      return result;
    },
    async wrapStream({ doStream }) {
      beforeRequest();
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
