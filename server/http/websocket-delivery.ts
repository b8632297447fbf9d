import type { ExecutionResult } from 'graphql';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** Bytes a socket may hold unsent before the next result waits for them to leave. */
const HIGH_WATER_BYTES = 64 * 1024;

const payloads = new WeakMap<object, string>();

/**
 * The `payload` of a `next` message, serialized once per result: subscribers that share a result
 * (see shared-event-execution.ts) share its text, and only the message's id differs.
 */
function payloadOf(result: ExecutionResult): string {
  let json = payloads.get(result);
  if (json === undefined) {
    // What graphql-ws sends: the result, its errors in their JSON form (GraphQLError.toJSON).
    json = JSON.stringify(result);
    payloads.set(result, json);
  }
  return json;
}

/**
 * Sends a subscription's results on its socket as graphql-ws `next` messages, written here
 * instead of by graphql-ws: one serialization per shared result, and no wait for each write's
 * callback while the socket's buffer is low. Once more than HIGH_WATER_BYTES wait unsent (a client
 * that reads slowly), the next result waits for its write to finish, so unread results stay in
 * the event stream, whose bound closes the connection (see jobEventStream's pendingBound).
 *
 * Messages sent in one tick leave in one write: the connection (`stream`, the upgraded request's
 * socket) is corked at the first and uncorked once the tick's work is done (a burst of events
 * reaches a subscriber within one tick).
 *
 * Returns what graphql-ws iterates: it yields nothing and ends when the results end (graphql-ws
 * then sends `complete`) or throws their error (graphql-ws sends `error`). `isCurrent(self)` tells
 * whether graphql-ws still holds the operation (a client's `complete` removes it before `return`).
 */
export function deliverOnSocket(
  results: AsyncIterable<ExecutionResult>,
  socket: WebSocket,
  stream: Duplex,
  id: string,
  isCurrent: (self: AsyncIterableIterator<never>) => boolean,
): AsyncIterableIterator<never> {
  const it = results[Symbol.asyncIterator]();
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  let stopped = false;
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  const done = { done: true, value: undefined } as IteratorReturnResult<undefined>;
  const self = {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => pump.then(() => done),
    return: async () => {
      stopped = true;
      await it.return?.();
      return done;
    },
    throw: async (err: unknown) => {
      stopped = true;
      await it.return?.();
      throw err;
    },
  } as AsyncIterableIterator<never>;
  const pump = (async () => {
    for (;;) {
      const r = await it.next();
      if (r.done || stopped) return;
      if (socket.readyState !== socket.OPEN || !isCurrent(self)) continue;
      const frame = prefix + payloadOf(r.value) + '}';
      if (!corked) {
        corked = true;
        stream.cork();
        process.nextTick(uncork);
      }
      if (socket.bufferedAmount < HIGH_WATER_BYTES) socket.send(frame);
      else await new Promise<void>((resolve) => socket.send(frame, () => resolve()));
    }
  })();
  pump.catch(() => {}); // observed through next()
  return self;
}
