import type { Principal } from '../auth/tokens.ts';
import type { AppError } from '../errors.ts';
import type { Services } from '../services.ts';

export interface GraphQLContext {
  services: Services;
  /** The caller, or null with the reason in `authError`. */
  principal: Principal | null;
  authError: AppError | null;
  /** Where clients reach this API (for absolute links). */
  origin: string;
  /** From `x-request-id`, or generated; carried by log lines about the request. */
  requestId: string;
  /** Over WebSocket: closes the connection (1008) when a subscriber falls too far behind. */
  closeConnection?: (reason: string) => void;
}

/** The caller's principal; resolvers behind an auth scope can rely on it. */
export function principalOf(ctx: GraphQLContext): Principal {
  if (!ctx.principal) throw ctx.authError ?? new Error('unauthenticated');
  return ctx.principal;
}

const requestMemo = new WeakMap<GraphQLContext, Map<string, Promise<unknown>>>();

/** Runs `load` once per request and key: for fields that read one row per parent otherwise. */
export function oncePerRequest<T>(ctx: GraphQLContext, key: string, load: () => Promise<T>): Promise<T> {
  let memo = requestMemo.get(ctx);
  if (!memo) requestMemo.set(ctx, (memo = new Map<string, Promise<unknown>>()));
  if (!memo.has(key)) memo.set(key, load());
  return memo.get(key) as Promise<T>;
}
