/** What a lane runs its work on, and tells of the first failure. */
export interface LaneOwner {
  fail(err: unknown): void;
}

type Work<O, A> = (this: O, arg: A) => void | Promise<void>;

/**
 * Runs work one piece at a time, in order: at once (synchronously) while nothing asynchronous is
 * running, otherwise after what runs and waits before it. An event stream's common case, an event
 * in order with nothing pending, so costs one method call; a gap fill or a replay from the table
 * makes the events behind it wait. Work is a method called on the owner (no closure per piece of
 * work or per lane); the first failure stops the lane and goes to the owner's `fail`.
 */
export class SerialLane<O extends LaneOwner> {
  private busy = false;
  private stopped = false;
  /** Work and its argument, in pairs. */
  private backlog: unknown[] = [];
  private head = 0;

  constructor(private owner: O) {}

  run<A>(work: Work<O, A>, arg: A): void {
    if (this.stopped) return;
    if (this.busy) this.backlog.push(work, arg);
    else this.settle(this.call(work as Work<O, unknown>, arg));
  }

  private call(work: Work<O, unknown>, arg: unknown): void | Promise<void> {
    try {
      return work.call(this.owner, arg);
    } catch (err) {
      this.stop(err);
    }
  }

  /** Continues with the backlog once `result` (the last work's) has settled. */
  private settle(result: void | Promise<void>): void {
    for (;;) {
      if (this.stopped) return;
      if (result) {
        this.busy = true;
        result.then(
          () => {
            this.busy = false;
            this.settle(undefined);
          },
          (err: unknown) => {
            this.stop(err);
          },
        );
        return;
      }
      if (this.head === this.backlog.length) {
        if (this.head > 0) {
          this.backlog = [];
          this.head = 0;
        }
        return;
      }
      const work = this.backlog[this.head] as Work<O, unknown>;
      const arg = this.backlog[this.head + 1];
      this.backlog[this.head++] = undefined;
      this.backlog[this.head++] = undefined;
      result = this.call(work, arg);
    }
  }

  private stop(err: unknown) {
    if (this.stopped) return;
    this.stopped = true;
    this.backlog = [];
    this.head = 0;
    this.owner.fail(err);
  }
}
