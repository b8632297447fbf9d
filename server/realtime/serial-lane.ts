type Work = () => void | Promise<void>;

/**
 * Runs work one piece at a time, in order: at once (synchronously) while nothing asynchronous is
 * running, otherwise after what runs and waits before it. An event stream's common case, an event
 * in order with nothing pending, so costs one function call; a gap fill or a replay from the
 * table makes the events behind it wait. The first failure stops the lane and is reported.
 */
export class SerialLane {
  private busy = false;
  private stopped = false;
  private backlog: Work[] = [];
  private head = 0;

  constructor(private onError: (err: unknown) => void) {}

  run<A>(work: (arg: A) => void | Promise<void>, arg: A): void {
    if (this.stopped) return;
    if (this.busy) {
      this.backlog.push(() => work(arg));
      return;
    }
    let result: void | Promise<void>;
    try {
      result = work(arg);
    } catch (err) {
      this.stop(err);
      return;
    }
    this.settle(result);
  }

  private call(work: Work): void | Promise<void> {
    try {
      return work();
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
          (err: unknown) => this.stop(err),
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
      const work = this.backlog[this.head];
      this.backlog[this.head++] = undefined as unknown as Work;
      result = this.call(work);
    }
  }

  private stop(err: unknown) {
    if (this.stopped) return;
    this.stopped = true;
    this.backlog = [];
    this.head = 0;
    this.onError(err);
  }
}
