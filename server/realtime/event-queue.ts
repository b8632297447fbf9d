const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * The items a subscriber has not taken yet, as an async iterator over a plain array: `push` is
 * synchronous and costs an array slot, and `next` hands out a waiting item without further
 * work. (A Repeater per subscription with a promise chain in front of it cost several promises
 * per event and subscriber, the largest cost of fan-out after the socket write.)
 *
 * `end()` completes the iteration once the waiting items are taken; `fail(err)` drops them and
 * rejects the next `next()` with `err`; `return()` (the consumer leaving) drops them. Each runs
 * `onClose` once. Subclasses are the producers. (Methods, not closures per instance: under tsx,
 * which keeps function names, every named closure costs about 300 bytes for as long as it lives.)
 */
export abstract class EventQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (err: unknown) => void } | null = null;
  private emptied: (() => void)[] | null = null;
  private started = false;
  private ending = false;
  private failure: { err: unknown } | null = null;
  private closing: Promise<void> | null = null;

  /** Runs at the first `next()` (nothing is set up for a stream that is never read). */
  protected abstract onStart(): void;
  /** An item was handed to the consumer. */
  protected abstract onTaken(item: T): void;
  /** Runs once when the queue ends for any reason (end, failure, or the consumer's `return`). */
  protected abstract onClose(): Promise<void>;

  /** True once the queue ended, failed or was returned: pushes are ignored. */
  get closed(): boolean {
    return this.closing !== null || this.ending;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  push(item: T): void {
    if (this.closed) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = null;
      this.onTaken(item);
      waiter.resolve({ done: false, value: item });
    } else this.items.push(item);
  }

  /** Resolves once every item pushed so far was taken (or the queue closed). */
  whenTaken(): Promise<void> {
    if (this.head === this.items.length || this.closing) return Promise.resolve();
    return new Promise((resolve) => (this.emptied ??= []).push(resolve));
  }

  /** Completes the iteration after the waiting items. */
  end(): void {
    if (this.closed) return;
    this.ending = true;
    if (this.head === this.items.length) void this.finish();
  }

  /** Ends the iteration with `err`, dropping what waits. */
  fail(err: unknown): void {
    if (this.closing) return;
    this.failure = { err };
    this.clear();
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) {
      this.failure = null;
      waiter.reject(err);
    }
    void this.finish();
  }

  next(): Promise<IteratorResult<T>> {
    if (!this.started) {
      this.started = true;
      if (!this.closing) this.onStart();
    }
    if (this.head < this.items.length) {
      const item = this.items[this.head];
      this.items[this.head++] = undefined as T;
      if (this.head === this.items.length) {
        this.clear();
        if (this.ending) void this.finish();
      } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      this.onTaken(item);
      return Promise.resolve({ done: false, value: item });
    }
    if (this.failure) {
      const { err } = this.failure;
      this.failure = null;
      // The producer's failure, passed on as it is.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(err);
    }
    if (this.closing) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    this.clear();
    this.failure = null;
    await this.finish();
    return DONE;
  }

  async throw(err: unknown): Promise<never> {
    await this.return();
    throw err;
  }

  private clear() {
    this.items = [];
    this.head = 0;
    const emptied = this.emptied;
    this.emptied = null;
    if (emptied) for (const resolve of emptied) resolve();
  }

  private finish(): Promise<void> {
    if (!this.closing) {
      // A failing clean-up (an unsubscribe while Redis is down) must not fail the consumer.
      this.closing = this.onClose().catch(() => {});
      const waiter = this.waiter;
      this.waiter = null;
      waiter?.resolve(DONE);
      this.clear();
    }
    return this.closing;
  }
}
