import type pg from 'pg';
import type { TokenRevocationBus } from './token-watch.ts';
import { authenticate, bearerSecretHash, tokenExpired, touchToken, type Principal } from './tokens.ts';

/** Tokens remembered at once; past it the oldest entry is dropped (a busy API sees a few tokens). */
const MAX_ENTRIES = 10_000;
/** lastUsedAt is kept to the minute (see touchToken). */
const TOUCH_EVERY_MS = 60_000;

/**
 * Which token a bearer secret is, remembered for `ttlMs` so that a request is authenticated
 * without a query. Only valid tokens are remembered, by the secret's hash (never the secret).
 *
 * A revoked token stops authenticating:
 * - at once on the process that revoked it (`forget`, before the mutation answers);
 * - on every other process when the revocation's message arrives over the event bus (milliseconds
 *   while Redis is up);
 * - within `ttlMs` (AUTODEV_TOKEN_RECHECK_SECONDS, the bound subscriptions already have) when that
 *   message was lost: an entry is trusted that long after its row was read, then read again.
 * After a pub/sub outage every entry is dropped. Expiry is checked on every use.
 */
export interface PrincipalCache {
  authenticate(authorization: string | undefined | null): Promise<Principal>;
  /** Drops the token's entry now (its revocation committed on this process). */
  forget(tokenId: string): void;
  close(): Promise<void>;
}

interface Entry {
  principal: Principal;
  readAt: number;
  touchedAt: number;
}

export function createPrincipalCache(deps: {
  pool: pg.Pool;
  events: TokenRevocationBus;
  ttlMs: number;
  onError?: (err: unknown) => void;
}): PrincipalCache {
  const byHash = new Map<string, Entry>();
  const hashOfToken = new Map<string, string>();
  /** Counts revocations heard and outages: a row read across one of them is not remembered. */
  let generation = 0;

  const forget = (tokenId: string) => {
    const hash = hashOfToken.get(tokenId);
    if (hash === undefined) return;
    hashOfToken.delete(tokenId);
    byHash.delete(hash);
  };
  const clear = () => {
    generation++;
    byHash.clear();
    hashOfToken.clear();
  };
  const subscribed = deps.events.onTokenRevoked((tokenId) => {
    generation++;
    forget(tokenId);
  });
  subscribed.catch((err: unknown) => deps.onError?.(err));
  const offResync = deps.events.onResync(clear);

  return {
    async authenticate(authorization) {
      const hash = bearerSecretHash(authorization);
      const entry = byHash.get(hash);
      const now = Date.now();
      if (entry && now - entry.readAt < deps.ttlMs) {
        const { principal } = entry;
        if (principal.expiresAt && principal.expiresAt.getTime() <= now) {
          forget(principal.tokenId);
          throw tokenExpired(principal.expiresAt);
        }
        if (now - entry.touchedAt >= TOUCH_EVERY_MS) {
          entry.touchedAt = now;
          touchToken(deps.pool, principal.tokenId);
        }
        return principal;
      }
      if (entry) forget(entry.principal.tokenId);
      const before = generation;
      const principal = await authenticate(deps.pool, authorization);
      // A revocation heard while the row was being read may be this token's: remember nothing then.
      if (generation !== before) return principal;
      if (byHash.size >= MAX_ENTRIES) forget(byHash.values().next().value!.principal.tokenId);
      byHash.set(hash, { principal, readAt: now, touchedAt: now });
      hashOfToken.set(principal.tokenId, hash);
      return principal;
    },
    forget,
    async close() {
      offResync();
      clear();
      await (
        await subscribed.catch(() => async () => {})
      )();
    },
  };
}
