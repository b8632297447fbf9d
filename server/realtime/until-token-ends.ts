import type { TokenWatch } from '../auth/token-watch.ts';
import type { AppError } from '../errors.ts';
import type { Principal } from '../auth/tokens.ts';

/**
 * The subscription's events until its token is revoked or expires: then the stream ends with that
 * error (UNAUTHENTICATED, `extensions.reason` TOKEN_REVOKED or TOKEN_EXPIRED) and the source is
 * closed, freeing its slot. Used for every subscription, over WebSocket and SSE alike.
 *
 * A plain iterator, one promise per event: a Repeater with a race against the token's end per
 * event was the largest cost of fan-out after execution, and each race left a reaction on the
 * never-settling end promise for as long as the subscription stayed open.
 */
export function untilTokenEnds<T>(source: AsyncIterable<T>, principal: Principal, tokens: TokenWatch): AsyncIterableIterator<T> {
  const it = source[Symbol.asyncIterator]();
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  /** The token's end, not yet reported to the consumer. */
  let ending: AppError | null = null;
  let finished = false;
  let failPending: ((err: AppError) => void) | null = null;
  let unwatch: (() => void) | null = null;
  const finish = () => {
    if (finished) return;
    finished = true;
    unwatch?.();
  };
  unwatch = tokens.watch(principal, (err) => {
    if (finished) return;
    finish();
    if (failPending) failPending(err);
    else ending = err;
    failPending = null;
    void it.return?.();
  });
  if (finished) unwatch(); // it had ended already (an expiry in the past is reported at once)
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (ending) {
        const err = ending;
        ending = null;
        return Promise.reject(err);
      }
      if (finished) return Promise.resolve(done);
      return new Promise<IteratorResult<T>>((resolve, reject) => {
        failPending = reject;
        it.next().then(
          (r) => {
            failPending = null;
            if (r.done) finish();
            resolve(r);
          },
          (err: unknown) => {
            failPending = null;
            finish();
            // The source's own failure, passed on as it is (its type is the source's to choose).
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
            reject(err);
          },
        );
      });
    },
    async return() {
      finish();
      ending = null;
      await it.return?.();
      return done;
    },
    async throw(err: unknown) {
      finish();
      await it.return?.();
      throw err;
    },
  } as AsyncIterableIterator<T>;
}
