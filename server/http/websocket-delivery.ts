import type { ExecutionResult } from 'graphql';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/** Bytes a socket may hold unsent before the next result waits for them to leave. */
const HIGH_WATER_BYTES = 64 * 1024;

/** Of each result: its `next` frames, by operation id (subscribers that share a result mostly share an id too, e.g. "1"). */
const framesByResult = new WeakMap<object, Map<string, Buffer>>();
let last: { result: object | null; id: string; frame: Buffer } = { result: null, id: '', frame: Buffer.alloc(0) };

/**
 * The WebSocket frame of a graphql-ws `next` message carrying `result` for operation `id`, built
 * once per shared result and id (see shared-event-execution.ts) and written as it is to every
 * socket that shares them: no serialization, encoding or framing per subscriber.
 */
function nextFrame(result: ExecutionResult, id: string): Buffer {
  // The subscribers of a shared result take it one after another: the last frame is the likely one.
  if (result === last.result && id === last.id) return last.frame;
  let frames = framesByResult.get(result);
  if (frames === undefined) framesByResult.set(result, (frames = new Map<string, Buffer>()));
  let frame = frames.get(id);
  if (frame === undefined) {
    // What graphql-ws sends: the result, its errors in their JSON form (GraphQLError.toJSON).
    frames.set(id, (frame = textFrame(`{"id":${JSON.stringify(id)},"type":"next","payload":${JSON.stringify(result)}}`)));
  }
  last = { result, id, frame };
  return frame;
}

/** The text a frame of textFrame carries. */
function frameText(frame: Buffer): string {
  return frame.toString('utf8', frame[1] === 126 ? 4 : frame[1] === 127 ? 10 : 2);
}

/** An unmasked, final text frame (RFC 6455 5.2), as a server sends it. */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, text
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, header, 'utf8');
  return frame;
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
 * instead of by graphql-ws: one frame per shared result and operation id, written as it is to the
 * connection (`stream`, the upgraded request's socket), and no wait for each write's callback
 * while the socket's buffer is low. The frame goes to the stream past ws's sender, which writes
 * its own messages (graphql-ws' `complete`, `error`, pongs) to the same stream synchronously while
 * no extension (compression) is in use, so messages keep their order; with an extension
 * negotiated, results go through ws as text. Once more than HIGH_WATER_BYTES wait unsent (a client
 * that reads slowly), the next result waits for its write to finish, so unread results stay in
 * the event stream, whose bound closes the connection (see LiveEventStream in job-event-stream.ts).
 *
 * Messages sent in one tick leave in one write: the connection is corked at the first and uncorked
 * once the tick's work is done (a burst of events reaches a subscriber within one tick); one
 * nextTick uncorks every connection written in the tick.
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
  private stopped = false;
  private pump: Promise<void>;
  /** No extension (compression) negotiated at the handshake: frames go to the stream as they are. */
  private raw: boolean;

  constructor(
    results: AsyncIterable<ExecutionResult>,
    private socket: WebSocket,
    private stream: Duplex,
    private id: string,
    private operations: Operations,
  ) {
    this.it = results[Symbol.asyncIterator]();
    this.raw = socket.extensions === '';
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
      const frame = nextFrame(r.value, this.id);
      const stream = this.stream;
      corkForTick(stream);
      if (!this.raw) {
        const text = frameText(frame);
        if (socket.bufferedAmount < HIGH_WATER_BYTES) socket.send(text);
        else await new Promise<void>((resolve) => socket.send(text, () => resolve()));
      } else if (stream.writableLength < HIGH_WATER_BYTES) stream.write(frame);
      else await new Promise<void>((resolve) => stream.write(frame, () => resolve()));
    }
  }
}
