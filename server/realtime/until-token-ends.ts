import { Repeater } from 'graphql-yoga';
import type { TokenWatch } from '../auth/token-watch.ts';
import type { Principal } from '../auth/tokens.ts';

/**
 * The subscription's events until its token is revoked or expires: then the stream ends with that
 * error (UNAUTHENTICATED, `extensions.reason` TOKEN_REVOKED or TOKEN_EXPIRED) and the source is
 * closed, freeing its slot. Used for every subscription, over WebSocket and SSE alike.
 */
export function untilTokenEnds<T>(source: AsyncIterable<T>, principal: Principal, tokens: TokenWatch): AsyncIterableIterator<T> {
  return new Repeater<T>(async (push, stop) => {
    const unwatch = tokens.watch(principal, (err) => stop(err));
    const it = source[Symbol.asyncIterator]();
    const stopped = stop.then(() => ({ done: true as const, value: undefined }));
    try {
      for (;;) {
        const r = await Promise.race([it.next(), stopped]);
        if (r.done) break;
        await push(r.value);
      }
      stop();
    } catch (err) {
      stop(err);
    } finally {
      unwatch();
      await it.return?.();
    }
  });
}
