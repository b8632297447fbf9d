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

/** Connections corked in this tick, uncorked together once its work is done. */
let corked: Duplex[] = [];

function uncorkAll() {
  const streams = corked;
  corked = [];
  for (const stream of streams) stream.uncork();
}

/** Corks `stream` until the end of this tick (once per tick and stream). */
function corkForTick(stream: Duplex) {
  if (stream.writableCorked > 0) return;
  stream.cork();
  if (corked.length === 0) process.nextTick(uncorkAll);
  corked.push(stream);
}

/** Where graphql-ws holds a connection's operations (see attachWebSocketServer). */
export type Operations = Record<string, unknown>;

/**
 * Sends a subscription's results on its socket as graphql-ws `next` messages, written here
 * instead of by graphql-ws: one serialization per shared result, and no wait for each write's
 * callback while the socket's buffer is low. Once more than HIGH_WATER_BYTES wait unsent (a client
 * that reads slowly), the next result waits for its write to finish, so unread results stay in
 * the event stream, whose bound closes the connection (see LiveEventStream in job-event-stream.ts).
 *
 * Messages sent in one tick leave in one write: the connection (`stream`, the upgraded request's
 * socket) is corked at the first and uncorked once the tick's work is done (a burst of events
 * reaches a subscriber within one tick); one nextTick uncorks every connection written in the tick.
 *
 * Returns what graphql-ws iterates: it yields nothing and ends when the results end (graphql-ws
 * then sends `complete`) or throws their error (graphql-ws sends `error`). A result is sent only
 * while graphql-ws still holds the operation as this iterator (a client's `complete` removes it
 * before `return`); graphql-ws marks an operation it is starting with null.
 */
export function deliverOnSocket(
  results: AsyncIterable<ExecutionResult>,
  socket: WebSocket,
  stream: Duplex,
  id: string,
  operations: Operations,
): AsyncIterableIterator<never> {
  return new SocketDelivery(results, socket, stream, id, operations);
}

const DONE = { done: true, value: undefined } as IteratorReturnResult<undefined>;

/** A class, not closures per subscription: under tsx (keepNames) every named closure costs ~300 bytes while it lives. */
class SocketDelivery implements AsyncIterableIterator<never> {
  private it: AsyncIterator<ExecutionResult>;
  private prefix: string;
  private stopped = false;
  private pump: Promise<void>;

  constructor(
    results: AsyncIterable<ExecutionResult>,
    private socket: WebSocket,
    private stream: Duplex,
    private id: string,
    private operations: Operations,
  ) {
    this.it = results[Symbol.asyncIterator]();
    this.prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    this.pump = this.run();
    this.pump.catch(() => {}); // observed through next()
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next(): Promise<IteratorResult<never>> {
    return this.pump.then(() => DONE);
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    this.stopped = true;
    await this.it.return?.();
    return DONE;
  }

  async throw(err: unknown): Promise<never> {
    this.stopped = true;
    await this.it.return?.();
    throw err;
  }

  private isCurrent(): boolean {
    const op = this.operations[this.id];
    return op === null || op === this;
  }

  private async run(): Promise<void> {
    const socket = this.socket;
    for (;;) {
      const r = await this.it.next();
      if (r.done || this.stopped) return;
      if (socket.readyState !== socket.OPEN || !this.isCurrent()) continue;
      const frame = this.prefix + payloadOf(r.value) + '}';
      corkForTick(this.stream);
      if (socket.bufferedAmount < HIGH_WATER_BYTES) socket.send(frame);
      else await new Promise<void>((resolve) => socket.send(frame, () => resolve()));
    }
  }
}
