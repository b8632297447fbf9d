import { AppError } from '../errors.ts';
import type { GraphQLContext } from './context.ts';

/**
 * The bytes of large fields (JSON documents, long texts) one query or mutation may return.
 * Sizes are asked of PostgreSQL before the values are read, so a refused request never holds
 * the data it would have sent. The first refusal ends the whole request (see response-limits.ts).
 */
export class ResponseBudget {
  used = 0;
  /**
   * Bytes of values read ahead of their fields (large-field.ts) and kept for the request, whether or
   * not a field answers with them: what is read next is bounded by what is left after them too.
   */
  held = 0;
  refusal: AppError | null = null;
  /** Sizing queries run one after another, so once one is refused the rest ask PostgreSQL nothing. */
  private queue: Promise<unknown> = Promise.resolve();
  constructor(readonly maxBytes: number) {}

  /** Runs `size` (which reserves what it found) after the sizing queries before it. */
  inTurn<T>(size: () => Promise<T>): Promise<T> {
    const turn = this.queue.then(() => {
      if (this.refusal) throw this.refusal;
      return size();
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Reserves `bytes`, or records the refusal and throws it. */
  take(bytes: number): void {
    if (this.refusal) throw this.refusal;
    if (this.used + bytes > this.maxBytes) {
      this.refusal = new AppError(
        'QUERY_TOO_COMPLEX',
        `The response would be larger than the limit of ${formatBytes(this.maxBytes)} per request (large fields such as input, output and event data count by their size): ask for fewer items (a smaller \`first\`) or fewer large fields.`,
        { maxResponseBytes: this.maxBytes },
      );
      throw this.refusal;
    }
    this.used += bytes;
  }
}

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 10) / 10} MiB` : `${Math.round(n / 1024)} KiB`;
}

const budgets = new WeakMap<object, ResponseBudget>();

/** Starts counting for one query or mutation (subscriptions are bounded per subscriber instead). */
export function startResponseBudget(ctx: GraphQLContext, maxBytes: number): ResponseBudget {
  let budget = budgets.get(ctx);
  if (!budget) budgets.set(ctx, (budget = new ResponseBudget(maxBytes)));
  return budget;
}

export function responseBudgetOf(ctx: GraphQLContext): ResponseBudget | undefined {
  return budgets.get(ctx);
}
