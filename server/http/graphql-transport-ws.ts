import { GraphQLError, OperationTypeNode, getOperationAST, type ExecutionArgs, type ExecutionResult } from 'graphql';
import {
  CloseCode,
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  MessageType,
  parseMessage,
  stringifyMessage,
  type Message,
  type SubscribePayload,
} from 'graphql-ws';

// The server side of the graphql-transport-ws protocol, as graphql-ws' makeServer speaks it (the
// same messages, checks, close codes and reasons; its parseMessage and stringifyMessage validate
// each message), for the hooks this server uses. makeServer kept, for each connection, a dozen
// closures and their scopes, and for each subscription its message handler suspended for the
// subscription's life with the message, the execution's arguments and three emit closures
// (~1.5 KB per idle subscription together). Here a connection is one object and a subscription's
// wait is a small async function of its own (`pump`) that holds its connection, id and iterator.

/** What a connection's hooks see of it: the shape of graphql-ws' context, read by the hooks as theirs. */
export interface ConnectionContext<E> {
  connectionInitReceived: boolean;
  acknowledged: boolean;
  /** The connection's operations by id: its Starting mark while one starts, then its iterator (a subscription's). */
  subscriptions: Record<string, AsyncIterable<ExecutionResult> | Starting>;
  connectionParams?: Readonly<Record<string, unknown>>;
  extra: E;
}

export interface ProtocolHooks<E> {
  /** A socket that sends no connection_init within this many ms is closed with 4408. */
  connectionInitWaitTimeout: number;
  /** False refuses the connection (4403, unless the hook closed the socket itself). */
  onConnect(ctx: ConnectionContext<E>): Promise<boolean> | boolean;
  /** The operation's execution arguments, or the errors to answer it with. */
  onSubscribe(ctx: ConnectionContext<E>, id: string, payload: SubscribePayload): Promise<ExecutionArgs | readonly GraphQLError[]>;
  /** A query's or mutation's result (an async iterable for an incremental one). */
  execute(args: ExecutionArgs): unknown;
  /** A subscription's results, or its one result when it could not start. */
  subscribe(args: ExecutionArgs): unknown;
  onClose(ctx: ConnectionContext<E>, code: number, reason: string): void;
}

/** A connection's socket as the protocol uses it. */
export interface ProtocolSocket {
  readonly protocol: string;
  /** Resolves once the message is written (at once when the socket is no longer open). */
  send(data: string): Promise<void>;
  close(code: number, reason: string): void;
  /** A hook failed while handling a message: logged, and the socket is closed with 4500. */
  fail(what: string, err: unknown): void;
  /** Logged only (the socket is closed already, or the failure is no client's concern). */
  logError(what: string, err: unknown): void;
}

/**
 * The record's value for an operation that is starting, one per operation: a client may complete an
 * operation that is starting and reuse its id at once, and each start must tell its own entry from
 * the next one's (else the first would take the second's place, and its subscription would never be
 * ended).
 */
export class Starting {
  readonly starting = true;
}

const isAsyncIterable = (x: unknown): x is AsyncIterable<ExecutionResult> =>
  typeof (Object(x) as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
const isAsyncGenerator = (x: unknown): x is AsyncGenerator<ExecutionResult> =>
  typeof x === 'object' && x !== null && isAsyncIterable(x) && typeof (x as { return?: unknown }).return === 'function';
const areGraphQLErrors = (x: unknown): x is readonly GraphQLError[] =>
  Array.isArray(x) && x.length > 0 && x.every((e) => e instanceof GraphQLError);

/** One socket's protocol state. `handle` each message's text; `closed` once the socket closed. */
export class ProtocolConnection<E> {
  readonly ctx: ConnectionContext<E>;
  private initWait: NodeJS.Timeout | null = null;

  constructor(
    private readonly socket: ProtocolSocket,
    extra: E,
    private readonly hooks: ProtocolHooks<E>,
  ) {
    this.ctx = { connectionInitReceived: false, acknowledged: false, subscriptions: Object.create(null) as never, extra };
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
    else if (hooks.connectionInitWaitTimeout > 0 && Number.isFinite(hooks.connectionInitWaitTimeout))
      this.initWait = setTimeout(initTimedOut, hooks.connectionInitWaitTimeout, this);
  }

  /** Closes the socket with 4408 unless connection_init came. */
  initTimedOut() {
    this.initWait = null;
    if (!this.ctx.connectionInitReceived) this.socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
  }

  /** Handles one message; rejects on a hook's failure (the caller closes the socket with 4500). */
  async handle(data: string): Promise<void> {
    if (this.socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) return;
    let message: Message;
    try {
      message = parseMessage(data);
    } catch {
      this.socket.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        return this.init(message.payload);
      case MessageType.Ping:
        return this.socket.send(
          stringifyMessage(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }),
        );
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        // Not awaited: a subscription's wait is pump's alone (see start), and this frame ends here.
        void this.start(message.id, message.payload);
        return;
      case MessageType.Complete: {
        const operation = this.ctx.subscriptions[message.id];
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the protocol's record of operations by id
        delete this.ctx.subscriptions[message.id];
        if (isAsyncGenerator(operation)) await operation.return(undefined);
        return;
      }
      default:
        throw new Error(`Unexpected message of type ${(message as { type: string }).type} received`);
    }
  }

  private async init(payload: unknown) {
    const ctx = this.ctx;
    if (ctx.connectionInitReceived) {
      this.socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
      return;
    }
    ctx.connectionInitReceived = true;
    if (this.initWait) clearTimeout(this.initWait);
    this.initWait = null;
    if (typeof payload === 'object' && payload !== null) ctx.connectionParams = payload as Record<string, unknown>;
    if (!(await this.hooks.onConnect(ctx))) {
      this.socket.close(CloseCode.Forbidden, 'Forbidden');
      return;
    }
    ctx.acknowledged = true;
    await this.socket.send(stringifyMessage({ type: MessageType.ConnectionAck }));
  }

  /**
   * Starts operation `id`; a subscription's results then go to its client from pump, which nothing
   * waits for: while a subscription idles, its connection keeps pump's frame (its connection, id
   * and iterator) and nothing else of the operation. A failure closes the socket with 4500.
   */
  private async start(id: string, payload: SubscribePayload): Promise<void> {
    try {
      const results = await this.operate(id, payload);
      if (results) void pump(this, id, results);
    } catch (err) {
      this.failed(err);
    }
  }

  /**
   * Answers operation `id` (its errors, or its one result and `complete`), or returns the
   * subscription's results, then held as the operation until pump ends them. The record of
   * operations is read afresh each time: the socket's close replaces it.
   */
  private async operate(id: string, payload: SubscribePayload): Promise<AsyncIterable<ExecutionResult> | null> {
    if (!this.ctx.acknowledged) {
      this.socket.close(CloseCode.Unauthorized, 'Unauthorized');
      return null;
    }
    if (id in this.ctx.subscriptions) {
      this.socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
      return null;
    }
    const starting = new Starting();
    this.ctx.subscriptions[id] = starting;
    /** Whether the operation is still this start's (not completed by the client, nor the socket closed). */
    const mine = () => this.ctx.subscriptions[id] === starting;
    try {
      const args = await this.hooks.onSubscribe(this.ctx, id, payload);
      if (areGraphQLErrors(args)) {
        if (mine()) await this.sendError(id, args);
        return null;
      }
      if (Array.isArray(args)) throw new Error('Invalid return value from onSubscribe hook, expected an array of GraphQLError objects');
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation) {
        if (mine()) await this.sendError(id, [new GraphQLError('Unable to identify operation')]);
        return null;
      }
      const result = await (operation.operation === OperationTypeNode.SUBSCRIPTION ? this.hooks.subscribe(args) : this.hooks.execute(args));
      if (isAsyncIterable(result)) {
        if (mine()) {
          this.ctx.subscriptions[id] = result;
          return result;
        }
        // Completed (or the socket closed) while it started: it ends here, unread.
        if (isAsyncGenerator(result)) result.return(undefined).catch((err: unknown) => this.socket.logError('ending an operation', err));
      } else if (mine()) await this.sendNext(id, result as ExecutionResult);
      await this.complete(id, starting);
      return null;
    } finally {
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the protocol's record of operations by id
      if (mine()) delete this.ctx.subscriptions[id];
    }
  }

  /** Handling a message failed (`what`: or the socket itself): the socket is closed with 4500. */
  failed(err: unknown, what = 'message handling') {
    this.socket.fail(what, err);
  }

  sendNext(id: string, result: ExecutionResult): Promise<void> {
    const { errors, ...rest } = result;
    return this.socket.send(
      stringifyMessage({
        id,
        type: MessageType.Next,
        payload: { ...rest, ...(errors ? { errors: errors.map((e) => e.toJSON()) } : {}) },
      }),
    );
  }

  sendError(id: string, errors: readonly GraphQLError[]): Promise<void> {
    return this.socket.send(stringifyMessage({ id, type: MessageType.Error, payload: errors.map((e) => e.toJSON()) }));
  }

  /** Sends `complete` for `id` if the operation is still `own` (the client did not complete it first). */
  async complete(id: string, own: unknown): Promise<void> {
    if (this.ctx.subscriptions[id] === own) await this.socket.send(stringifyMessage({ id, type: MessageType.Complete }));
  }

  /** The socket closed: its subscriptions end, then onClose (whatever their ends do). */
  async closed(code: number, reason: string): Promise<void> {
    if (this.initWait) clearTimeout(this.initWait);
    this.initWait = null;
    const operations = Object.values(this.ctx.subscriptions);
    this.ctx.subscriptions = Object.create(null) as never;
    const ended = await Promise.allSettled(operations.filter(isAsyncGenerator).map((operation) => operation.return(undefined)));
    for (const end of ended) if (end.status === 'rejected') this.socket.logError('ending an operation', end.reason);
    this.hooks.onClose(this.ctx, code, reason);
  }
}

function initTimedOut(connection: ProtocolConnection<unknown>) {
  connection.initTimedOut();
}

/**
 * A subscription's results to its client until it ends: `next` for each, then `complete`; `error`
 * if it throws. A failure to send closes the socket with 4500.
 */
async function pump<E>(connection: ProtocolConnection<E>, id: string, results: AsyncIterable<ExecutionResult>): Promise<void> {
  try {
    try {
      for await (const result of results) await connection.sendNext(id, result);
    } catch (err) {
      const originalError = err instanceof Error ? err : new Error(String(err));
      await connection.sendError(id, [new GraphQLError(originalError.message, { originalError })]);
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the protocol's record of operations by id
      if (connection.ctx.subscriptions[id] === results) delete connection.ctx.subscriptions[id];
    }
    await connection.complete(id, results);
  } catch (err) {
    connection.failed(err);
  } finally {
    // Its own entry only: the client may have completed it and started another under its id.
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the protocol's record of operations by id
    if (connection.ctx.subscriptions[id] === results) delete connection.ctx.subscriptions[id];
  }
}
