// A group hands its members the results of one turn of the event loop together: events that came
// in separate callbacks of the turn (commits read one after another) reach a member in one run,
// so a WebSocket connection writes them at once; in order, and before the group ends or fails.
import { buildSchema, GraphQLError, parse, type ExecutionArgs } from 'graphql';
import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.ts';
import { GroupRegistry, SubscriptionGroup, type GroupMember, type Turn } from './subscription-group.ts';

const schema = buildSchema('type Query { ok: Int } type Subscription { n: Int }');
const document = parse('subscription { n }');
const metrics = {
  subscriptionExecutions: { inc() {} },
  subscriptions: { inc() {}, dec() {} },
  slowSubscribersClosed: { inc() {} },
};

/** Events pushed by the test: the group's source (not shared, so each test has a group of its own). */
class Source extends EventQueue<{ n: number }> {
  protected onStart() {}
  protected onTaken() {}
  protected onClose() {
    return Promise.resolve();
  }
}

/** Records each result with the synchronous run it came in (a run ends at the next microtask). */
class Recorder implements GroupMember {
  readonly got: { n: number; run: number }[] = [];
  outcome: string | null = null;
  private run = 0;
  private counting = false;

  deliver(turn: Turn) {
    for (const result of turn.results) this.got.push({ n: (result.data as { n: number }).n, run: this.run });
    if (this.counting) return;
    this.counting = true;
    queueMicrotask(() => {
      this.run++;
      this.counting = false;
    });
  }
  end() {
    this.outcome = `end after ${this.got.length}`;
  }
  fail(err: GraphQLError) {
    this.outcome = `${err.message} after ${this.got.length}`;
  }
}

function group() {
  const source = new Source();
  const args: ExecutionArgs = { schema, document, contextValue: {} };
  const member = new Recorder();
  expect(SubscriptionGroup.of(new GroupRegistry(), source, args, metrics).join(member)).toBe(true);
  return { source, member };
}

const turn = () => new Promise((r) => setTimeout(r, 5));

describe("a subscription group's delivery", () => {
  it('hands the events of separate callbacks of one turn to its members in one run, in order', async () => {
    const { source, member } = group();
    await turn();
    // Three callbacks of one check phase, as the pg connections' results of one poll phase.
    await new Promise<void>((resolve) => {
      setImmediate(() => source.push({ n: 1 }));
      setImmediate(() => source.push({ n: 2 }));
      setImmediate(() => {
        source.push({ n: 3 });
        resolve();
      });
    });
    await turn();
    source.push({ n: 4 });
    await turn();
    expect(member.got.map((g) => g.n)).toEqual([1, 2, 3, 4]);
    const runs = member.got.map((g) => g.run);
    expect(runs[0]).toBe(runs[1]);
    expect(runs[1]).toBe(runs[2]);
    expect(runs[3]).toBeGreaterThan(runs[2]);
  });

  it("hands over the turn's results before its source's end or failure", async () => {
    const ended = group();
    const failed = group();
    await turn();
    ended.source.push({ n: 1 });
    ended.source.push({ n: 2 });
    ended.source.end();
    failed.source.push({ n: 1 });
    failed.source.fail(new GraphQLError('source failed'));
    await turn();
    expect(ended.member.got.map((g) => g.n)).toEqual([1, 2]);
    expect(ended.member.outcome).toBe('end after 2');
    // The group had taken event 1 (its source then dropped nothing): it goes out before the failure.
    expect(failed.member.got.map((g) => g.n)).toEqual([1]);
    expect(failed.member.outcome).toBe('source failed after 1');
  });
});
