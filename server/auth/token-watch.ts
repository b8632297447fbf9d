import type pg from 'pg';
import { AppError } from '../errors.ts';
import { tokenExpired, tokenRevoked, type Principal } from './tokens.ts';

/** Ends what a token keeps open (subscriptions, WebSockets) once the token stops being valid. */
export interface TokenWatch {
  /** Calls `onEnd` once when the token is revoked, expires or disappears, until the watch is stopped. */
  watch(principal: Principal, onEnd: (err: AppError) => void): { stop(): void };
  /** Checks the watched tokens against PostgreSQL now (also runs every `recheckMs`). */
  recheck(): Promise<void>;
  close(): Promise<void>;
}

const MAX_TIMER_MS = 2 ** 31 - 1; // setTimeout's limit (about 24.8 days); longer waits re-arm

/** The port through which a revocation reaches every process (implemented by realtime/event-bus.ts). */
export interface TokenRevocationBus {
  /** Tells every process that a token was revoked (after the commit), so its subscriptions end. */
  publishTokenRevoked(tokenId: string): Promise<void>;
  onTokenRevoked(handler: (tokenId: string) => void): Promise<() => Promise<void>>;
  /** After an outage of the transport: revocations may have been missed. */
  onResync(listener: () => void): () => void;
}

/**
 * One per API process. A revocation reaches every process over the event bus (Redis) within
 * milliseconds; expiry is a timer per watched token; and a periodic recheck of the watched tokens
 * (one query) bounds the delay when a revocation's publish was lost (Redis away): the bound is
 * `recheckMs`. After a pub/sub outage the recheck runs at once.
 */
export function createTokenWatch(deps: {
  pool: pg.Pool;
  events: TokenRevocationBus;
  recheckMs: number;
  onError?: (err: unknown) => void;
}): TokenWatch {
  const watchers = new Map<string, Set<Watch>>();

  const end = (tokenId: string, err: AppError) => {
    const set = watchers.get(tokenId);
    if (!set) return;
    watchers.delete(tokenId);
    for (const watch of set) watch.fire(err);
  };

  const recheck = async () => {
    const ids = [...watchers.keys()];
    if (ids.length === 0) return;
    const { rows } = await deps.pool.query<{ id: string; revokedAt: Date | null; expiresAt: Date | null; expired: boolean }>(
      `SELECT id, "revokedAt", "expiresAt", "expiresAt" <= now() AS expired FROM "ApiToken" WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const found = new Map(rows.map((r) => [r.id, r]));
    for (const id of ids) {
      const row = found.get(id);
      if (!row) end(id, new AppError('UNAUTHENTICATED', 'The API token is not valid.'));
      else if (row.revokedAt) end(id, tokenRevoked());
      else if (row.expired) end(id, tokenExpired(row.expiresAt!));
    }
  };
  const safeRecheck = () => recheck().catch((err: unknown) => deps.onError?.(err));

  // Not awaited: until it is active (moments after start), the periodic recheck covers revocations.
  const subscribed = deps.events.onTokenRevoked((tokenId) => end(tokenId, tokenRevoked()));
  subscribed.catch((err: unknown) => deps.onError?.(err));
  const offResync = deps.events.onResync(() => void safeRecheck());
  const interval = setInterval(() => void safeRecheck(), deps.recheckMs);
  interval.unref();

  return {
    watch(principal, onEnd) {
      let set = watchers.get(principal.tokenId);
      if (!set) watchers.set(principal.tokenId, (set = new Set()));
      const watch = new Watch(principal, onEnd, watchers);
      set.add(watch);
      if (principal.expiresAt) watch.arm();
      return watch;
    },
    recheck,
    async close() {
      clearInterval(interval);
      offResync();
      watchers.clear();
      await (
        await subscribed.catch(() => async () => {})
      )();
    },
  };
}

/**
 * One watch of a token (a WebSocket connection's, a subscription's). A class, not closures: each
 * named closure and its scope would stay for as long as the watch, one per open subscription.
 */
class Watch {
  private done = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly principal: Principal,
    private readonly onEnd: (err: AppError) => void,
    private readonly watchers: Map<string, Set<Watch>>,
  ) {}

  /** Ends the watch with `err` (once). */
  fire(err: AppError) {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.onEnd(err);
  }

  /** Fires at the token's expiry, re-arming past setTimeout's longest wait. */
  arm() {
    const expiresAt = this.principal.expiresAt!;
    const left = expiresAt.getTime() - Date.now();
    if (left <= 0) this.fire(tokenExpired(expiresAt));
    else if (!this.done) {
      this.timer = setTimeout(armAgain, Math.min(left, MAX_TIMER_MS), this);
      this.timer.unref();
    }
  }

  stop() {
    this.done = true;
    clearTimeout(this.timer);
    const current = this.watchers.get(this.principal.tokenId);
    current?.delete(this);
    if (current?.size === 0) this.watchers.delete(this.principal.tokenId);
  }
}

function armAgain(watch: Watch) {
  watch.arm();
}
