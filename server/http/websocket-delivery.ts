import type { ExecutionResult } from 'graphql';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { TokenWatch } from '../auth/token-watch.ts';
import type { Principal } from '../auth/tokens.ts';
import { AppError } from '../errors.ts';
import type { EndsItself } from './hardening.ts';
import { Starting } from './graphql-transport-ws.ts';
import { OVERFLOW } from '../realtime/job-event-stream.ts';
import type { GroupMember, SubscriptionGroup, Turn } from '../realtime/subscription-group.ts';

/** Of each result: its `next` frames, by operation id (subscribers that share a result mostly share an id too, e.g. "1"). */
const framesByResult = new WeakMap<object, Map<string, Buffer>>();
let last: { result: object | null; id: string; frame: Buffer } = { result: null, id: '', frame: Buffer.alloc(0) };
/** Of each turn (see Turn in realtime/subscription-group.ts): its results' frames one after another, by operation id. */
const bytesByTurn = new WeakMap<Turn, Map<string, Buffer>>();
let lastTurn: { turn: Turn | null; id: string; bytes: Buffer } = { turn: null, id: '', bytes: Buffer.alloc(0) };

/** How an error reads to the client: Yoga's maskError (see http/mask-error.ts), which results written here bypass. */
export type MaskError = (error: unknown, message: string) => Error;

/** The message Yoga's masked errors give `maskError` for an unexpected error (its default). */
const UNEXPECTED = 'Unexpected error.';

/**
 * The WebSocket frame of a graphql-ws `next` message carrying `result` for operation `id`, built
 * once per shared result and id (see shared-event-execution.ts) and written as it is to every
 * socket that shares them: no serialization, encoding or framing per subscriber. Its errors are
 * masked as Yoga masks a result it sends (over SSE): the frame does not go through Yoga.
 */
function nextFrame(result: ExecutionResult, id: string, mask: MaskError): Buffer {
  // The subscribers of a shared result take it one after another: the last frame is the likely one.
  if (result === last.result && id === last.id) return last.frame;
  let frames = framesByResult.get(result);
  if (frames === undefined) framesByResult.set(result, (frames = new Map<string, Buffer>()));
  let frame = frames.get(id);
  if (frame === undefined) {
    // What graphql-ws sends: the result, its errors (masked) in their JSON form (GraphQLError.toJSON).
    frames.set(id, (frame = textFrame(`{"id":${JSON.stringify(id)},"type":"next","payload":${JSON.stringify(masked(result, mask))}}`)));
  }
  last = { result, id, frame };
  return frame;
}

/**
 * The frames of a turn's results for operation `id`, in one buffer: built once per turn and id and
 * written as it is to every socket of the group, one write per socket and turn (not one per event).
 */
function turnBytes(turn: Turn, id: string, mask: MaskError): Buffer {
  if (turn === lastTurn.turn && id === lastTurn.id) return lastTurn.bytes;
  let byId = bytesByTurn.get(turn);
  if (byId === undefined) bytesByTurn.set(turn, (byId = new Map<string, Buffer>()));
  let bytes = byId.get(id);
  if (bytes === undefined) {
    const frames = turn.results.map((result) => nextFrame(result, id, mask));
    byId.set(id, (bytes = frames.length === 1 ? frames[0] : Buffer.concat(frames)));
  }
  lastTurn = { turn, id, bytes };
  return bytes;
}

/** Of each result with errors: the result as its subscribers see it, masked once (a mask logs the unexpected). */
const maskedResults = new WeakMap<object, ExecutionResult>();

/** `result` with its errors masked, once per result whatever its subscribers' operation ids. */
function masked(result: ExecutionResult, mask: MaskError): ExecutionResult {
  if (!result.errors) return result;
  let shown = maskedResults.get(result);
  if (shown === undefined)
    maskedResults.set(result, (shown = { ...result, errors: result.errors.map((e) => mask(e, UNEXPECTED)) as never }));
  return shown;
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

/** Connections corked in this tick, uncorked together once its work is done, with the bytes each held unsent when corked. */
let corked = new Map<Duplex, number>();

function uncorkAll() {
  const streams = corked;
  corked = new Map();
  for (const stream of streams.keys()) stream.uncork();
}

/**
 * Corks `stream` until the end of this tick (once per tick and stream), noting `unsent`: the bytes
 * it holds from earlier ticks. What this tick writes is not yet the kernel's to take.
 */
function corkForTick(stream: Duplex, unsent: number) {
  stream.cork();
  if (corked.size === 0) process.nextTick(uncorkAll);
  corked.set(stream, unsent);
}

/** Where the protocol holds a connection's operations (ConnectionContext.subscriptions in graphql-transport-ws.ts). */
export type Operations = Record<string, unknown>;

const DONE = { done: true, value: undefined } as IteratorReturnResult<undefined>;

/** What a subscriber cut off for not reading is told (the close frame's reason and its operation's error). */
export interface SlowSubscriberPolicy {
  /** Bytes a socket may hold unsent; past it the subscriber is cut off. */
  maxPendingBytes: number;
  /** Closes the socket (1008) with `reason`. */
  close(socket: WebSocket, reason: string): void;
}

/**
 * One WebSocket operation's place in its subscription group: the group hands it each turn's
 * results and it writes their graphql-ws `next` frames to the connection at once, synchronously,
 * in one write (built once per turn and operation id, see turnBytes): no event stream, iterator
 * or promise per subscriber and event. The frame goes to the stream (the upgraded request's socket) past
 * ws's sender, which writes its own messages (the protocol's `complete`, `error`, pongs) to the same
 * stream synchronously while no extension (compression) is in use, so messages keep their order;
 * with an extension negotiated, results go through ws as text.
 *
 * Messages written in one tick leave in one write: the connection is corked at the first and
 * uncorked once the tick's work is done. A client that stops reading: once more than the policy's
 * `maxPendingBytes` written in earlier ticks wait unsent on its connection, the socket is closed
 * with 1008 at the next write and the operation ends with SUBSCRIBER_TOO_SLOW, while the group's
 * other members go on.
 *
 * To the protocol (graphql-transport-ws.ts) it is the operation's iterator: it yields nothing, ends
 * when the group's results end (the protocol then sends `complete`) or throws their error (it sends
 * `error`), and its `return` (a client's `complete`, the socket's close) leaves the group; its
 * token's end fails it with the token's error (see endWith). A result is sent only while the
 * protocol still holds the operation (a client's `complete` removes it before `return`): as
 * `claimed`, or marked Starting while it starts. A class, not closures per subscription: under tsx (keepNames) every named closure costs
 * ~300 bytes while it lives.
 */
export class SocketMember implements GroupMember, AsyncIterableIterator<never>, EndsItself {
  private group: SubscriptionGroup | null = null;
  /** What the protocol holds for this operation once it started: the member, or the member behind envelop's wrappers (see endWith). */
  private claimed: unknown = null;
  /** No extension (compression) negotiated at the handshake: frames go to the stream as they are. */
  private readonly raw: boolean;
  private finished = false;
  private failure: { err: unknown } | null = null;
  private waiter: { resolve: (r: IteratorResult<never>) => void; reject: (err: unknown) => void } | null = null;
  /** Its token's watch and what its end releases, once the guard handed them over (see endWith). */
  private watch: { stop(): void } | null = null;
  private onEnd: (() => void) | null = null;
  private adopted = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly stream: Duplex,
    private readonly id: string,
    private readonly operations: Operations,
    private readonly policy: SlowSubscriberPolicy,
    private readonly mask: MaskError,
  ) {
    this.raw = socket.extensions === '';
  }

  /** Joins `group` (see PushTarget in shared-event-execution.ts). */
  joinGroup(group: SubscriptionGroup): this | null {
    if (!group.join(this)) return null;
    this.group = group;
    return this;
  }

  get joined(): boolean {
    return this.group !== null;
  }

  /**
   * From the guard (http/hardening.ts): the operation ends with the token's error when its token is
   * revoked or expires, and `onEnd` runs when it ends, however it ends. The protocol then holds the
   * member itself (see OperationRoot.subscribe), without envelop's wrappers, which the
   * subscription would keep for its life (~2 KB): their work is done here (the error masked as
   * Yoga masks a subscription's error, the slot released).
   */
  endWith(principal: Principal, tokens: TokenWatch, onEnd: () => void): void {
    this.adopted = true;
    this.onEnd = onEnd;
    this.watch = tokens.watch(principal, (err) => {
      this.fail(err);
    });
    if (this.finished) this.released();
  }

  get endsItself(): boolean {
    return this.adopted;
  }

  /** A failure as the client is to see it: masked here once the member ends itself (see endWith). */
  private shown(err: unknown): unknown {
    return this.adopted ? this.mask(err, UNEXPECTED) : err;
  }

  /** The operation as the protocol holds it. */
  claim(operation: unknown) {
    this.claimed = operation;
  }

  deliver(turn: Turn): void {
    const socket = this.socket;
    if (this.finished || socket.readyState !== socket.OPEN) return;
    const op = this.operations[this.id];
    if (!(op instanceof Starting) && op !== this.claimed) return;
    const stream = this.stream;
    // The bound counts what earlier ticks left unsent, not this tick's corked writes: a page of
    // stored events handed over at once (a replay, a gap fill, a catch-up) is written whole and
    // the client may read it; one that has not read the earlier ticks' writes is cut off.
    let unsent = corked.get(stream);
    if (unsent === undefined) corkForTick(stream, (unsent = this.raw ? stream.writableLength : socket.bufferedAmount));
    if (unsent > this.policy.maxPendingBytes) {
      this.cutOff();
      return;
    }
    if (this.raw) stream.write(turnBytes(turn, this.id, this.mask));
    else for (const result of turn.results) socket.send(frameText(nextFrame(result, this.id, this.mask)));
  }

  private cutOff() {
    this.group?.metrics.slowSubscribersClosed.inc();
    this.policy.close(this.socket, OVERFLOW);
    this.fail(new AppError('SUBSCRIBER_TOO_SLOW', OVERFLOW));
  }

  end(): void {
    this.settle(null);
  }

  fail(err: unknown): void {
    this.settle({ err });
  }

  private settle(failure: { err: unknown } | null) {
    if (this.finished) return;
    this.finished = true;
    this.group?.leave(this);
    this.released();
    const waiter = this.waiter;
    this.waiter = null;
    if (!waiter) this.failure = failure;
    else if (failure) waiter.reject(this.shown(failure.err));
    else waiter.resolve(DONE);
  }

  private released() {
    this.watch?.stop();
    this.watch = null;
    const onEnd = this.onEnd;
    this.onEnd = null;
    onEnd?.();
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next(): Promise<IteratorResult<never>> {
    if (this.failure) {
      const { err } = this.failure;
      this.failure = null;
      // The group's failure, passed on (masked once the member ends itself).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(this.shown(err));
    }
    if (this.finished) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorReturnResult<undefined>> {
    this.failure = null;
    this.settle(null);
    return Promise.resolve(DONE);
  }

  throw(err: unknown): Promise<never> {
    this.failure = null;
    this.settle(null);
    // Passed on as it is, as an iterator's throw does.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    return Promise.reject(err);
  }
}
