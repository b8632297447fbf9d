import type { TokenWatch } from '../auth/token-watch.ts';
import type { AppError } from '../errors.ts';
import type { Principal } from '../auth/tokens.ts';

/**
 * The subscription's events until its token is revoked or expires: then the stream ends with that
 * error (UNAUTHENTICATED, `extensions.reason` TOKEN_REVOKED or TOKEN_EXPIRED) and the source is
 * closed, freeing its slot. Used for SSE subscriptions and results outside a subscription group; a
 * WebSocket subscriber in a group ends itself (SocketMember.endWith in http/websocket-delivery.ts).
 *
 * A plain iterator, one promise per event: a Repeater with a race against the token's end per
 * event was the largest cost of fan-out after execution, and each race left a reaction on the
 * never-settling end promise for as long as the subscription stayed open.
 */
export function untilTokenEnds<T>(source: AsyncIterable<T>, principal: Principal, tokens: TokenWatch): AsyncIterableIterator<T> {
  return new UntilTokenEnds(source, principal, tokens);
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** A class, not closures per subscription: under tsx (keepNames) every named closure costs ~300 bytes while it lives. */
class UntilTokenEnds<T> implements AsyncIterableIterator<T> {
  private it: AsyncIterator<T>;
  /** The token's end, not yet reported to the consumer. */
  private ending: AppError | null = null;
  private finished = false;
  private failPending: ((err: AppError) => void) | null = null;
  private watch: { stop(): void } | null = null;

  constructor(source: AsyncIterable<T>, principal: Principal, tokens: TokenWatch) {
    this.it = source[Symbol.asyncIterator]();
    this.watch = tokens.watch(principal, (err) => {
      this.tokenEnded(err);
    });
    if (this.finished) this.watch.stop(); // it had ended already (an expiry in the past is reported at once)
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  private tokenEnded(err: AppError) {
    if (this.finished) return;
    this.finish();
    if (this.failPending) this.failPending(err);
    else this.ending = err;
    this.failPending = null;
    void this.it.return?.();
  }

  private finish() {
    if (this.finished) return;
    this.finished = true;
    this.watch?.stop();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.ending) {
      const err = this.ending;
      this.ending = null;
      return Promise.reject(err);
    }
    if (this.finished) return Promise.resolve(DONE);
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.failPending = reject;
      this.it.next().then(
        (r) => {
          this.failPending = null;
          if (r.done) this.finish();
          resolve(r);
        },
        (err: unknown) => {
          this.failPending = null;
          this.finish();
          // The source's own failure, passed on as it is (its type is the source's to choose).
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(err);
        },
      );
    });
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    this.finish();
    this.ending = null;
    await this.it.return?.();
    return DONE;
  }

  async throw(err: unknown): Promise<never> {
    this.finish();
    await this.it.return?.();
    throw err;
  }
}
