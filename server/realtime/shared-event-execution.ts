import type { Plugin } from '@envelop/core';
import { createSourceEventStream, type ExecutionArgs } from 'graphql';
import { QueuedMember } from './queued-member.ts';
import { GroupRegistry, SubscriptionGroup, type GroupMember, type GroupMetrics, type ShareableSource } from './subscription-group.ts';

/**
 * A root value that takes its operation's results itself (a WebSocket operation, see
 * http/websocket-server.ts): it joins the group as a member that writes each result to its
 * socket, and is what the subscription returns. Null when the group closed meanwhile.
 */
export interface PushTarget {
  joinGroup(group: SubscriptionGroup): (GroupMember & AsyncIterableIterator<never>) | null;
}

const isPushTarget = (x: unknown): x is PushTarget => typeof (x as Partial<PushTarget> | null)?.joinGroup === 'function';

/**
 * Replaces the executor's subscribe for subscriptions: the source stream is created as before
 * (the field's `subscribe`, with its authorization), and the subscriber then joins its group
 * (subscription-group.ts): subscribers that share the source's events, document, variables,
 * project and role share one source stream, one execution per event and one frame per event.
 * The source a later subscriber's `subscribe` created is dropped unread. Over WebSocket the
 * subscriber is pushed to (PushTarget); otherwise (SSE) it reads a queue of its own, within
 * `maxPendingBytes`. Requests the source stream refuses (bad variables, a failed `subscribe`)
 * take the executor's own path, so their errors read as before.
 */
export function sharedEventExecutionPlugin(metrics: GroupMetrics, maxPendingBytes: number): Plugin {
  const groups = new GroupRegistry();
  return {
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        // Envelop types the executor's arguments and results `any`; these are graphql's own.
        const executionArgs = args as ExecutionArgs;
        const stream = await createSourceEventStream(executionArgs);
        if (!(Symbol.asyncIterator in stream)) return subscribeFn(args) as unknown;
        const source = stream as AsyncIterable<unknown> & ShareableSource;
        for (;;) {
          const group = SubscriptionGroup.of(groups, source, executionArgs, metrics);
          // A group whose last member left in the meantime is closed: the next try makes a new one.
          if (isPushTarget(executionArgs.rootValue)) {
            const member = executionArgs.rootValue.joinGroup(group);
            if (member) return member;
          } else {
            const member = new QueuedMember(group, maxPendingBytes);
            if (group.join(member)) return member;
          }
        }
      });
    },
  };
}
