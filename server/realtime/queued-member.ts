import type { ExecutionResult } from 'graphql';
import { AppError } from '../errors.ts';
import { eventSize } from './event-bus.ts';
import { EventQueue } from './event-queue.ts';
import type { JobEventRecord } from '../jobs/job-event.ts';
import { MAX_PENDING_EVENTS, OVERFLOW } from './job-event-stream.ts';
import type { GroupMember, SubscriptionGroup, Turn } from './subscription-group.ts';

/**
 * A subscriber that reads its group's results as an async iterator (over SSE, through Yoga): they
 * wait in its own queue until taken. The results waiting are counted by their events' bytes and
 * number; past either bound (`maxPendingBytes`, MAX_PENDING_EVENTS) the subscription ends with
 * SUBSCRIBER_TOO_SLOW and the other members go on.
 */
export class QueuedMember extends EventQueue<ExecutionResult> implements GroupMember {
  /** The sizes of the results waiting, in order (head at `first`). */
  private sizes: number[] = [];
  private first = 0;
  private bytes = 0;

  constructor(
    private readonly group: SubscriptionGroup,
    private readonly maxPendingBytes: number,
  ) {
    super();
  }

  deliver(turn: Turn): void {
    for (let i = 0; i < turn.results.length; i++) {
      if (this.closed) return;
      const size = eventSize(turn.events[i] as JobEventRecord);
      this.bytes += size;
      this.sizes.push(size);
      if (this.bytes > this.maxPendingBytes || this.sizes.length - this.first > MAX_PENDING_EVENTS) {
        this.group.metrics.slowSubscribersClosed.inc();
        this.fail(new AppError('SUBSCRIBER_TOO_SLOW', OVERFLOW));
        return;
      }
      this.push(turn.results[i]);
    }
  }

  protected onStart() {}

  protected onTaken() {
    this.bytes -= this.sizes[this.first++];
    if (this.first === this.sizes.length) {
      this.sizes = [];
      this.first = 0;
    }
  }

  protected onClose() {
    this.group.leave(this);
    return Promise.resolve();
  }
}
